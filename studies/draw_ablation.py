"""Which of kgan's DRAW-GAN stabilisers goes with the 5x5 model's collapse:
the 5x5 model of the `draw` study with each combination of the attention
numerics (`stabilisers`) and the global gradient-norm clip, for 4,900
iterations (a fifth of the paper's 24,500; the collapse showed by then)."""

from kgan.studies import Study
from kgan.studies.probes import sample_sharpness

STUDY = Study(
    name="draw_ablation",
    recipe="draw",
    base=dict(
        dataset="mnist",
        batch_size=100,
        latent_dim=100,
        ema=None,
        eval_n=10_000,
        attention_n=5,
        learning_rate=3.75e-4,
        beta_1=0.75,
        steps=4_900,
        sample_every=980,
    ),
    variants={
        "stabilised": {},
        "no_clip": dict(global_clipnorm=None),
        "bare_numerics": dict(stabilisers=False),
        "bare": dict(stabilisers=False, global_clipnorm=None),
    },
    seeds=(0, 1, 2),
    record=(
        "classes_covered",
        "confident_share",
        "frechet_distance",
        "swd_mean",
        "sharpness",
        "d_loss_tail_mean",
    ),
    probes=(sample_sharpness,),
    compare=(("bare", "stabilised"), ("no_clip", "stabilised")),
    description=__doc__
    + """
The records of seed 0 were migrated from `scripts/ablate_draw.py` (no
rerun); their loss curves are means of 10-step windows. `d_loss_tail_mean`
is the mean D loss over the last fifth of the steps (near log 4 = 1.39 the
discriminator cannot tell; far below, it wins). The earlier discussion is
in [../draw/analysis.md](../draw/analysis.md).
""",
)

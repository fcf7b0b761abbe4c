"""PSF vs LReLU, first protocol (2026-12-04): Radford's DCGAN at width 0.5
on the 8,000 embedded MNIST training digits and on Fashion-MNIST, 20,000
iterations, 3 seeds. Superseded by the `psf` study (width 1, MNIST's 50,000
digits); kept for its records, which were migrated from
`scripts/reproduce_psf.py` without a rerun."""

from kgan.studies import Study

STUDY = Study(
    name="psf_width05",
    recipe="dcgan",
    preset="radford",
    base=dict(width=0.5, psf_layers="most", sample_every=5_000, eval_n=10_000),
    variants={
        f"{short}_{activation}": dict(dataset=dataset, activation=activation)
        for short, dataset in {"mnist": "mnist", "fashion": "fashion_mnist"}.items()
        for activation in ("lrelu", "psf")
    },
    seeds=(0, 1, 2),
    record=(
        "frechet_distance",
        "kid",
        "classes_covered",
        "min_classes_covered",
        "kl_uniform",
        "confident_share",
        "swd_mean",
        "ms_ssim",
        "d_loss_volatility",
        "g_loss_volatility",
        "seconds_per_step",
    ),
    history_every=2_000,
    history_n=10_000,
    compare=(("mnist_psf", "mnist_lrelu"), ("fashion_psf", "fashion_lrelu")),
    claims=(
        (
            "PSF trains more stably late in training",
            "d_loss_volatility",
            "mnist_psf",
            "mnist_lrelu",
        ),
        (
            "PSF trains more stably late in training",
            "d_loss_volatility",
            "fashion_psf",
            "fashion_lrelu",
        ),
        (
            "PSF suffers less mode collapse",
            "min_classes_covered",
            "mnist_psf",
            "mnist_lrelu",
        ),
        (
            "PSF suffers less mode collapse",
            "min_classes_covered",
            "fashion_psf",
            "fashion_lrelu",
        ),
        (
            "PSF's images are as good as LReLU's",
            "frechet_distance",
            "mnist_psf",
            "mnist_lrelu",
            "similar",
        ),
        (
            "PSF's images are as good as LReLU's",
            "frechet_distance",
            "fashion_psf",
            "fashion_lrelu",
            "similar",
        ),
    ),  # fmt: skip
    description=__doc__
    + """
The D- and G-loss volatility of this protocol is the standard deviation of
the per-step loss over the last 20% of the steps (mostly batch noise; the
`psf` study adds window measures). The records' loss curves keep every 10th
step. The discussion of these runs, with the alphas and the figures of
`scripts/reproduce_psf.py`, is in [analysis.md](analysis.md).
""",
)

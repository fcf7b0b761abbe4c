"""PSF vs LReLU in Radford's DCGAN (Takinami, Tsunoda, Mitsui): the paper's
20,000 iterations of batch 64 on MNIST's 50,000 training digits, and on
Fashion-MNIST standing in for CIFAR-10 automobiles (not to be had offline)."""

from kgan.studies import Study

# Radford's DCGAN as the paper trains it (the dcgan recipe's "radford"
# preset: 20,000 iterations of batch 64, Adam 2e-4 / 0.5, N(0, 0.02)
# kernels, no generator average), at width 1 (64-128 filters; Radford's
# 1024-filter projection is width 8), PSF in all but D's first activation
# and G's projection.
BASE = dict(width=1.0, psf_layers="most", sample_every=5_000, eval_n=10_000)
DATASETS = {"mnist": "mnist_full", "fashion": "fashion_mnist"}

STUDY = Study(
    name="psf",
    recipe="dcgan",
    preset="radford",
    base=BASE,
    variants={
        f"{short}_{activation}": dict(dataset=dataset, activation=activation)
        for short, dataset in DATASETS.items()
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
        "d_loss_window_std",
        "d_loss_excursions",
        "g_loss_window_std",
        "seconds_per_step",
    ),
    history_every=1_000,
    history_n=2_000,
    compare=(("mnist_psf", "mnist_lrelu"), ("fashion_psf", "fashion_lrelu")),
    claims=(
        (
            "PSF trains more stably late in training",
            "d_loss_window_std",
            "mnist_psf",
            "mnist_lrelu",
        ),
        (
            "PSF trains more stably late in training",
            "d_loss_window_std",
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
    ),
    description=__doc__
    + """
Departures from the paper: width 1 (64-128 filters) instead of Radford's
1024-filter projection (width 8 costs 6.8 s a step here, 38 hours a run);
Fashion-MNIST instead of CIFAR-10 automobiles. The stability measures are
the std of 500-step window means of the D loss over the last fifth of
training (batch noise averaged away) and the count of 100-step windows
outside 3 robust standard deviations of their median (excursions); mode
collapse over training is the fewest classes covered at any probe of 2,000
samples every 1,000 iterations after the first.
""",
)

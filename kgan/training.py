"""`train`: one call that trains a GAN by steps and writes a complete run folder.

A run folder holds `config.json`, `samples/*.png`, `losses.csv`, `losses.png`,
`generator.keras` and `gan.keras`, and while training `backup/` for
`--resume`. Where the dataset has a classifier in `kgan/saved_models/`, it also
holds `metrics.json` (the final evaluation) and, with `eval_every`,
`metrics.csv`; PSF runs record every layer's alpha in `alpha.csv`.
"""

import dataclasses
import json
import pathlib

import keras
import numpy as np
import tensorflow as tf

from kgan import callbacks as gan_callbacks
from kgan import data as gan_data
from kgan.files import atomic_path
from kgan.losses import LOSSES
from kgan.models import DRAWGAN, GAN, dcgan, draw, vanilla
from kgan.models.draw import CELLS
from kgan.models.networks import ACTIVATIONS

MODELS = ("gan", "dcgan", "draw")
# Settings that differ by model, where the model's paper gives them; the
# dataclass defaults hold for the others.
MODEL_DEFAULTS = {
    "draw": {"batch_size": 100, "learning_rate": 3.75e-4, "beta_1": 0.75},
}
# Training images averaged for the DRAW generator's initial canvas.
CANVAS_INIT_IMAGES = 2000
STRATEGIES = ("mirrored",)


@dataclasses.dataclass
class TrainConfig:
    """Settings of one training run; every field is a `kgan train` option."""

    model: str = "dcgan"
    dataset: str = "mnist"
    activation: str = "lrelu"
    steps: int = 15000
    batch_size: int = 64
    seed: int = 0
    latent_dim: int = 100
    width: float = 1.0
    refine_layers: int = 1
    loss: str = "non_saturating"
    d_steps: int = 1
    learning_rate: float = 2e-4
    beta_1: float = 0.5
    ema: float | None = 0.999
    sample_every: int = 500
    eval_every: int = 0
    eval_n: int = 10000
    strategy: str | None = None
    jit_compile: bool = True
    attention_n: int = 5
    draw_steps: int = 6
    rnn_units: int = 256
    rnn_cell: str = "lstm"

    @classmethod
    def for_model(cls, model, **settings):
        """The config of `model` with its paper's defaults (`MODEL_DEFAULTS`),
        then `settings` on top."""
        return cls(model=model, **{**MODEL_DEFAULTS.get(model, {}), **settings})

    def validate(self):
        choices = {
            "model": MODELS,
            "activation": ACTIVATIONS,
            "loss": LOSSES,
            "strategy": STRATEGIES + (None,),
            "rnn_cell": tuple(CELLS),
        }
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ValueError(
                    f"Unknown {name}. Expected one of {list(allowed)}. "
                    f"Received: {name}={getattr(self, name)!r}"
                )
        names = ("steps", "batch_size", "latent_dim", "d_steps", "sample_every")
        names += ("eval_n", "draw_steps", "rnn_units")
        for name in names:
            value = getattr(self, name)
            if not isinstance(value, int) or value <= 0:
                raise ValueError(
                    f"`{name}` must be a positive integer. Received: {name}={value!r}"
                )
        if not isinstance(self.attention_n, int) or self.attention_n < 2:
            raise ValueError(
                "`attention_n` (the DRAW grid size) must be an integer >= 2. "
                f"Received: attention_n={self.attention_n!r}"
            )
        if not isinstance(self.refine_layers, int) or self.refine_layers < 0:
            raise ValueError(
                "`refine_layers` must be a non-negative integer. "
                f"Received: refine_layers={self.refine_layers!r}"
            )
        if not isinstance(self.eval_every, int) or self.eval_every < 0:
            raise ValueError(
                "`eval_every` must be a non-negative integer (0: evaluate only "
                f"at the end). Received: eval_every={self.eval_every!r}"
            )
        for name in ("width", "learning_rate"):
            if not getattr(self, name) > 0:
                raise ValueError(
                    f"`{name}` must be positive. "
                    f"Received: {name}={getattr(self, name)!r}"
                )


def steps_per_epoch(steps, target):
    """The largest divisor of `steps` not above `target`.

    Keras' BackupAndRestore resumes at epoch boundaries, so epochs must tile
    the requested steps exactly for a resumed run to end where asked.
    """
    return max(d for d in range(1, min(steps, target) + 1) if steps % d == 0)


def build_gan(config: TrainConfig, image_shape, images=None):
    """The networks and GAN trainer that `config` describes, compiled.

    Args:
        config: The run's settings.
        image_shape: `(H, W, C)` of the training images.
        images: Training images that set the DRAW generator's initial
            canvas (their mean image); other models ignore them.
    """
    common = dict(image_shape=image_shape, latent_dim=config.latent_dim)
    trainer = GAN
    if config.model == "gan":
        generator, discriminator = vanilla(activation=config.activation, **common)
    elif config.model == "draw":
        generator, discriminator = draw(
            n=config.attention_n,
            steps=config.draw_steps,
            units=config.rnn_units,
            cell=config.rnn_cell,
            **common,
        )
        if images is not None:
            generator.get_layer("g_canvas").initialize_from(images)
        trainer = DRAWGAN
    else:
        generator, discriminator = dcgan(
            width=config.width,
            refine_layers=config.refine_layers,
            activation=config.activation,
            synchronized_batchnorm=config.strategy is not None,
            **common,
        )
    gan = trainer(
        generator,
        discriminator,
        latent_dim=config.latent_dim,
        loss=config.loss,
        d_steps=config.d_steps,
        ema=config.ema,
        seed=config.seed,
    )

    def adam():
        return keras.optimizers.Adam(config.learning_rate, beta_1=config.beta_1)

    # XLA is not used under a strategy: its all-reduce of batch statistics
    # and gradients is not compiled into one program on CPU devices.
    jit = config.jit_compile and config.strategy is None
    gan.compile(g_optimizer=adam(), d_optimizer=adam(), jit_compile=jit)
    return gan


def check_first_batch(dataset):
    """Fails early on an empty dataset or images outside [-1, 1].

    Returns the image shape `(H, W, C)`, from which the networks are built
    (a shape they cannot take is rejected by the network builders).
    """
    try:
        batch = next(iter(dataset))
    except StopIteration as error:
        raise ValueError(
            "The dataset is empty: it yields no batch. Received: 0 batches"
        ) from error
    images = batch[0] if isinstance(batch, (tuple, list)) else batch
    images = np.asarray(images)
    low, high = float(images.min()), float(images.max())
    if not (np.isfinite(low) and np.isfinite(high)) or low < -1.0 or high > 1.0:
        raise ValueError(
            "Images must be scaled to [-1, 1] (the generator ends in tanh). "
            f"Received: range=[{low}, {high}]"
        )
    return images.shape[1:]


def _first_images(dataset, count):
    """Up to `count` images from the start of `dataset`, as one array."""
    batches, total = [], 0
    for batch in dataset:
        images = batch[0] if isinstance(batch, (tuple, list)) else batch
        batches.append(np.asarray(images))
        total += len(batches[-1])
        if total >= count:
            break
    return np.concatenate(batches)[:count]


def _strategy(name):
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


def _save_atomically(model, path):
    """Saves to a temporary file first: no half-written model is ever left."""
    with atomic_path(path) as partial:
        model.save(partial)


def prepare_run_dir(out, config, resume):
    """Creates `out`, or checks that a resumed run has the same settings."""
    out = pathlib.Path(out)
    config_path = out / "config.json"
    if config_path.exists():
        if not resume:
            raise ValueError(
                f"{out} already holds a run. Pass --resume to continue it or choose "
                f"another --out. Received: out={out}"
            )
        saved = json.loads(config_path.read_text())
        current = dataclasses.asdict(config)
        changed = {
            k: (saved.get(k), v) for k, v in current.items() if saved.get(k) != v
        }
        if changed:
            raise ValueError(
                "A resumed run must keep its settings; these differ from "
                f"{config_path}. Received: {changed}"
            )
    out.mkdir(parents=True, exist_ok=True)
    config_path.write_text(json.dumps(dataclasses.asdict(config), indent=2) + "\n")
    return out


def train(
    config: TrainConfig,
    out,
    resume=False,
    tensorboard=False,
    dataset=None,
    verbose="auto",
):
    """Trains a GAN for `config.steps` generator steps and writes the run folder.

    Args:
        config: The run's settings.
        out: Run folder.
        resume: Continue from `out/backup` after an interruption.
        tensorboard: Also write TensorBoard logs to `out/tensorboard`.
        dataset: Optional `tf.data.Dataset` of images in [-1, 1] used instead
            of `config.dataset` (tests, users' own pipelines).
        verbose: Keras `fit` verbosity (`"auto"` shows a progress bar).

    Returns:
        The trained `GAN`.
    """
    config.validate()
    dataset_given = dataset is not None
    out = prepare_run_dir(out, config, resume)
    keras.utils.set_random_seed(config.seed)
    strategy = _strategy(config.strategy)
    if dataset is None:
        dataset = gan_data.load(
            config.dataset,
            "train",
            batch_size=config.batch_size,
            seed=config.seed,
            drop_remainder=True,
        )
    image_shape = check_first_batch(dataset)
    images = None
    if config.model == "draw":
        images = _first_images(dataset, CANVAS_INIT_IMAGES)
    with strategy.scope():
        gan = build_gan(config, image_shape, images)

    chunk = steps_per_epoch(config.steps, min(config.sample_every, 500))
    tensorboard_dir = out / "tensorboard" if tensorboard else None
    callbacks = [
        gan_callbacks.BackupAndRestore(out / "backup"),
        gan_callbacks.StopOnNonFiniteLoss(),
        gan_callbacks.LossHistory(out / "losses.csv", out / "losses.png", chunk),
        gan_callbacks.SampleGrid(
            out / "samples",
            config.sample_every,
            seed=config.seed,
            tensorboard_dir=tensorboard_dir,
        ),
    ]
    evaluator = _evaluator(config, dataset_given)
    if evaluator is not None and config.eval_every:
        callbacks.append(
            gan_callbacks.Evaluate(
                evaluator,
                config.eval_every,
                n=config.eval_n,
                csv_path=out / "metrics.csv",
                seed=config.seed,
            )
        )
    if config.activation == "psf":
        callbacks.append(
            gan_callbacks.PSFAlphaHistory(out / "alpha.csv", chunk // 5 or 1)
        )
    if tensorboard:
        callbacks.append(
            keras.callbacks.TensorBoard(str(tensorboard_dir), update_freq=chunk)
        )
    gan.fit(
        dataset.repeat(),
        epochs=config.steps // chunk,
        steps_per_epoch=chunk,
        callbacks=callbacks,
        verbose=verbose,
        shuffle=False,
    )
    _save_atomically(gan.sampler, out / "generator.keras")
    _save_atomically(gan, out / "gan.keras")
    if evaluator is not None:
        metrics = evaluator.evaluate_generator(
            gan.sampler, n=config.eval_n, seed=config.seed
        )
        with atomic_path(out / "metrics.json") as partial:
            partial.write_text(json.dumps(metrics, indent=2) + "\n")
    return gan


def _evaluator(config, dataset_given):
    """The metrics of the run's dataset, if kgan has a classifier for it
    (and the data is kgan's, not a caller's own pipeline)."""
    from kgan.metrics.evaluate import Evaluator, has_classifier

    if dataset_given or not has_classifier(config.dataset):
        return None
    return Evaluator(config.dataset, seed=config.seed)

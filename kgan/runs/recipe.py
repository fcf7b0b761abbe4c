"""What every recipe shares: config fields that carry their help text and
bounds, their validation, and the `Recipe` interface the run loop calls."""

import abc
import dataclasses
import types
import typing

from kgan.runs.callbacks import global_step


def option(default, help, minimum=None, above=None, below=None, parse=None, aliases=()):
    """A config field: its default, help text and bounds, for `validate` and
    for the command line that `kgan.cli` generates.

    Args:
        default: The default value (a dict default is copied per config).
        help: One line for `--help`.
        minimum: Smallest allowed value, if any.
        above: A bound the value must exceed, if any.
        below: A bound the value must stay under, if any.
        parse: For the command line: a function from the option's text to
            the value, for types argparse cannot read (e.g. a dict).
        aliases: Further command-line flags of the field, e.g. `("--lr",)`.
    """
    metadata = {
        "help": help,
        "minimum": minimum,
        "above": above,
        "below": below,
        "parse": parse,
        "aliases": tuple(aliases),
    }
    if isinstance(default, dict):
        return dataclasses.field(
            default_factory=lambda: dict(default), metadata=metadata
        )
    return dataclasses.field(default=default, metadata=metadata)


def field_type(config_class, field):
    """`(base type, choices or None, whether None is allowed)` of a field."""
    hint = typing.get_type_hints(config_class)[field.name]
    optional = False
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        arguments = [a for a in typing.get_args(hint) if a is not type(None)]
        optional = len(arguments) < len(typing.get_args(hint))
        (hint,) = arguments
    if typing.get_origin(hint) is typing.Literal:
        choices = typing.get_args(hint)
        return type(choices[0]), choices, optional
    return hint, None, optional


def config_from_settings(config_class, settings):
    """The config of a run's `config.json`: its fields that `config_class`
    has (the model name and settings of older versions are left out)."""
    names = {field.name for field in dataclasses.fields(config_class)}
    return config_class(**{k: v for k, v in settings.items() if k in names})


def validate(config):
    """Checks every field of a config dataclass against its type, choices
    and bounds; raises `ValueError` naming the first bad one."""
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        kind, choices, optional = field_type(type(config), field)
        if value is None and optional:
            continue
        if choices is not None and value not in choices:
            raise ValueError(
                f"Unknown {field.name}. Expected one of {list(choices)}. "
                f"Received: {field.name}={value!r}"
            )
        numeric = kind is float and isinstance(value, int)
        if isinstance(value, bool) != (kind is bool) or not (
            isinstance(value, kind) or numeric
        ):
            raise ValueError(
                f"`{field.name}` must be of type {kind.__name__}"
                f"{' or None' if optional else ''}. "
                f"Received: {field.name}={value!r}"
            )
        minimum, above = field.metadata.get("minimum"), field.metadata.get("above")
        if minimum is not None and value < minimum:
            raise ValueError(
                f"`{field.name}` must be at least {minimum}. "
                f"Received: {field.name}={value!r}"
            )
        if above is not None and not value > above:
            raise ValueError(
                f"`{field.name}` must be above {above}. "
                f"Received: {field.name}={value!r}"
            )
        below = field.metadata.get("below")
        if below is not None and not value < below:
            raise ValueError(
                f"`{field.name}` must be below {below}. "
                f"Received: {field.name}={value!r}"
            )
    config.check()
    return config


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """The settings of the run loop that every recipe's config has."""

    seed: int = option(0, "seed of the weights, the noise and the data order")
    sample_every: int = option(500, "steps between sample grids", minimum=1)
    checkpoint_every: int = option(
        500, "steps between checkpoints (also written at every sample)", minimum=1
    )
    eval_every: int = option(
        0, "steps between evaluations while training (0: only at the end)", minimum=0
    )
    jit_compile: bool = option(
        True, "compile the train step with XLA", aliases=("--xla",)
    )

    def check(self):
        """Checks across fields; a recipe's config adds its own."""


class Recipe(abc.ABC):
    """How the run loop trains one model: a config class and four steps.

    A subclass sets `name`, `summary`, `config_class`, `trainer_file` (the
    trainer's file in the run folder), optionally `presets` (named sets of
    config values, `kgan train MODEL --preset NAME`, that explicit options
    still override) and implements the methods below. The
    run loop (`kgan.runs.run`) calls them; it owns the folder, checkpoints,
    logs, samples, evaluation, time budget and hook.
    """

    name = None
    summary = None
    config_class = None
    trainer_file = "trainer.keras"
    presets = {}

    @abc.abstractmethod
    def data(self, config):
        """The training data, a `kgan.runs.StepData`."""

    @abc.abstractmethod
    def build(self, config, data):
        """The compiled trainer (an `AdversarialModel`) for `data`."""

    @abc.abstractmethod
    def segment(self, config, trainer):
        """The part of training the trainer is in now, a `kgan.runs.Segment`,
        or `None` when training is complete."""

    @abc.abstractmethod
    def samples(self, config, trainer):
        """A uint8 grid image (H, W, C) of the generator's samples now."""

    def evaluator(self, config):
        """A callable `(trainer) -> dict of metrics`, or `None`."""
        return None

    def callbacks(self, config, folder):
        """Extra Keras callbacks of every `fit` chunk (e.g. the PSF alphas'
        record); they must allow several `fit` calls in a row."""
        return []

    def progress(self, config, trainer):
        """`(done, total, unit)` of the progress bar."""
        return global_step(trainer), config.steps, "steps"

"""The Compact GAN loop: gate, sparsify, prune, rebuild, retrain, repeat."""

import dataclasses
import pathlib
from typing import Literal

import keras
import numpy as np

from kgan.compress.gates import add_gates, gates, set_l1, size_weights, strip_gates
from kgan.compress.prune import pruning_plan, rebuild
from kgan.files import atomic_path


def _setting(default, help):
    """A field with its help text, for `kgan compress --help`."""
    return dataclasses.field(default=default, metadata={"help": help})


@dataclasses.dataclass
class SlimmingConfig:
    """Settings of `slim`.

    Attributes:
        target_ratio: Stop once the generator has at most this share of its
            original parameters. Defaults to 0.1 (10x fewer).
        prune_fraction: Share of the gated filters removed per round: the
            global threshold is this quantile of all `|s|` (network
            slimming's percentile rule), small so that one round never
            removes too much.
        min_filters: Filters every layer keeps at least.
        l1: Strength lambda of the L1 penalty on the gates.
        targets: What the generator's L1 loss pulls towards while the
            gates train and while it retrains. `"real"`: the ground-truth
            images, as in the paper. `"teacher"`: the original generator's
            outputs for the same label maps (knowledge distillation). A
            label map fixes the layout but not the textures and colours, so
            L1 to real images pulls towards their blurry average, which the
            frozen discriminator stops resisting; the teacher's output is a
            deterministic target the student can match.
        cost_weighting: `"uniform"`: every gate gets `l1`, as in the paper
            and network slimming. `"size"`: each layer's gates get `l1`
            times the relative cost of its filters (mean of parameters and
            MACs, see `size_weights`), so that pruning lowers latency and
            not only parameters.
        sparsity_steps: Steps training the gates alone under the penalty,
            the rest of the generator fixed, per round.
        gate_learning_rate: Adam learning rate of those steps; high enough
            that the gates of unneeded filters reach 0 within them.
        retrain_steps: Steps retraining the rebuilt generator (all its
            weights) against the frozen discriminator, per round.
        learning_rate: Adam learning rate (beta1 0.5) of the retraining.
        max_rounds: Give up after this many rounds.
    """

    target_ratio: float = _setting(0.1, "stop at this share of the original parameters")
    prune_fraction: float = _setting(
        0.3, "share of the gated filters removed per round"
    )
    min_filters: int = _setting(4, "filters every layer keeps at least")
    l1: float = _setting(1e-2, "L1 strength lambda on the gates")
    targets: Literal["real", "teacher"] = _setting(
        "real",
        "L1 towards the real images (the paper) or towards the original "
        "generator's outputs (distillation)",
    )
    cost_weighting: Literal["uniform", "size"] = _setting(
        "uniform",
        "L1 alike on every gate (the paper), or weighted by what each layer's "
        "filters cost in parameters and MACs",
    )
    sparsity_steps: int = _setting(200, "steps training the gates alone per round")
    gate_learning_rate: float = _setting(1e-2, "Adam learning rate of those steps")
    retrain_steps: int = _setting(500, "steps retraining the generator per round")
    learning_rate: float = _setting(2e-4, "Adam learning rate of the retraining")
    max_rounds: int = _setting(20, "give up after this many rounds")

    def validate(self):
        """Raises `ValueError` naming the first bad setting."""
        checks = [
            ("target_ratio", 0.0 < self.target_ratio < 1.0, "in (0, 1)"),
            ("prune_fraction", 0.0 < self.prune_fraction < 1.0, "in (0, 1)"),
            ("l1", self.l1 >= 0.0, "non-negative"),
            ("gate_learning_rate", self.gate_learning_rate > 0.0, "positive"),
            ("learning_rate", self.learning_rate > 0.0, "positive"),
        ]
        for name in ("min_filters", "max_rounds"):
            value = getattr(self, name)
            checks.append(
                (name, isinstance(value, int) and value >= 1, "a positive integer")
            )
        for name in ("sparsity_steps", "retrain_steps"):
            value = getattr(self, name)
            checks.append(
                (name, isinstance(value, int) and value >= 0, "a non-negative integer")
            )
        checks.append(
            (
                "cost_weighting",
                self.cost_weighting in ("uniform", "size"),
                "'uniform' or 'size'",
            )
        )
        checks.append(
            ("targets", self.targets in ("real", "teacher"), "'real' or 'teacher'")
        )
        for name, ok, expected in checks:
            if not ok:
                value = getattr(self, name)
                raise ValueError(
                    f"`{name}` must be {expected}. Received: {name}={value!r}"
                )
        return self


def global_threshold(model, fraction):
    """The gate magnitude at or below which `fraction` of all gated filters lie."""
    magnitudes = np.sort(
        np.concatenate(
            [
                np.abs(keras.ops.convert_to_numpy(g.scale.value))
                for g in gates(model).values()
            ]
        )
    )
    count = max(1, int(fraction * magnitudes.size))
    return float(magnitudes[count - 1])


def teacher_targets(data, teacher):
    """Replaces the images of `(conditions, images)` batches by `teacher`'s
    outputs (inference mode) for the same conditions."""
    return data.map(
        lambda conditions, _: (conditions, teacher(conditions, training=False))
    )


def check_trainer(train_generator):
    """Fails clearly when a network is passed where the retraining callable
    belongs (`slim` and `magnitude_prune` once took the discriminator)."""
    if isinstance(train_generator, keras.Model) or not callable(train_generator):
        raise TypeError(
            "Pass the generator's retraining as a callable, e.g. "
            "`kgan.models.pix2pix.frozen_discriminator_trainer(discriminator)`. "
            f"Received: train_generator={type(train_generator).__name__}"
        )


def slimming_round(generator, train_generator, data, config, fraction, verbose=0):
    """One round: returns the rebuilt, retrained, gate-free generator.

    The gates of a fresh gated copy of `generator` train alone under the
    L1 penalty; the filters at or below the global threshold go (at least
    `min_filters` kept per layer); the network is rebuilt smaller, its
    gates folded into the layers before them, and it retrains. Both
    trainings call `train_generator(generator, data, steps, optimizer,
    verbose=...)`, e.g. `frozen_discriminator_trainer(discriminator)`.
    `generator` is not changed.
    """
    gated = add_gates(generator, l1=config.l1)
    if config.cost_weighting == "size":
        found = gates(gated)
        for conv, weight in size_weights(gated).items():
            found[conv].l1 = config.l1 * weight
    gate_names = {gate.name for gate in gates(gated).values()}
    for layer in gated.layers:  # only the gates learn which filters matter
        layer.trainable = layer.name in gate_names
    sparsity = train_generator(
        gated,
        data,
        config.sparsity_steps,
        keras.optimizers.Adam(config.gate_learning_rate, beta_1=0.5),
        verbose=verbose,
    )
    for layer in gated.layers:
        layer.trainable = True
    threshold = global_threshold(gated, fraction)
    plan = pruning_plan(gated, threshold, config.min_filters)
    set_l1(gated, 0.0)
    smaller = strip_gates(rebuild(gated, plan))
    retrain = train_generator(
        smaller,
        data,
        config.retrain_steps,
        keras.optimizers.Adam(config.learning_rate, beta_1=0.5),
        verbose=verbose,
    )
    log = {
        "threshold": threshold,
        "filters": {conv: len(kept) for conv, kept in plan.items()},
        "sparsity": sparsity,
        "retrain": retrain,
    }
    return smaller, log


def slim(generator, train_generator, data, config=None, out_dir=None, on_round=None):
    """Slims `generator` round by round until the parameter target.

    Args:
        generator: The trained functional generator (not changed).
        train_generator: The retraining, a callable `(generator, data,
            steps, optimizer, callbacks=(), verbose=0) -> last losses`;
            the paper's is `frozen_discriminator_trainer(discriminator)`
            of `kgan.models.pix2pix`.
        data: A repeating `tf.data.Dataset` of `(conditions, images)`.
        config: A `SlimmingConfig`; defaults to its defaults.
        out_dir: If given, each round's generator is saved there as
            `round_<k>.keras` (gate-free, ready to export).
        on_round: Optional `fn(round, generator) -> dict` whose result is
            added to the round's record, e.g. quality metrics.

    Returns:
        A list of records, one per round: `round`, `parameters`, `ratio`
        (to the original), `threshold`, kept `filters` per layer, the last
        losses, `path` and what `on_round` returned. The generators are
        `records[k]["generator"]`.
    """
    check_trainer(train_generator)
    config = (config or SlimmingConfig()).validate()
    original = generator.count_params()
    if config.targets == "teacher":
        data = teacher_targets(data, generator)
    records, current = [], generator
    ratio = 1.0
    for round_index in range(1, config.max_rounds + 1):
        # Parameters fall about as the square of the kept share of filters:
        # aim the last round at the target rather than far below it.
        needed = 1.0 - (config.target_ratio / ratio) ** 0.5 + 0.02
        fraction = min(config.prune_fraction, needed)
        current, log = slimming_round(current, train_generator, data, config, fraction)
        record = {"round": round_index, "parameters": current.count_params()}
        ratio = record["parameters"] / original
        record.update(ratio=ratio, fraction=fraction, **log)
        if out_dir is not None:
            path = pathlib.Path(out_dir) / f"round_{round_index}.keras"
            with atomic_path(path) as partial:
                current.save(partial)
            record["path"] = str(path)
        if on_round is not None:
            record.update(on_round(round_index, current))
        record["generator"] = current
        records.append(record)
        print(
            f"round {round_index}: {record['parameters']:,} parameters "
            f"({record['ratio']:.3f} of {original:,})",
            flush=True,
        )
        if ratio <= config.target_ratio:
            return records
    raise RuntimeError(
        f"The generator did not reach {config.target_ratio} of its parameters in "
        f"{config.max_rounds} rounds. Received: ratio={records[-1]['ratio']:.3f}"
    )

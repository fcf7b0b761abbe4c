"""The Compact GAN loop: gate, sparsify, prune, rebuild, retrain, repeat."""

import dataclasses
import json
import pathlib
from typing import Literal

import keras
import numpy as np
import tensorflow as tf

from kgan.checkpoint import Checkpoint
from kgan.compress.batch_norm import recalibrate_batch_norm
from kgan.compress.gates import (
    add_gates,
    gate_groups,
    mac_weights,
    set_l1,
    strip_gates,
)
from kgan.compress.graph import check_slimmable
from kgan.compress.prune import rebuild, round_plan
from kgan.compress.retraining import check_batches, trainer_for
from kgan.files import atomic_path
from kgan.layers.scaling_gate import ScalingGate

STATE_FILE = "slimming.json"


def _setting(default, help, aliases=()):
    """A field with its help text, for `kgan compress --help`."""
    return dataclasses.field(
        default=default, metadata={"help": help, "aliases": aliases}
    )


@dataclasses.dataclass
class SlimmingConfig:
    """Settings of `slim`.

    Attributes:
        target_ratio: Stop once the generator has at most this share of its
            original parameters. Defaults to 0.1 (10x fewer).
        gate_phase: How the gates learn which filters matter, each round.
            `"joint"`: the whole GAN trains, all of G with `l1 * sum|s|`
            added to its loss and D learning as usual: the paper's Eq. (2),
            `min_G max_D V(D, G) + lambda * sum F(alpha)`. `"gates_only"`:
            the gates alone train, the rest of G and all of D frozen
            (kgan's first version; quicker, but D never sees the thinning
            generator).
        threshold: Channels whose `|s|` is at most this go; the paper's
            small threshold, so that one round never removes many.
        max_prune_fraction: At most this share of the gated channels goes
            per round (the smallest `|s|` first), however many are below
            the threshold; the last round is aimed at the target.
        min_filters: Filters every layer keeps at least.
        l1: Strength lambda of the L1 penalty on the gates.
        retrain_l1: Keep the penalty on, and the gates learning, while the
            rebuilt generator retrains against the frozen D, so that the
            factors keep falling across rounds.
        targets: What pix2pix's L1 loss pulls towards. The paper's
            objective has no pixel loss; the L1 term is pix2pix's, kept
            because the generator was trained with it. `"real"`: the
            ground-truth images, as in pix2pix. `"teacher"`: the original
            generator's outputs for the same label maps (knowledge
            distillation, kgan's addition): a label map fixes the layout but
            not the textures and colours, so L1 to real images pulls
            towards their blurry average; the teacher's output is a
            deterministic target the student can match.
        cost_weighting: `"macs"`: each gate gets `l1` times the relative
            cost of one of its channels, the MACs it adds in the
            convolutions that make it and in those that take it, at their
            resolutions (see `mac_weights`; their channel mean is 1), so that
            pruning lowers latency and not only parameters. `"none"`: every
            gate gets `l1`, as in the paper and network slimming.
        channel_multiple: Kept widths are multiples of this (the channels
            with the largest gates stay), the widths CPU kernels run
            fastest; a residual block whose inner width would fall below
            one multiple becomes an identity. `1` keeps any width.
        sparsity_steps: Steps of the gate phase per round.
        gate_learning_rate: Adam learning rate of the gate factors, in
            every phase; high enough that the factors of unneeded channels
            reach the threshold within a few rounds.
        retrain_steps: Steps retraining the rebuilt generator (all its
            weights) against the frozen discriminator, per round.
        learning_rate: Adam learning rate (beta1 0.5) of the generator's
            other weights and of the discriminator.
        recalibration_batches: Training batches over which the BatchNorm
            statistics are measured afresh at the end of each round (see
            `recalibrate_batch_norm`): the gates move faster than the moving
            averages follow, and without it the first ResNet round scored
            mIoU 0.10 in inference mode against 0.39 recalibrated.
        max_rounds: Give up after this many rounds.
        checkpoint_every: Steps between checkpoints within a phase, when
            `slim` has an output folder: a slimming killed at any moment
            resumes from its last one.
    """

    target_ratio: float = _setting(
        0.1, "stop at this share of the original parameters", ("--target",)
    )
    gate_phase: Literal["joint", "gates_only"] = _setting(
        "joint",
        "train the whole GAN with the gate penalty, D learning (the paper's "
        "Eq. 2), or the gates alone against a frozen D",
    )
    threshold: float = _setting(1e-2, "channels with |s| at most this go")
    max_prune_fraction: float = _setting(
        0.1, "share of the gated channels one round removes at most"
    )
    min_filters: int = _setting(4, "filters every layer keeps at least")
    l1: float = _setting(1e-2, "L1 strength lambda on the gates")
    retrain_l1: bool = _setting(
        True, "keep the penalty on while the generator retrains"
    )
    targets: Literal["real", "teacher"] = _setting(
        "real",
        "pix2pix's L1 towards the real images, or towards the original "
        "generator's outputs (distillation, kgan's); the paper has no L1",
    )
    cost_weighting: Literal["macs", "none"] = _setting(
        "macs",
        "weight each gate's L1 by the MACs one of its channels costs, or "
        "none: L1 alike on every gate (the paper)",
    )
    channel_multiple: int = _setting(
        8, "kept widths are multiples of this (1: any width)"
    )
    sparsity_steps: int = _setting(200, "steps of the gate phase per round")
    gate_learning_rate: float = _setting(1e-2, "Adam learning rate of the gates")
    retrain_steps: int = _setting(500, "steps retraining the generator per round")
    learning_rate: float = _setting(2e-4, "Adam learning rate of the rest")
    recalibration_batches: int = _setting(
        100, "batches re-estimating the BatchNorm statistics after each round"
    )
    max_rounds: int = _setting(40, "give up after this many rounds")
    checkpoint_every: int = _setting(
        50, "steps between checkpoints within a phase (with an output folder)"
    )

    def validate(self):
        """Raises `ValueError` naming the first bad setting."""
        checks = [
            ("target_ratio", 0.0 < self.target_ratio < 1.0, "in (0, 1)"),
            ("max_prune_fraction", 0.0 < self.max_prune_fraction < 1.0, "in (0, 1)"),
            ("threshold", self.threshold >= 0.0, "non-negative"),
            ("l1", self.l1 >= 0.0, "non-negative"),
            ("gate_learning_rate", self.gate_learning_rate > 0.0, "positive"),
            ("learning_rate", self.learning_rate > 0.0, "positive"),
        ]
        for name in (
            "min_filters",
            "max_rounds",
            "channel_multiple",
            "checkpoint_every",
        ):
            value = getattr(self, name)
            checks.append(
                (name, isinstance(value, int) and value >= 1, "a positive integer")
            )
        for name in ("sparsity_steps", "retrain_steps", "recalibration_batches"):
            value = getattr(self, name)
            checks.append(
                (name, isinstance(value, int) and value >= 0, "a non-negative integer")
            )
        for name, choices in (
            ("gate_phase", ("joint", "gates_only")),
            ("cost_weighting", ("macs", "none")),
            ("targets", ("real", "teacher")),
        ):
            expected = " or ".join(repr(c) for c in choices)
            checks.append((name, getattr(self, name) in choices, expected))
        for name, ok, expected in checks:
            if not ok:
                value = getattr(self, name)
                raise ValueError(
                    f"`{name}` must be {expected}. Received: {name}={value!r}"
                )
        return self


def teacher_targets(data, teacher):
    """Replaces the images of `(conditions, images)` batches by `teacher`'s
    outputs (inference mode) for the same conditions."""
    return data.map(
        lambda conditions, _: (conditions, teacher(conditions, training=False))
    )


def _adam(learning_rate):
    return keras.optimizers.Adam(learning_rate, beta_1=0.5)


def _weigh_gates(gated, config):
    set_l1(gated, config.l1)
    if config.cost_weighting == "macs":
        weights = mac_weights(gated)
        for gate, _ in gate_groups(gated):
            gate.l1 = config.l1 * weights[gate.name]


def _phase_trainer(gated, train_generator, config, phase):
    """The compiled trainer of one phase of a round on `gated`, with fresh
    Adam optimizers: the gate phase as `config.gate_phase` says (`"joint"`:
    the whole GAN, the gates at their own rate; `"gates_only"`: the gates
    alone against the frozen discriminator), or the retraining of the
    rebuilt generator against the frozen discriminator."""
    trainer = train_generator.make_trainer(gated, train_generator.discriminator)
    joint = phase == "gates" and config.gate_phase == "joint"
    gates_only = phase == "gates" and not joint
    for layer in gated.layers:
        layer.trainable = not gates_only or isinstance(layer, ScalingGate)
    rate = config.gate_learning_rate if gates_only else config.learning_rate
    trainer.compile(g_optimizer=_adam(rate), d_optimizer=_adam(config.learning_rate))
    if not gates_only and (phase == "gates" or config.retrain_l1):
        trainer.use_gate_optimizer(_adam(config.gate_learning_rate))
    if not joint:
        trainer.freeze_discriminator()
    return trainer


class _PhaseCheckpoints(keras.callbacks.Callback):
    """Saves the phase's state every `every` steps, with the mean losses of
    the steps since the last save: means over whole chunks, which a resumed
    phase (its `fit` restarted at a save) reports as the uninterrupted one."""

    def __init__(self, checkpoint, counters, every):
        super().__init__()
        self.checkpoint, self.counters, self.every = checkpoint, counters, every

    def on_train_begin(self, logs=None):
        self.steps, self.totals = 0, {}

    def on_train_batch_end(self, batch, logs=None):
        self.steps += 1
        self.counters["step"] += 1
        self.counters["phase_step"] += 1
        totals = {k: float(v) * self.steps for k, v in (logs or {}).items()}
        if self.counters["phase_step"] % self.every and not self._phase_ends():
            return
        done = self.steps - self.totals.get("steps", 0)
        self.counters["losses"] = {
            k: (total - self.totals.get(k, 0.0)) / done for k, total in totals.items()
        }
        self.totals = {**totals, "steps": self.steps}
        if self.checkpoint is not None:
            self.checkpoint.save(self.model, self.counters)

    def _phase_ends(self):
        return self.counters["phase_step"] == self.counters["phase_steps"]


def _train_phase(trainer, data, counters, checkpoint, config, verbose):
    """Trains `trainer` from `counters["phase_step"]` to the phase's end;
    returns the mean losses of its last `checkpoint_every` steps."""
    left = counters["phase_steps"] - counters["phase_step"]
    if left > 0:
        trainer.fit(
            data.skip(counters["phase_step"]),
            steps_per_epoch=left,
            epochs=1,
            callbacks=[
                _PhaseCheckpoints(checkpoint, counters, config.checkpoint_every)
            ],
            verbose=verbose,
        )
    return counters.get("losses", {})


def _gate_scales(gated):
    return np.concatenate(
        [
            np.abs(keras.ops.convert_to_numpy(g.scale.value))
            for g, _ in gate_groups(gated)
        ]
    )


def _aimed_fraction(config, ratio):
    # Parameters fall about as the square of the kept share of channels:
    # aim the last round at the target rather than far below it.
    needed = 1.0 - (config.target_ratio / ratio) ** 0.5 + 0.01
    return max(1e-6, min(config.max_prune_fraction, needed))


class _Progress:
    """The rounds recorded so far in `out_dir/slimming.json`, with the
    settings stages they ran under."""

    def __init__(self, out_dir):
        self.folder = None if out_dir is None else pathlib.Path(out_dir)

    def path(self, name):
        return self.folder / name

    def load(self, config, change_settings):
        """The finished records, and the settings stages so far: `[{"first_round",
        "config"}]`, one more when resuming with `change_settings`."""
        if self.folder is None or not self.path(STATE_FILE).is_file():
            return [], [{"first_round": 1, "config": dataclasses.asdict(config)}]
        state = json.loads(self.path(STATE_FILE).read_text())
        records = state["records"]
        stages = state.get("stages") or [{"first_round": 1, "config": state["config"]}]
        current = dataclasses.asdict(config)
        if current != stages[-1]["config"]:
            changed = sorted(
                k for k, v in current.items() if stages[-1]["config"][k] != v
            )
            if not change_settings:
                raise ValueError(
                    "The folder holds a slimming with other settings; resume it with "
                    "those, pass change_settings=True (`--change-settings`) to go on "
                    "with the new ones from the next round, or choose another "
                    f"folder. Received: changed={changed}, folder={self.folder}"
                )
            stages.append({"first_round": len(records) + 1, "config": current})
        return records, stages

    def write(self, stages, records):
        state = {"config": stages[-1]["config"], "stages": stages, "records": records}
        with atomic_path(self.path(STATE_FILE)) as partial:
            partial.write_text(json.dumps(state, indent=2, default=float) + "\n")


class _Phases:
    """The phases of the rounds, saved by one `Checkpoint` in
    `out_dir/checkpoint` (nothing is saved without `out_dir`): at the start
    of each phase the generator as it then is (its architecture changes at
    each rebuild), and every `checkpoint_every` steps the whole trainer
    (both networks, the optimizers, the noise state) with the counters."""

    def __init__(self, out_dir, train_generator, config):
        self.train_generator, self.config = train_generator, config
        self.checkpoint = None
        if out_dir is not None:
            self.checkpoint = Checkpoint(pathlib.Path(out_dir) / "checkpoint")

    def saved_state(self):
        if self.checkpoint is None or not self.checkpoint.exists():
            return None
        return self.checkpoint.counters()

    def begin(self, gated, phase, steps, counters):
        """The trainer of a new phase on `gated`, saved as it starts."""
        counters.update(phase=phase, phase_step=0, phase_steps=steps, losses={})
        counters["generator"] = f"round_{counters['round']}_{phase}.keras"
        trainer = _phase_trainer(gated, self.train_generator, self.config, phase)
        if self.checkpoint is not None:
            previous = self.saved_state()
            path = self.checkpoint.directory / counters["generator"]
            with atomic_path(path) as partial:
                gated.save(partial)
            self.checkpoint.save(trainer, counters)
            if previous is not None and previous["generator"] != counters["generator"]:
                (self.checkpoint.directory / previous["generator"]).unlink(
                    missing_ok=True
                )
        return trainer

    def restore(self, counters):
        """`(trainer, gated generator)` of the saved phase, as it was saved;
        `counters` gets the saved ones."""
        path = self.checkpoint.directory / counters["generator"]
        gated = keras.saving.load_model(path, compile=False)
        trainer = _phase_trainer(
            gated, self.train_generator, self.config, counters["phase"]
        )
        counters.update(self.checkpoint.restore(trainer))
        return trainer, gated

    def recalibrate(self, gated, data):
        inputs = self.train_generator.generator_inputs(data)
        recalibrate_batch_norm(gated, inputs, self.config.recalibration_batches)


def _show_progress(ratio, target, round_index):
    """A bar of the way to the parameter target, in the log of the ratio
    (each round removes about a constant share)."""
    bar = keras.utils.Progbar(100, unit_name="% of the way to the target")
    done = min(100, int(100 * np.log(ratio) / np.log(target)))
    bar.update(done, [("round", round_index), ("ratio", ratio)], finalize=True)


def _repeating(data):
    """`data`, repeated if it is finite: a round takes as many batches as
    its settings say."""
    if isinstance(data, tf.data.Dataset) and data.cardinality() >= 0:
        return data.repeat()
    return data


def slim(
    generator,
    discriminator,
    data,
    config=None,
    out_dir=None,
    on_round=None,
    verbose=0,
    after_round=None,
    change_settings=False,
    require_target=True,
    l1_weight=100.0,
):
    """Slims `generator` round by round until the parameter target.

    Works on any functional generator that `check_slimmable` accepts, with
    the trainings `trainer_for` picks from the networks' shapes: a
    generator of latent vectors trains as a GAN, one of images from
    condition maps as pix2pix.

    Args:
        generator: The trained functional generator (not changed).
        discriminator: Its trained discriminator (not changed: a copy
            learns in the gate phases and judges the retraining; it is
            saved after every round so that a slimming can be resumed).
        data: A `tf.data.Dataset` of training batches: images for a
            generator of latent vectors, `(conditions, images)` pairs for a
            conditional one; repeated if finite.
        config: A `SlimmingConfig`; defaults to its defaults.
        out_dir: If given, each round's gate-free generator is saved there
            as `round_<k>.keras`, the records in `slimming.json`, and the
            phases in `checkpoint/` (see `checkpoint_every`): a slimming
            killed at any moment and called again with the same folder and
            settings resumes from its last checkpoint, exactly when `data`
            yields the same batches each time it is iterated.
        on_round: Optional `fn(round, generator) -> dict` whose result is
            added to the round's record, e.g. quality metrics.
        verbose: Progress bars of the trainings (0: none).
        after_round: Optional `fn(records)` called when a round is done
            and saved, with the records so far (without generators), e.g.
            to write a table as each round lands.
        change_settings: Resuming with other settings than the folder's is
            an error unless this is set; then the next rounds run with the
            new ones (e.g. a stronger `l1` or more `max_rounds` after a
            stall), `slimming.json` lists the stages and each record the
            `settings` in which it differs from the first stage.
        require_target: Raise `RuntimeError` when `max_rounds` end above
            `target_ratio`; if `False`, return the records so far.
        l1_weight: pix2pix's L1 weight, for a conditional generator.

    Returns:
        A list of records, one per round: `round`, `parameters`, `ratio`
        (to the original), channels removed, kept `filters` per layer, the
        last losses, `path` and what `on_round` returned. The generators are
        `records[k]["generator"]` (gate-free).
    """
    config = (config or SlimmingConfig()).validate()
    check_slimmable(generator)
    train_generator = trainer_for(generator, discriminator, l1_weight)
    data = _repeating(data)
    check_batches(data, generator, train_generator.conditional)
    if config.targets == "teacher":
        if not train_generator.conditional:
            raise ValueError(
                "targets='teacher' replaces pix2pix's L1 targets; a generator of "
                "latent vectors has none. Received: targets='teacher', "
                f"generator input shape={generator.input_shape}"
            )
        data = teacher_targets(data, generator)
    original = generator.count_params()
    progress = _Progress(out_dir)
    records, stages = progress.load(config, change_settings)
    first_settings = stages[0]["config"]
    settings = {
        k: v for k, v in dataclasses.asdict(config).items() if first_settings[k] != v
    }
    phases = _Phases(out_dir, train_generator, config)
    for record in records:
        record["generator"] = keras.saving.load_model(record["path"], compile=False)
    state = phases.saved_state()
    if records and state is None:
        raise ValueError(
            "The folder holds finished rounds but no checkpoint (a slimming of "
            "an older kgan); choose another folder. "
            f"Received: out_dir={out_dir}"
        )
    if state is not None:
        print(f"resuming round {state['round']} at its {state['phase']} phase, "
              f"step {state['phase_step']}", flush=True)  # fmt: skip
    gated, counters = None, dict(state or {"step": 0})
    if state is not None and state["round"] <= len(records):
        # Killed after the round's record: its retrained generator goes on.
        gated = phases.restore(counters)[1]
        phases.recalibrate(gated, data)
        state = None
    elif state is None:
        gated = add_gates(generator)
    round_index = len(records) + 1
    while round_index <= config.max_rounds:
        ratio = records[-1]["ratio"] if records else 1.0
        if ratio <= config.target_ratio:
            break
        if state is None:
            counters.update(round=round_index, fraction=_aimed_fraction(config, ratio))
            _weigh_gates(gated, config)
            trainer = phases.begin(gated, "gates", config.sparsity_steps, counters)
        else:
            trainer, gated = phases.restore(counters)
        if counters["phase"] == "gates":
            sparsity = _train_phase(trainer, data, counters, phases.checkpoint, config,
                                    verbose)  # fmt: skip
            for layer in gated.layers:
                layer.trainable = True
            plan, removed = round_plan(
                gated,
                config.threshold,
                counters["fraction"],
                config.min_filters,
                config.channel_multiple,
            )
            gated = rebuild(gated, plan)
            _weigh_gates(gated, config)
            if not config.retrain_l1:
                set_l1(gated, 0.0)
            counters.update(
                sparsity=sparsity,
                removed_channels=removed,
                filters={conv: len(kept) for conv, kept in plan.items()},
            )
            trainer = phases.begin(gated, "retrain", config.retrain_steps, counters)
        state = None
        retrain = _train_phase(
            trainer, data, counters, phases.checkpoint, config, verbose
        )
        phases.recalibrate(gated, data)
        scales = _gate_scales(gated)
        current = strip_gates(gated)
        record = {"round": round_index, "parameters": current.count_params()}
        record.update(
            ratio=record["parameters"] / original,
            fraction=counters["fraction"],
            removed_channels=counters["removed_channels"],
            channels=int(scales.size),
            channels_at_or_below_threshold=int((scales <= config.threshold).sum()),
            median_gate=float(np.median(scales)),
            filters=counters["filters"],
            sparsity=counters["sparsity"],
            retrain=retrain,
            settings=settings,
        )
        if out_dir is not None:
            path = progress.path(f"round_{round_index}.keras")
            with atomic_path(path) as partial:
                current.save(partial)
            record["path"] = str(path)
        if on_round is not None:
            record.update(on_round(round_index, current))
        records.append(record)
        table = [{k: v for k, v in r.items() if k != "generator"} for r in records]
        if out_dir is not None:
            progress.write(stages, table)
        if after_round is not None:
            after_round(table)
        record["generator"] = current
        removed = record["removed_channels"]
        print(
            f"round {round_index}: removed {removed} of {record['channels'] + removed} "
            f"channels, {record['parameters']:,} parameters ({record['ratio']:.3f} "
            f"of {original:,})",
            flush=True,
        )
        if verbose:
            _show_progress(record["ratio"], config.target_ratio, round_index)
        round_index += 1
    if not require_target or (records and records[-1]["ratio"] <= config.target_ratio):
        return records
    raise RuntimeError(
        f"The generator did not reach {config.target_ratio} of its parameters in "
        f"{config.max_rounds} rounds. Received: ratio="
        f"{records[-1]['ratio'] if records else 1.0:.3f}"
    )

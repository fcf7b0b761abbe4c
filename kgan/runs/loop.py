"""`run`: the one training loop of every kgan model, driven by a recipe."""

import dataclasses
import json
import math
import pathlib
import time

import keras
import numpy as np
import tensorflow as tf

from kgan.checkpoint import Checkpoint
from kgan.files import atomic_path
from kgan.images import save_png
from kgan.runs.callbacks import (
    LossHistory,
    StopOnNonFiniteLoss,
    global_step,
    rows_until,
)
from kgan.runs.data import DatasetData, StepData
from kgan.runs.folder import prepare_run_folder
from kgan.runs.recipe import validate


@dataclasses.dataclass(frozen=True)
class Progress:
    """Where a run stands after a chunk, as the hook sees it.

    Attributes:
        step: Generator updates so far.
        seconds: Training seconds so far: time inside `fit`, without
            sampling, evaluation, checkpoints or the first step of each new
            train function (its tracing and XLA compilation; see `run`).
        done: Progress in the recipe's unit (steps, or images for PGGAN).
        total: The recipe's total in that unit.
    """

    step: int
    seconds: float
    done: float
    total: float


def next_event(step, *intervals):
    """The first step after `step` at which an interval's event falls."""
    return min((step // n + 1) * n for n in intervals if n)


def run(
    recipe,
    config,
    out,
    *,
    resume=False,
    dataset=None,
    budget_seconds=None,
    hook=None,
    tensorboard=False,
    verbose=1,
):
    """Trains `recipe`'s model as `config` says and writes the run folder.

    The folder holds `config.json`; `checkpoint/` while training (weights,
    optimizer and RNG state, step, training time), replaced atomically every
    `checkpoint_every` steps and at each sample or evaluation, so that a
    killed run resumed with `resume=True` continues as if never stopped;
    `losses.csv` (every step) and `losses.png`; `samples/step_<n>.png`
    every `sample_every` steps and `samples/final.png`; `metrics.csv`
    every `eval_every` steps (0: none) and `metrics.json` at the end, when
    the recipe has an evaluator; at the end `generator.keras` (the sampled
    generator), the trainer (`recipe.trainer_file`) and `run.json`.

    The training clock (`training_seconds`, the budget, the hook's
    `Progress.seconds`) leaves out compilation: whenever the trainer needs a
    new train function (the first chunk, after a resume, after each PGGAN
    phase change), one step runs alone and is timed apart; `run.json` lists
    these as `compiles` (segment, step, seconds) with their sum
    `compile_seconds`.

    Args:
        recipe: A `kgan.recipes.Recipe`.
        config: Its config dataclass.
        out: The run folder.
        resume: Continue the run in `out` from its checkpoint.
        dataset: Optional data used instead of the recipe's: a `StepData`,
            or a `tf.data.Dataset` of batches (a caller's own pipeline).
            The recipe's evaluator is then not used.
        budget_seconds: Stop once this many training seconds have passed
            (the checkpoint is kept, so a larger budget can continue).
        hook: Optional `fn(trainer, Progress)` called before the first
            chunk and after every chunk, e.g. to evaluate on a schedule of
            training time.
        tensorboard: Also write TensorBoard logs to `out/tensorboard`.
        verbose: 1 shows a progress bar, 0 nothing.

    Returns:
        The trained trainer.
    """
    validate(config)
    folder = prepare_run_folder(out, recipe.name, config, resume)
    summary_path = folder / "run.json"
    if resume and summary_path.exists():
        summary = json.loads(summary_path.read_text())
        if summary["status"] == "finished":
            raise ValueError(
                f"The run in {folder} has already finished. "
                f"Received: status={summary['status']!r}"
            )
    keras.utils.set_random_seed(config.seed)
    if dataset is None:
        data = recipe.data(config)
    else:
        data = dataset if isinstance(dataset, StepData) else DatasetData(dataset)
    trainer = recipe.build(config, data)
    checkpoint = Checkpoint(folder / "checkpoint")
    counters = {
        "step": 0,
        "seconds": 0.0,
        "segment": None,
        "segment_start": 0,
        "compiles": [],
    }
    if resume and checkpoint.exists():
        counters.update(checkpoint.restore(trainer))
    step = global_step(trainer)
    pace = {"steps": 0, "seconds": 0.0}  # timed training in this sitting

    evaluator = recipe.evaluator(config) if dataset is None else None
    metrics_log = _MetricsLog(folder / "metrics.csv", step)
    progress_bar = _ProgressBar(recipe, config, verbose)
    callbacks = [
        StopOnNonFiniteLoss(),
        LossHistory(folder / "losses.csv", folder / "losses.png", config.sample_every),
        progress_bar,
        *recipe.callbacks(config, folder),
    ]
    writer = None
    if tensorboard:
        callbacks.append(keras.callbacks.TensorBoard(str(folder / "tensorboard")))
        writer = tf.summary.create_file_writer(str(folder / "tensorboard" / "samples"))

    def call_hook():
        if hook is not None:
            done, total, _ = recipe.progress(config, trainer)
            hook(trainer, Progress(step, counters["seconds"], done, total))

    status, hook_called = "finished", False
    while (segment := recipe.segment(config, trainer)) is not None:
        if not hook_called:  # the hook sees the trainer before it trains
            call_hook()
            hook_called = True
        if segment.key != counters["segment"]:
            counters.update(segment=segment.key, segment_start=step)
        intervals = (config.sample_every, config.checkpoint_every, config.eval_every)
        chunk = min(segment.steps, next_event(step, *intervals) - step)
        # A new train function is traced (and compiled) in its first step:
        # run that step alone and keep its time off the training clock.
        compiling = getattr(trainer, "train_function", None) is None
        if compiling:
            chunk = 1
        elif budget_seconds is not None and pace["steps"]:
            # End the chunk near the budget, at this sitting's pace, rather
            # than up to a whole sample interval past it.
            left = budget_seconds - counters["seconds"]
            per_step = pace["seconds"] / pace["steps"]
            chunk = min(chunk, max(1, math.ceil(left / per_step)))
        stream = data.stream(segment, first_batch=step - counters["segment_start"])
        clock = time.perf_counter()
        trainer.fit(
            stream,
            steps_per_epoch=chunk,
            epochs=1,
            callbacks=callbacks,
            verbose=0,
            shuffle=False,
        )
        elapsed = time.perf_counter() - clock
        if compiling:
            counters["compiles"].append(
                {"segment": segment.key, "step": step, "seconds": elapsed}
            )
        else:
            counters["seconds"] += elapsed
            pace["steps"] += global_step(trainer) - step
            pace["seconds"] += elapsed
        step = counters["step"] = global_step(trainer)
        if step % config.sample_every == 0:
            grid = _save_samples(
                recipe, config, trainer, folder, f"step_{step:06d}.png"
            )
            if writer is not None:
                with writer.as_default():
                    tf.summary.image("samples", grid[None], step=step)
        if (
            evaluator is not None
            and config.eval_every
            and step % config.eval_every == 0
        ):
            progress_bar.show(metrics_log.append(step, evaluator(trainer)))
        checkpoint.save(trainer, counters)
        call_hook()
        if budget_seconds is not None and counters["seconds"] >= budget_seconds:
            status = "budget"
            break
    progress_bar.close()

    _save_samples(recipe, config, trainer, folder, "final.png")
    _save_model(trainer.sampler, folder / "generator.keras")
    _save_model(trainer, folder / recipe.trainer_file)
    if evaluator is not None:
        _write_json(folder / "metrics.json", evaluator(trainer))
    _write_json(
        summary_path,
        {
            "status": status,
            "step": step,
            "training_seconds": counters["seconds"],
            "compile_seconds": sum(c["seconds"] for c in counters["compiles"]),
            "compiles": counters["compiles"],
        },
    )
    if status == "finished":
        checkpoint.remove()
    return trainer


def finish(recipe, config, out, **kwargs):
    """Brings the run of `config` in `out` to its end, as long experiments
    over several sittings need: starts it, resumes it from its checkpoint,
    or, when it has finished already, loads its trainer.

    Args:
        recipe, config, out: As for `run`.
        **kwargs: Other `run` arguments (`dataset`, `verbose`, ...).

    Returns:
        The trained trainer.
    """
    out = pathlib.Path(out)
    summary = out / "run.json"
    if summary.exists() and json.loads(summary.read_text())["status"] == "finished":
        prepare_run_folder(out, recipe.name, config, resume=True)  # same settings
        return keras.saving.load_model(out / recipe.trainer_file)
    return run(recipe, config, out, resume=(out / "config.json").exists(), **kwargs)


def _save_samples(recipe, config, trainer, folder, name):
    grid = recipe.samples(config, trainer)
    save_png(grid, folder / "samples" / name)
    return grid


def _save_model(model, path):
    with atomic_path(path) as partial:
        model.save(partial)


def _write_json(path, value):
    with atomic_path(path) as partial:
        partial.write_text(json.dumps(value, indent=2) + "\n")


class _MetricsLog:
    """`metrics.csv`: one row per evaluation; a resumed run keeps the rows up
    to its checkpoint."""

    def __init__(self, path, step):
        self.path = path
        self.rows = [
            {k: float(v) for k, v in row.items()} for row in rows_until(path, step)
        ]
        self._write()

    def append(self, step, metrics):
        self.rows.append({"step": step, **metrics})
        self._write()
        return metrics

    def _write(self):
        if not self.rows:
            self.path.unlink(missing_ok=True)
            return
        keys = list(dict.fromkeys(k for row in self.rows for k in row))
        lines = [",".join(keys)]
        lines += [",".join(repr(row.get(k, np.nan)) for k in keys) for row in self.rows]
        with atomic_path(self.path) as partial:
            partial.write_text("\n".join(lines) + "\n")


class _ProgressBar(keras.callbacks.Callback):
    """One bar for the whole run, over every `fit` chunk, with the losses
    and, after an evaluation, its metrics."""

    def __init__(self, recipe, config, verbose):
        super().__init__()
        self.recipe, self.config, self.verbose = recipe, config, verbose
        self.bar = None
        self.metrics = {}

    def on_train_batch_end(self, batch, logs=None):
        if not self.verbose:
            return
        done, total, unit = self.recipe.progress(self.config, self.model)
        if self.bar is None:
            self.bar = keras.utils.Progbar(total, unit_name=unit.rstrip("s"))
        values = {**(logs or {}), **self.metrics}
        self.bar.stateful_metrics.update(values)  # show values, not averages
        self.bar.update(
            min(done, total), values=[(k, float(v)) for k, v in values.items()]
        )

    def show(self, metrics):
        # The headline metrics; metrics.csv holds them all.
        self.metrics = {
            k: v
            for k, v in metrics.items()
            if np.isscalar(v) and k != "n" and (k == "swd_mean" or "swd_" not in k)
        }

    def close(self):
        if self.bar is not None:
            print(flush=True)

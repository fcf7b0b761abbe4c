"""Callbacks for GAN training: sample grids, per-step losses, NaN guard, backups."""

import csv
import math
import pathlib

import keras
import numpy as np

from kgan.checkpoint import Checkpoint
from kgan.images import make_grid, save_png
from kgan.plots import pyplot, save_figure


def global_step(model):
    """Generator updates made so far: survives BackupAndRestore and reloads.

    The trainer's own `generator_updates` counter if it has one (PGGAN,
    whose optimizers restart at each phase), else the generator optimizer's
    iterations."""
    counter = getattr(model, "generator_updates", None)
    if counter is None:
        counter = model.g_optimizer.iterations
    return int(keras.ops.convert_to_numpy(counter.value))


def rows_until(csv_path, step):
    """The rows of a per-step CSV file up to `step`: what a run resumed at
    `step` keeps of an earlier attempt (none if the file does not exist)."""
    if not pathlib.Path(csv_path).exists():
        return []
    with open(csv_path, newline="") as f:
        return [row for row in csv.DictReader(f) if int(float(row["step"])) <= step]


class SampleGrid(keras.callbacks.Callback):
    """Writes a PNG grid of generated images from fixed latents every N steps.

    Files are `directory/step_000100.png` and, at the end, `final.png`.

    Args:
        directory: Where the PNGs go.
        every_n_steps: Interval in generator steps.
        n: Images per grid.
        seed: Seed of the fixed latent vectors.
        tensorboard_dir: If set, grids are also logged as TensorBoard images.
    """

    def __init__(
        self, directory, every_n_steps=500, n=64, seed=0, tensorboard_dir=None
    ):
        super().__init__()
        if every_n_steps <= 0:
            raise ValueError(
                "`every_n_steps` must be positive. "
                f"Received: every_n_steps={every_n_steps}"
            )
        self.directory = pathlib.Path(directory)
        self.every_n_steps = every_n_steps
        self.n = n
        self.seed = seed
        self.tensorboard_dir = tensorboard_dir
        self._writer = None

    def on_train_begin(self, logs=None):
        self._z = self.model.sample_inputs(self.n, self.seed)
        if self.tensorboard_dir and self._writer is None:
            import tensorflow as tf

            self._writer = tf.summary.create_file_writer(str(self.tensorboard_dir))

    def _write(self, name, step):
        images = self.model.sampler.predict(self._z, batch_size=self.n, verbose=0)
        grid = make_grid(images)
        save_png(grid, self.directory / name)
        if self._writer is not None:
            import tensorflow as tf

            with self._writer.as_default():
                tf.summary.image("samples", grid[None], step=step)
            self._writer.flush()

    def on_train_batch_end(self, batch, logs=None):
        step = global_step(self.model)
        if step % self.every_n_steps == 0:
            self._write(f"step_{step:06d}.png", step)

    def on_train_end(self, logs=None):
        self._write("final.png", global_step(self.model))


class LossHistory(keras.callbacks.Callback):
    """Records every step's losses in a CSV file and plots them to a PNG.

    Keras reports running means over the epoch; this callback resets the
    model's metrics before every step, so that the logs (its own rows and
    those every later callback sees) are that step's values, whatever the
    chunk of steps a `fit` call holds: a resumed run, chunked differently,
    records the same values bit for bit. On a resumed run
    the rows after the restored step are dropped before appending. One
    instance may serve several `fit` calls in a row (the run loop trains in
    chunks): the later ones append.

    Args:
        csv_path: The CSV file (`step,d_loss,g_loss,...`).
        plot_path: The PNG of D and G losses over steps, or `None`.
        every_n_steps: How often (in steps) the plot is redrawn.
    """

    def __init__(self, csv_path, plot_path=None, every_n_steps=500):
        super().__init__()
        self.csv_path = pathlib.Path(csv_path)
        self.plot_path = pathlib.Path(plot_path) if plot_path else None
        self.every_n_steps = every_n_steps
        self.rows = []
        self._keys = None

    def on_train_begin(self, logs=None):
        if self._keys is not None:  # a later fit of the same run
            self._handle = open(self.csv_path, "a", newline="", buffering=1)
            self._file = csv.writer(self._handle)
            return
        self.rows = [
            {k: float(v) for k, v in row.items()}
            for row in rows_until(self.csv_path, global_step(self.model))
        ]
        self._keys = [m.name for m in self.model.metrics]
        self._rewrite()

    def on_train_batch_begin(self, batch, logs=None):
        for metric in self.model.metrics:
            metric.reset_state()

    def on_train_batch_end(self, batch, logs=None):
        logs = logs or {}
        row = {"step": float(global_step(self.model))}
        if self.rows and row["step"] <= self.rows[-1]["step"]:
            return  # no new step (a resumed fit passing over trained steps)
        row.update({k: float(logs[k]) for k in self._keys if k in logs})
        self.rows.append(row)
        self._file.writerow(
            [_format(row.get(k, math.nan)) for k in ["step"] + self._keys]
        )
        if int(row["step"]) % self.every_n_steps == 0:
            self.plot()

    def on_train_end(self, logs=None):
        self._handle.close()
        self.plot()

    def _rewrite(self):
        self.csv_path.parent.mkdir(parents=True, exist_ok=True)
        # Line-buffered: a run stopped by an error keeps every recorded step.
        self._handle = open(self.csv_path, "w", newline="", buffering=1)
        self._file = csv.writer(self._handle)
        self._file.writerow(["step"] + self._keys)
        for row in self.rows:
            self._file.writerow(
                [_format(row.get(k, math.nan)) for k in ["step"] + self._keys]
            )

    def plot(self):
        if self.plot_path is None or not self.rows:
            return
        steps = [r["step"] for r in self.rows]
        figure, axis = pyplot().subplots(figsize=(8, 4))
        for key in self._keys:
            axis.plot(
                steps, [r.get(key, math.nan) for r in self.rows], label=key, lw=0.8
            )
        axis.set_xlabel("generator step")
        axis.set_ylabel("loss")
        axis.legend()
        axis.grid(alpha=0.3)
        save_figure(figure, self.plot_path)


def _format(value):
    return (
        str(int(value))
        if float(value).is_integer() and abs(value) < 2**53
        else repr(value)
    )


class NonFiniteLossError(FloatingPointError):
    """Raised when a GAN loss becomes NaN or infinite."""


class StopOnNonFiniteLoss(keras.callbacks.Callback):
    """Stops training with `NonFiniteLossError` naming the step and the losses."""

    def on_train_batch_end(self, batch, logs=None):
        logs = logs or {}
        bad = {k: float(v) for k, v in logs.items() if not np.isfinite(float(v))}
        if bad:
            self.model.stop_training = True
            raise NonFiniteLossError(
                "Training diverged: non-finite loss at step "
                f"{global_step(self.model)}. "
                f"Received: {', '.join(f'{k}={v}' for k, v in bad.items())}"
            )


class BackupAndRestore(keras.callbacks.Callback):
    """Backs up a `fit` run so that a killed process, started again with the
    same script and callback, continues exactly as if never stopped.

    A backup (a `kgan.runs.Checkpoint`) holds the weights, the state of
    every optimizer (a GAN has two), the step, the state of every
    `keras.random.SeedGenerator` (the train step's noise, dropout, ...) and
    how many batches the run has drawn from its data. It is written every
    `save_every_n_steps` steps and at the end of every epoch, so that a
    kill at any moment, even while writing, leaves a whole one.

    On `fit`, an existing backup is restored: Keras starts again at the
    backup's epoch, the train steps of that epoch that the backup already
    made are passed over without training, and the first step that trains
    first draws and drops the batches the backed-up run had used, so the
    data continue where they were. This is exact for data that yield the
    same batches on every `fit` call from the start and are drawn from one
    iterator for the whole `fit`: for example a `tf.data.Dataset` shuffled
    with a seed and repeated, passed with `steps_per_epoch`. Put it first in
    `callbacks`, so that the others (`LossHistory`, ...) see the restored
    model when training begins.

    Args:
        backup_dir: Folder of the backup.
        save_every_n_steps: Steps between backups (`None`: at epoch ends
            only).
        delete_checkpoint: Remove the folder when training ends normally.
    """

    def __init__(self, backup_dir, save_every_n_steps=None, delete_checkpoint=True):
        super().__init__()
        if save_every_n_steps is not None and (
            isinstance(save_every_n_steps, bool)
            or not isinstance(save_every_n_steps, int)
            or save_every_n_steps < 1
        ):
            raise ValueError(
                "`save_every_n_steps` must be a positive integer or None. "
                f"Received: save_every_n_steps={save_every_n_steps!r}"
            )
        self.backup_dir = pathlib.Path(backup_dir)
        self.save_every_n_steps = save_every_n_steps
        self.delete_checkpoint = delete_checkpoint
        self._epoch, self._batch, self._drawn = 0, 0, 0

    def on_train_begin(self, logs=None):
        self._checkpoint = Checkpoint(self.backup_dir)
        self._epoch, self._batch, self._drawn = 0, 0, 0
        self._iterator, self._epoch_ended, self._saved_step = None, False, None
        skip_calls = drop = 0
        if self._checkpoint.exists():
            # Loading restores optimizer state only into built optimizers (a
            # GAN builds both of its own in compile).
            optimizer = self.model.optimizer
            if optimizer is not None and not optimizer.built:
                optimizer.build(self.model.trainable_variables)
            state = self._checkpoint.restore(self.model)
            # Keras' fit starts from `_initial_epoch` when a callback sets it
            # in on_train_begin (as keras.callbacks.BackupAndRestore does).
            self.model._initial_epoch = self._epoch = state["epoch"]
            skip_calls, drop = state["batch"], state["drawn"]
            self._saved_step = state["step"]
        self._wrap_train_function(skip_calls, drop)

    def _wrap_train_function(self, skip_calls, drop):
        """For this `fit`: passes over `skip_calls` calls, drops `drop`
        batches from the first iterator, counts the batches drawn from the
        current one and writes the backup of an epoch end."""
        train_function = self._train_function = self.model.train_function

        def counted(iterator):
            nonlocal skip_calls, drop
            if skip_calls:
                skip_calls -= 1
                return self.model.get_metrics_result()
            if iterator is not self._iterator:  # Keras made a new iterator
                self._iterator, self._drawn = iterator, drop
                for _ in range(drop):
                    next(iterator)
                drop = 0
            if self._epoch_ended:
                # Written here, once it is known whether the new epoch draws
                # on from the same iterator or from a new one.
                self._save(self._epoch, 0)
                self._epoch_ended = False
            self._drawn += 1
            return train_function(iterator)

        self.model.train_function = counted

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch, self._batch = epoch, 0

    def on_train_batch_end(self, batch, logs=None):
        self._batch = batch + 1
        step = self._step()
        # Not on a passed-over call of a resumed fit: its step is the backup's.
        if self.save_every_n_steps and step % self.save_every_n_steps == 0:
            if step != self._saved_step:
                self._save(self._epoch, self._batch)

    def on_epoch_end(self, epoch, logs=None):
        self._epoch, self._epoch_ended = epoch + 1, True

    def on_train_end(self, logs=None):
        self.model.train_function = self._train_function
        if self.delete_checkpoint:
            self._checkpoint.remove()
        elif self._epoch_ended:
            self._save(self._epoch, 0)

    def _step(self):
        optimizer = getattr(self.model, "g_optimizer", None) or self.model.optimizer
        return int(keras.ops.convert_to_numpy(optimizer.iterations))

    def _save(self, epoch, batch):
        self._saved_step = self._step()
        counters = {"step": self._saved_step, "epoch": epoch, "batch": batch}
        self._checkpoint.save(self.model, {**counters, "drawn": self._drawn})


class Evaluate(keras.callbacks.Callback):
    """Runs kgan's metrics on the generator every N steps during `fit`.

    Each evaluation appends a row to `csv_path` (`step,` then every metric)
    and is added to the logs of the epoch it falls in, so it appears in the
    `History` that `fit` returns (and in TensorBoard and CSVLogger).

    Args:
        evaluator: A `kgan.metrics.Evaluator`.
        every_n_steps: Interval in generator steps.
        n: Generated images per evaluation.
        csv_path: Optional CSV file of all evaluations.
        seed: Seed of the latent vectors (the same ones every time).
        verbose: Print each evaluation's metrics.
    """

    def __init__(
        self, evaluator, every_n_steps=1000, n=2000, csv_path=None, seed=0, verbose=0
    ):
        super().__init__()
        if every_n_steps <= 0 or n < 2:
            raise ValueError(
                "`every_n_steps` must be positive and `n` at least 2. "
                f"Received: every_n_steps={every_n_steps}, n={n}"
            )
        self.evaluator = evaluator
        self.every_n_steps = every_n_steps
        self.n = n
        self.csv_path = pathlib.Path(csv_path) if csv_path else None
        self.seed = seed
        self.verbose = verbose
        self.latest = {}

    def on_train_begin(self, logs=None):
        self._pending = {}
        if self.csv_path is not None and self.csv_path.exists():
            # A resumed run drops the evaluations after the restored step.
            self._write_rows(rows_until(self.csv_path, global_step(self.model)), "w")

    def evaluate_now(self):
        """Evaluates the current generator and records the result."""
        step = global_step(self.model)
        result = self.evaluator.evaluate_generator(
            self.model.sampler, n=self.n, seed=self.seed
        )
        self.latest = {k: v for k, v in result.items() if k != "n"}
        self._pending = dict(self.latest)
        if self.csv_path is not None:
            self._write_rows([{"step": step, **self.latest}], mode="a")
        if self.verbose:
            print(
                f"\nstep {step}: "
                + ", ".join(f"{k} {v:.4g}" for k, v in self.latest.items())
            )
        return self.latest

    def _write_rows(self, rows, mode):
        if not rows:
            if mode == "w":
                self.csv_path.unlink(missing_ok=True)
            return
        new_file = mode == "w" or not self.csv_path.exists()
        self.csv_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.csv_path, mode, newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            if new_file:
                writer.writeheader()
            writer.writerows(rows)

    def on_train_batch_end(self, batch, logs=None):
        if global_step(self.model) % self.every_n_steps == 0:
            self.evaluate_now()

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs.update(self._pending)
        self._pending = {}


class PSFAlphaHistory(keras.callbacks.Callback):
    """Records the learned `alpha` of every ParametricSoftsign layer.

    Writes `csv_path` with one row per `every_n_steps` steps: `step` and one
    column per PSF layer (`generator/<name>`, `discriminator/<name>`; the mean
    if a layer learns one alpha per channel).
    """

    def __init__(self, csv_path, every_n_steps=100):
        super().__init__()
        self.csv_path = pathlib.Path(csv_path)
        self.every_n_steps = every_n_steps

    def on_train_begin(self, logs=None):
        from kgan.layers import ParametricSoftsign

        self._layers = {
            f"{network}/{layer.name}": layer
            for network in ("generator", "discriminator")
            for layer in getattr(self.model, network)._flatten_layers()
            if isinstance(layer, ParametricSoftsign)
        }
        start = global_step(self.model)
        rows = rows_until(self.csv_path, start)
        self.csv_path.parent.mkdir(parents=True, exist_ok=True)
        self._handle = open(self.csv_path, "w", newline="", buffering=1)
        self._writer = csv.DictWriter(self._handle, ["step"] + list(self._layers))
        self._writer.writeheader()
        self._writer.writerows(rows)
        if not rows:
            self._record(start)

    def _record(self, step):
        row = {"step": step}
        for name, layer in self._layers.items():
            row[name] = repr(float(np.mean(keras.ops.convert_to_numpy(layer.alpha))))
        self._writer.writerow(row)

    def on_train_batch_end(self, batch, logs=None):
        step = global_step(self.model)
        if step % self.every_n_steps == 0:
            self._record(step)

    def on_train_end(self, logs=None):
        self._handle.close()

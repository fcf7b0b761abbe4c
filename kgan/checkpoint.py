"""One checkpoint of a training: weights, optimizer state, RNG state and the
loop's counters, written so that a kill at any moment leaves a whole one
(the run loop's and the slimming's)."""

import json
import pathlib
import shutil

import numpy as np

from kgan.files import atomic_path


def rng_variables(model):
    """The state variable of every `keras.random.SeedGenerator` in `model`
    (the trainer's train-step noise, dropout layers', ...), in a fixed order.

    Keras leaves them out of weight files; a resumed run needs them to draw
    the noise an uninterrupted run would."""
    weights = {id(v) for v in model.weights}
    return [v for v in model.variables if id(v) not in weights]


class Checkpoint:
    """A folder holding the latest checkpoint of a trainer.

    `save` writes the weights (with both optimizers' state) to a new file,
    then replaces `state.json` atomically to point at it and removes the
    older file; `state.json` also holds every seed generator's state and
    the loop's counters.

    Args:
        directory: The checkpoint folder.
    """

    def __init__(self, directory):
        self.directory = pathlib.Path(directory)
        self.state_path = self.directory / "state.json"

    def exists(self):
        return self.state_path.is_file()

    def counters(self):
        """The saved counters, without restoring anything."""
        state = json.loads(self.state_path.read_text())
        return {k: v for k, v in state.items() if k not in ("weights", "rng")}

    def save(self, trainer, counters):
        """Saves `trainer` and the JSON-serializable `counters`."""
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"step_{counters['step']:09d}.weights.h5"
        with atomic_path(self.directory / name) as partial:
            trainer.save_weights(partial)
        rng = [np.asarray(v.numpy()).tolist() for v in rng_variables(trainer)]
        state = {"weights": name, "rng": rng, **counters}
        with atomic_path(self.state_path) as partial:
            partial.write_text(json.dumps(state, indent=1) + "\n")
        for old in self.directory.glob("*.weights.h5"):
            if old.name != name:
                old.unlink()

    def restore(self, trainer):
        """Loads the checkpoint into `trainer` (compiled, with built
        optimizers); returns the saved counters."""
        state = json.loads(self.state_path.read_text())
        trainer.load_weights(self.directory / state.pop("weights"))
        variables = rng_variables(trainer)
        rng = state.pop("rng")
        if len(rng) != len(variables):
            raise ValueError(
                "The checkpoint's random states do not fit this trainer. "
                f"Received: {len(rng)} states for {len(variables)} seed generators"
            )
        for variable, value in zip(variables, rng, strict=True):
            variable.assign(np.asarray(value, dtype=variable.dtype))
        return state

    def remove(self):
        shutil.rmtree(self.directory, ignore_errors=True)

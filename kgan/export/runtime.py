"""Running .tflite generators with the LiteRT interpreter."""

import numpy as np
from ai_edge_litert.interpreter import Interpreter

from kgan.export.inspect import read_tflite
from kgan.latents import normal_latents


class LiteRTGenerator:
    """Generates images from a `.tflite` generator with LiteRT on the CPU.

    Args:
        path: The `.tflite` file (batch 1, one input, one output).
        num_threads: CPU threads the interpreter may use. Defaults to 1.

    Example:
        ```python
        generator = LiteRTGenerator("g.tflite", num_threads=1)
        images = generator.generate(16, seed=0)  # (16, H, W, C) in [-1, 1]
        ```
    """

    def __init__(self, path, num_threads=1):
        if not isinstance(num_threads, int) or num_threads < 1:
            raise ValueError(
                "`num_threads` must be a positive integer. "
                f"Received: num_threads={num_threads}"
            )
        self.path = path
        self.num_threads = num_threads
        self.interpreter = Interpreter(
            model_content=read_tflite(path), num_threads=num_threads
        )
        self.interpreter.allocate_tensors()
        inputs = self.interpreter.get_input_details()
        if len(inputs) != 1:
            raise ValueError(
                "LiteRTGenerator runs generators with one input. "
                f"Received: {len(inputs)} inputs in {path}"
            )
        self._input = inputs[0]
        self._output = self.interpreter.get_output_details()[0]
        self.latent_shape = tuple(int(d) for d in self._input["shape"][1:])
        self.image_shape = tuple(int(d) for d in self._output["shape"][1:])

    def run_one(self, latent):
        """Runs one latent of shape `latent_shape`; returns one image."""
        self.interpreter.set_tensor(self._input["index"], latent[None])
        self.interpreter.invoke()
        return self.interpreter.get_tensor(self._output["index"])[0]

    def __call__(self, latents):
        """Maps `(n, *latent_shape)` latents to `(n, *image_shape)` images."""
        latents = np.asarray(latents, dtype=np.float32)
        if latents.ndim == len(self.latent_shape):
            latents = latents[None]
        if tuple(latents.shape[1:]) != self.latent_shape:
            raise ValueError(
                f"The generator takes latents of shape (n, "
                f"{', '.join(map(str, self.latent_shape))}). "
                f"Received: latents.shape={latents.shape}"
            )
        return np.stack([self.run_one(z) for z in latents])

    def generate(self, n, seed=None):
        """Generates `n` images from N(0, I) latents drawn with `seed`."""
        return self(normal_latents(n, self.latent_shape, seed))


def compare(path, generator, n=8, seed=0, inputs=None):
    """Differences between a .tflite file and its Keras model on the same inputs.

    Both run `inputs` or, by default, the same `n` latent vectors drawn from
    N(0, I) with `seed`; the Keras model runs in inference mode.

    Returns:
        `{"max_abs_diff": ..., "mean_abs_diff": ...}` over all pixels of all
        images, in the images' value range.
    """
    lite = LiteRTGenerator(path)
    z = inputs
    if z is None:
        z = normal_latents(n, lite.latent_shape, seed)
    difference = np.abs(lite(z) - np.asarray(generator(z, training=False)))
    return {
        "max_abs_diff": float(difference.max()),
        "mean_abs_diff": float(difference.mean()),
    }


def verify(path, generator, n=8, seed=0):
    """Largest absolute difference between a .tflite file and its Keras model.

    Float32 exports match within 1e-4. See `compare` for the arguments.
    """
    return compare(path, generator, n, seed)["max_abs_diff"]

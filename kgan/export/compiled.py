"""Running .tflite generators with LiteRT's `CompiledModel` on XNNPACK."""

from importlib import metadata

import numpy as np
from ai_edge_litert.compiled_model import CompiledModel
from ai_edge_litert.cpu_kernel_mode import CpuKernelMode
from ai_edge_litert.cpu_options import CpuOptions
from ai_edge_litert.options import Options

from kgan.export.inspect import read_tflite

KERNELS = {"xnnpack": CpuKernelMode.XNNPACK, "reference": CpuKernelMode.REFERENCE}


class CompiledGenerator:
    """A `.tflite` generator compiled by LiteRT for the CPU.

    With `kernels="xnnpack"` (the default) every op that XNNPACK supports
    runs on its kernels (its qs8 kernels for a full-integer model);
    `fully_accelerated` says whether all of them did, with no op left to
    LiteRT's reference kernels.

    Args:
        path: The `.tflite` file (batch 1, one input, one output).
        num_threads: CPU threads. Defaults to 1.
        kernels: `"xnnpack"` or `"reference"`.

    Example:
        ```python
        generator = CompiledGenerator("g.tflite")
        image = generator.run_one(np.zeros(generator.input_shape, "float32"))
        ```
    """

    def __init__(self, path, num_threads=1, kernels="xnnpack"):
        if not isinstance(num_threads, int) or num_threads < 1:
            raise ValueError(
                "`num_threads` must be a positive integer. "
                f"Received: num_threads={num_threads!r}"
            )
        if kernels not in KERNELS:
            raise ValueError(
                f"`kernels` must be one of {sorted(KERNELS)}. "
                f"Received: kernels={kernels!r}"
            )
        self.path = path
        self.num_threads = num_threads
        self.kernels = kernels
        options = Options(
            cpu_options=CpuOptions(
                num_threads=num_threads, kernel_mode=KERNELS[kernels]
            )
        )
        self.model = CompiledModel.from_buffer(read_tflite(path), options=options)
        signature = self.model.get_signature_by_index(0)
        if len(signature["inputs"]) != 1 or len(signature["outputs"]) != 1:
            raise ValueError(
                "CompiledGenerator runs generators with one input and one output. "
                f"Received: signature={signature} in {path}"
            )
        key = signature["key"]
        inputs = self.model.get_input_tensor_details(key)
        outputs = self.model.get_output_tensor_details(key)
        self.input_shape = tuple(inputs[signature["inputs"][0]]["shape"][1:])
        self.output_shape = tuple(outputs[signature["outputs"][0]]["shape"][1:])
        self._inputs = self.model.create_input_buffers(0)
        self._outputs = self.model.create_output_buffers(0)
        self._size = int(np.prod(self.output_shape))

    @property
    def fully_accelerated(self):
        """Whether XNNPACK runs every op (no reference-kernel fallback)."""
        return self.model.is_fully_accelerated()

    def run_one(self, x):
        """Runs one input of `input_shape`; returns one output."""
        self._inputs[0].write(np.asarray(x, np.float32)[None])
        self.model.run_by_index(0, self._inputs, self._outputs)
        return self._outputs[0].read(self._size, np.float32).reshape(self.output_shape)

    def runtime(self):
        """What ran: `{"runtime", "version", "api", "kernels",
        "fully_accelerated", "threads", "input_shape"}`."""
        return {
            "runtime": "ai-edge-litert",
            "version": metadata.version("ai-edge-litert"),
            "api": "CompiledModel",
            "kernels": self.kernels,
            "fully_accelerated": self.fully_accelerated,
            "threads": self.num_threads,
            "input_shape": list(self.input_shape),
        }

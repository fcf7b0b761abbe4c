"""Keras generator -> .tflite file with builtin ops only, batch 1, static shapes."""

import pathlib
import re

import numpy as np
import tensorflow as tf
from tensorflow.python.framework.convert_to_constants import (
    convert_variables_to_constants_v2,
)

from kgan.files import atomic_path

QUANTIZE_MODES = (None, "float16", "dynamic", "int8")
REPRESENTATIVE_SAMPLES = 100


class UnsupportedOpsError(ValueError):
    """The model needs ops that plain LiteRT builtins do not provide."""


def _batch_one_function(model):
    specs = [
        tf.TensorSpec((1,) + tuple(shape[1:]), tf.float32, name=f"input_{i}")
        for i, shape in enumerate(_input_shapes(model))
    ]

    @tf.function(input_signature=specs)
    def serve(*inputs):
        return model(inputs[0] if len(inputs) == 1 else list(inputs), training=False)

    return serve.get_concrete_function()


def _input_shapes(model):
    shape = model.input_shape
    return shape if isinstance(shape, list) else [shape]


def _offending_ops(message):
    names = re.findall(r"'tf\.(\w+)' op is neither a custom op nor a flex op", message)
    if not names:
        listed = re.findall(r"(?:Custom|Flex) ops: ([\w, ]+)", message)
        names = [n.strip() for group in listed for n in group.split(",")]
    return sorted(set(names))


def _latent_prior(model, samples, seed=0):
    """Representative inputs for int8 calibration: draws from N(0, I)."""
    rng = np.random.default_rng(seed)
    shapes = [(1,) + tuple(s[1:]) for s in _input_shapes(model)]
    for _ in range(samples):
        yield [rng.standard_normal(shape).astype(np.float32) for shape in shapes]


def to_litert(generator, path, quantize=None, representative_data=None, sparse=False):
    """Converts a Keras generator to a `.tflite` file for LiteRT.

    The file takes one example (batch 1) with static shapes and uses only
    TFLite builtin ops: a model that would need Flex (Select TF) or custom
    ops raises `UnsupportedOpsError` naming them, and no file is written.

    Args:
        generator: A Keras model (latents, or conditions, to images).
        path: Output `.tflite` path; written atomically.
        quantize: `None` (float32), `"float16"` (float16 weights),
            `"dynamic"` (int8 weights, float activations) or `"int8"` (int8
            weights and activations, float input and output).
        representative_data: For `"int8"`: an iterable of lists of input
            arrays of batch 1 used to calibrate activation ranges. Defaults
            to 100 draws from the latent prior N(0, I), allowed only for
            generators of flat latent vectors; pass real conditions (label
            maps) for the others.
        sparse: Whether to store kernels that are mostly zero in a sparse
            format (`tf.lite.Optimize.EXPERIMENTAL_SPARSITY`), which lets
            XNNPACK use its sparse kernels where it has them.

    Returns:
        The `pathlib.Path` of the written file.
    """
    if quantize not in QUANTIZE_MODES:
        raise ValueError(
            f"Unknown quantization. Expected one of {list(QUANTIZE_MODES)}. "
            f"Received: quantize={quantize!r}"
        )
    path = pathlib.Path(path)
    if path.suffix != ".tflite":
        raise ValueError(f"The output must be a .tflite file. Received: path={path}")
    # Bake the weights in as constants: left as resource variables, the file
    # would hold no weights and need them initialised at run time.
    frozen = convert_variables_to_constants_v2(_batch_one_function(generator))
    converter = tf.lite.TFLiteConverter.from_concrete_functions([frozen])
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    converter.optimizations = [tf.lite.Optimize.DEFAULT] if quantize else []
    if sparse:
        converter.optimizations.append(tf.lite.Optimize.EXPERIMENTAL_SPARSITY)
    if quantize == "float16":
        converter.target_spec.supported_types = [tf.float16]
    elif quantize == "int8":
        data = representative_data
        if data is None:
            shapes = _input_shapes(generator)
            if any(len(shape) != 2 for shape in shapes):
                raise ValueError(
                    "int8 calibration defaults to latent vectors from N(0, I), "
                    "which do not resemble inputs such as label maps: pass "
                    "`representative_data` (kgan export: --calibration). "
                    f"Received: input_shape={generator.input_shape}"
                )
            data = list(_latent_prior(generator, REPRESENTATIVE_SAMPLES))
        converter.representative_dataset = lambda: iter(data)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    try:
        flatbuffer = converter.convert()
    except Exception as error:  # the converter raises ConverterError
        ops = _offending_ops(str(error))
        if ops:
            raise UnsupportedOpsError(
                "The model needs ops that are not TFLite builtins (they would need "
                "the Flex delegate or custom kernels, which plain LiteRT lacks). "
                f"Received: ops={ops}"
            ) from error
        raise
    with atomic_path(path) as partial:
        partial.write_bytes(flatbuffer)
    return path

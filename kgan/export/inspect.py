"""Reading .tflite files: validation, operator list and multiply-accumulates."""

import pathlib

import numpy as np
from tensorflow.lite.python import schema_py_generated as schema

_BUILTIN_NAMES = {
    value: name
    for name, value in vars(schema.BuiltinOperator).items()
    if not name.startswith("_")
}


def read_tflite(path) -> bytes:
    """Returns the bytes of a TFLite flatbuffer, or raises a clear error."""
    path = pathlib.Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No such TFLite file. Received: path={path}")
    content = path.read_bytes()
    # A TFLite flatbuffer carries the file identifier "TFL3" at bytes 4-8.
    if len(content) < 8 or content[4:8] != b"TFL3":
        raise ValueError(
            "The file is not a TFLite model (no TFL3 identifier). "
            f"Received: path={path}"
        )
    return content


def _model(content):
    return schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(content, 0))


def _op_name(code):
    builtin = max(code.builtinCode, code.deprecatedBuiltinCode)
    if builtin == schema.BuiltinOperator.CUSTOM:
        custom = code.customCode
        return "CUSTOM:" + (custom.decode() if isinstance(custom, bytes) else custom)
    return _BUILTIN_NAMES.get(builtin, f"BUILTIN_{builtin}")


def operator_names(path) -> list[str]:
    """Names of the operators a .tflite file uses, e.g. `CONV_2D`, in order.

    Flex and custom operators appear as `CUSTOM:<name>` (Flex ops are
    custom ops named `Flex...`).
    """
    model = _model(read_tflite(path))
    return [_op_name(code) for code in model.operatorCodes]


def model_macs(path) -> int:
    """Multiply-accumulates of one inference of a .tflite file.

    Counts the ops that dominate generators: fully connected, convolution,
    depthwise and transposed convolution, batched matmul.
    """
    model = _model(read_tflite(path))
    names = [_op_name(code) for code in model.operatorCodes]
    total = 0
    for graph in model.subgraphs:
        shapes = [np.asarray(t.shape, dtype=np.int64) for t in graph.tensors]
        for op in graph.operators:
            name = names[op.opcodeIndex]
            inputs = [shapes[i] if i >= 0 else None for i in op.inputs]
            out = shapes[op.outputs[0]]
            if name == "FULLY_CONNECTED":
                total += int(np.prod(out)) * int(inputs[1][-1])
            elif name == "CONV_2D":  # filter (out, kh, kw, in)
                total += int(np.prod(out)) * int(np.prod(inputs[1][1:]))
            elif name == "DEPTHWISE_CONV_2D":  # filter (1, kh, kw, out)
                total += int(np.prod(out)) * int(np.prod(inputs[1][1:3]))
            elif name == "TRANSPOSE_CONV":  # inputs: shape, filter (out,kh,kw,in), x
                total += int(np.prod(inputs[2])) * int(np.prod(inputs[1][:3]))
            elif name == "BATCH_MATMUL":
                total += int(np.prod(out)) * int(inputs[0][-1])
    return total

"""Export generators to TFLite (LiteRT) for CPU inference, verify and benchmark them."""

from kgan.export.compiled import CompiledGenerator
from kgan.export.converter import QUANTIZE_MODES, UnsupportedOpsError, to_litert
from kgan.export.costs import (
    cost_shares,
    format_cost_comparison,
    format_cost_table,
    layer_costs,
)
from kgan.export.inspect import model_macs, operator_names
from kgan.export.runtime import LiteRTGenerator, compare, verify

__all__ = [
    "CompiledGenerator",
    "QUANTIZE_MODES",
    "LiteRTGenerator",
    "UnsupportedOpsError",
    "compare",
    "cost_shares",
    "format_cost_comparison",
    "format_cost_table",
    "layer_costs",
    "model_macs",
    "operator_names",
    "to_litert",
    "verify",
]

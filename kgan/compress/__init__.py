"""Compact GAN: slim a generator by pruning filters through scaling gates.

`add_gates` puts a `ScalingGate` after every hidden convolution (one gate
per channel group of a residual trunk, see `channel_groups`), `round_plan`
picks the channels whose gates stay above a threshold, `rebuild` makes the
physically smaller network, `strip_gates` folds the gates away for export
and `slim` iterates all of it with training. `magnitude_prune` is the
unstructured baseline: single weights zeroed.
"""

from kgan.compress.gates import (
    add_gates,
    channel_groups,
    gate_anchors,
    gates,
    set_l1,
    strip_gates,
)
from kgan.compress.magnitude import magnitude_prune
from kgan.compress.prune import pruning_plan, rebuild, round_plan
from kgan.compress.slimming import SlimmingConfig, slim

__all__ = [
    "SlimmingConfig",
    "add_gates",
    "channel_groups",
    "gate_anchors",
    "gates",
    "magnitude_prune",
    "pruning_plan",
    "rebuild",
    "round_plan",
    "set_l1",
    "slim",
    "strip_gates",
]

"""The one run loop of every kgan model: run folder, checkpoints, logs,
samples, evaluation, a time budget and a hook."""

from kgan.runs.checkpoint import Checkpoint
from kgan.runs.data import DatasetData, Segment, StepData
from kgan.runs.loop import Progress, finish, run

__all__ = [
    "Checkpoint",
    "DatasetData",
    "Progress",
    "Segment",
    "StepData",
    "finish",
    "run",
]

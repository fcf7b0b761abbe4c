"""The run protocol of every kgan model: the recipe interface, config
options and their validation, the one run loop (run folder, checkpoints,
logs, samples, evaluation, a time budget and a hook) and the Keras
callbacks that the loop uses and a `fit` user passes."""

from kgan.checkpoint import Checkpoint
from kgan.runs import callbacks
from kgan.runs.data import DatasetData, Segment, StepData
from kgan.runs.loop import Progress, finish, run
from kgan.runs.recipe import Recipe, RunConfig, option, validate

__all__ = [
    "Checkpoint",
    "DatasetData",
    "Progress",
    "Recipe",
    "RunConfig",
    "Segment",
    "StepData",
    "callbacks",
    "finish",
    "option",
    "run",
    "validate",
]

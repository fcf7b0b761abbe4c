"""Experiments as studies: a recipe, named variants and seeds under one
budget, one record per run keyed by its config, reports built from the
records alone."""

from kgan.machine import machine_info, usable_cores
from kgan.studies.records import StudyPaths, read_record
from kgan.studies.report import format_status, study_status, study_table
from kgan.studies.runner import run_study
from kgan.studies.study import PROTOCOL_VERSION, Study, load_study

__all__ = [
    "PROTOCOL_VERSION",
    "Study",
    "StudyPaths",
    "format_status",
    "load_study",
    "machine_info",
    "read_record",
    "run_study",
    "study_status",
    "study_table",
    "usable_cores",
]

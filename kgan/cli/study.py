"""`kgan study run|status|table STUDY`: the reproductions as studies."""

import os
import pathlib
import sys

from kgan.studies import (
    StudyPaths,
    format_status,
    load_study,
    run_study,
    study_table,
)

# Set in the process that `--core` re-executes, so it does not do so again.
PINNED = "KGAN_STUDY_PINNED"


def add_study(subparsers):
    parser = subparsers.add_parser(
        "study",
        help="run a study (variants x seeds), show its status, build its report",
        description=__doc__.splitlines()[0],
    )
    actions = parser.add_subparsers(required=True, metavar="action")
    for name, handler, text in (
        ("run", _run, "train what is missing: seeds outer, variants alternating"),
        ("status", _status, "done / running / to do per variant and seed"),
        ("table", _table, "rebuild summary.json, figures and README.md from records"),
    ):
        action = actions.add_parser(name, help=text, description=text)
        action.add_argument(
            "study", help="a study name (studies/<name>.py) or a study file"
        )
        action.add_argument(
            "--studies", default="studies", help="folder of study files"
        )
        action.add_argument("--results", default="results", help="results folder")
        action.add_argument("--runs", default="runs", help="folder of the run folders")
        action.set_defaults(handler=handler)
        if name == "run":
            action.add_argument("--seeds", type=int, nargs="+", help="only these seeds")
            action.add_argument("--variants", nargs="+", help="only these variants")
            action.add_argument(
                "--core",
                type=int,
                help="pin the study to this CPU core (as taskset -c N)",
            )
            action.add_argument(
                "--verbose", type=int, default=1, help="1: progress bars, 0: quiet"
            )


def _load(args):
    study = load_study(args.study, args.studies)
    return study, StudyPaths(
        study.name, pathlib.Path(args.results), pathlib.Path(args.runs)
    )


def _run(args):
    if args.core is not None and not os.environ.get(PINNED):
        cores = sorted(os.sched_getaffinity(0))
        if args.core not in cores:
            raise ValueError(
                f"--core must be one of the usable cores {cores}. "
                f"Received: core={args.core}"
            )
        # TensorFlow sizes its thread pools when it starts: pin, then start
        # again in a fresh process that inherits the mask.
        os.sched_setaffinity(0, {args.core})
        os.environ[PINNED] = "1"
        os.execv(sys.executable, [sys.executable, "-m", "kgan.cli", *sys.argv[1:]])
    study, paths = _load(args)
    run_study(
        study, paths, seeds=args.seeds, variants=args.variants, verbose=args.verbose
    )
    print(format_status(study, paths))


def _status(args):
    print(format_status(*_load(args)))


def _table(args):
    study, paths = _load(args)
    study_table(study, paths)
    print(f"wrote {paths.folder / 'summary.json'} and {paths.folder / 'README.md'}")

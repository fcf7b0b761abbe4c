"""`Study`: a recipe, named variants, seeds, a budget and what to record."""

import dataclasses
import hashlib
import importlib.util
import json
import pathlib

from kgan.recipes import get
from kgan.runs import validate

# Bump when what a run does or records changes for the same config: every
# record of an older protocol is then rerun.
PROTOCOL_VERSION = 1


@dataclasses.dataclass(frozen=True)
class Study:
    """A reproduction as a table: every run is `recipe` trained on `base`
    with one variant's overrides and one seed, under one budget.

    Args:
        name: The study's name; its records go to `results/<name>/`.
        recipe: A recipe name of `kgan train` (`"dcgan"`, `"draw"`, ...).
        base: Config fields every variant shares.
        preset: A preset of the recipe (`kgan train MODEL --preset NAME`)
            that `base` and the variants start from, or `None`.
        variants: `{variant name: config overrides}`; in each seed the
            variants run in this order, one after the other. An override
            `recipe="gan"` trains that variant with another recipe (e.g. a
            paper's baseline model).
        seeds: The seeds every variant runs (at least 3 for a verdict).
        budget_seconds: Training seconds per run (compilation off the
            clock), or `None` to train the config's `steps`.
        record: Final metrics kept in the summary (see `kgan.studies.metrics`).
        history_every: Steps between the coverage probes during training
            (classes covered and confident share; 0: none).
        history_n: Samples per coverage probe.
        timeline_seconds: Training seconds between evaluations of the
            recipe's evaluator during training (also before the first step
            and at the end), for curves over time; `None`: none.
        reach: Metrics (lower is better) whose time to a value compares
            the `compare` pairs: per seed, the training seconds each run
            of a pair needs to reach the best value both reach, and their
            ratio (the baseline's over the variant's: above 1, the variant
            is faster). Needs `timeline_seconds`.
        compare: `(variant, baseline)` pairs: per seed ratios and
            differences of every recorded metric, and a verdict.
        claims: `(claim, metric, variant, baseline)`: a paper's claim that
            `variant` is better than `baseline` on `metric`; the report
            gives the verdict the records support.
        probes: Functions `probe(trainer, config) -> dict` run on each
            finished run's trainer; the dict goes into the record under the
            probe's name (its numbers also among the metrics), except an
            `"images"` entry (`{name: uint8 image}`) whose images are saved
            beside the record.
        description: A paragraph for the report: what the study reproduces
            and where it departs from the paper.
    """

    name: str
    recipe: str
    base: dict
    variants: dict
    preset: str | None = None
    seeds: tuple = (0, 1, 2)
    budget_seconds: float | None = None
    record: tuple = ()
    history_every: int = 0
    history_n: int = 2000
    timeline_seconds: float | None = None
    reach: tuple = ()
    compare: tuple = ()
    claims: tuple = ()
    probes: tuple = ()
    description: str = ""
    source: str = ""  # the study file, for error messages

    def __post_init__(self):
        where = f"Study {self.name!r} ({self.source or 'in code'})"
        if not self.variants:
            raise ValueError(f"{where} has no variants. Received: variants={{}}")
        for variant, overrides in self.variants.items():
            recipe = get(self.recipe_of(variant))
            if self.preset is not None and self.preset not in recipe.presets:
                raise ValueError(
                    f"{where}: the {recipe.name} recipe has the presets "
                    f"{list(recipe.presets)}. Received: preset={self.preset!r}"
                )
            fields = {f.name for f in dataclasses.fields(recipe.config_class)}
            for origin, settings in (("base", self.base), (variant, overrides)):
                unknown = sorted(set(settings) - fields - {"recipe"})
                if unknown:
                    name = unknown[0]
                    raise ValueError(
                        f"{where}: {origin} sets a field the {recipe.name} config "
                        f"does not have. Received: {name}={settings[name]!r}"
                    )
                if "seed" in settings:
                    raise ValueError(
                        f"{where}: seeds are the study's `seeds`, not a config "
                        f"field. Received: {origin}: seed={settings['seed']!r}"
                    )
        for pair in (*self.compare, *(claim[2:4] for claim in self.claims)):
            for variant in pair:
                if variant not in self.variants:
                    raise ValueError(
                        f"{where}: a comparison or claim names an unknown variant. "
                        f"Received: variant={variant!r}"
                    )
        if self.reach and self.timeline_seconds is None:
            raise ValueError(
                f"{where}: `reach` compares timelines; set `timeline_seconds`. "
                f"Received: reach={self.reach!r}, timeline_seconds=None"
            )
        if len(set(self.seeds)) != len(self.seeds) or not self.seeds:
            raise ValueError(
                f"{where}: seeds must be distinct and not empty. "
                f"Received: seeds={self.seeds!r}"
            )

    def config(self, variant, seed):
        """The validated config dataclass of one run."""
        if variant not in self.variants:
            raise ValueError(
                f"Study {self.name!r} has the variants {list(self.variants)}. "
                f"Received: variant={variant!r}"
            )
        recipe = get(self.recipe_of(variant))
        preset = recipe.presets[self.preset] if self.preset else {}
        overrides = {k: v for k, v in self.variants[variant].items() if k != "recipe"}
        settings = {**preset, **self.base, **overrides, "seed": seed}
        return validate(recipe.config_class(**settings))

    def recipe_of(self, variant):
        """The recipe name a variant trains with."""
        return self.variants[variant].get("recipe", self.recipe)

    def protocol(self, variant):
        """What a run shares with the study's others besides its config."""
        protocol = {
            "version": PROTOCOL_VERSION,
            "recipe": self.recipe_of(variant),
            "budget_seconds": self.budget_seconds,
            "history_every": self.history_every,
            "history_n": self.history_n,
        }
        if self.timeline_seconds is not None:  # as probes: older keys stay valid
            protocol["timeline_seconds"] = self.timeline_seconds
        if self.probes:  # only when there are any: older keys stay valid
            protocol["probes"] = [probe.__name__ for probe in self.probes]
        return protocol

    def key(self, variant, seed):
        """The record key of one run: a hash of its resolved config and the
        protocol. A run whose key changed is rerun; one whose key is the
        same is reused."""
        return record_key(
            dataclasses.asdict(self.config(variant, seed)), self.protocol(variant)
        )

    def runs(self, seeds=None, variants=None):
        """`(variant, seed)` in the order they run: seeds outer, variants
        alternating within each seed."""
        seeds = self.seeds if seeds is None else seeds
        variants = list(self.variants) if variants is None else variants
        for variant in variants:
            if variant not in self.variants:
                raise ValueError(
                    f"Study {self.name!r} has the variants {list(self.variants)}. "
                    f"Received: variant={variant!r}"
                )
        return [(v, s) for s in seeds for v in variants]


def record_key(config, protocol):
    text = json.dumps({"config": config, "protocol": protocol}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def load_study(spec, studies_dir="studies"):
    """The `STUDY` of a study file: a path to a `.py` file, or a name
    looked up as `<studies_dir>/<name>.py`."""
    path = pathlib.Path(spec)
    if path.suffix != ".py":
        path = pathlib.Path(studies_dir) / f"{spec}.py"
    if not path.is_file():
        known = sorted(p.stem for p in pathlib.Path(studies_dir).glob("*.py"))
        raise FileNotFoundError(
            f"No study file {path}. Studies in {studies_dir}/: {known}. "
            f"Received: study={spec!r}"
        )
    module_spec = importlib.util.spec_from_file_location(f"study_{path.stem}", path)
    module = importlib.util.module_from_spec(module_spec)
    try:
        module_spec.loader.exec_module(module)
    except ValueError as error:  # a bad Study(...): name the file
        raise ValueError(str(error).replace("(in code)", f"({path})")) from error
    study = getattr(module, "STUDY", None)
    if not isinstance(study, Study):
        raise ValueError(
            f"A study file defines STUDY = kgan.studies.Study(...). "
            f"Received: {path}: STUDY={study!r}"
        )
    return dataclasses.replace(study, source=str(path))

"""`kgan train MODEL`: one subcommand per recipe, its options generated from
the recipe's config dataclass, so that every field is settable."""

import argparse
import dataclasses
import json
import pathlib

from kgan.recipes import RECIPES
from kgan.runs.recipe import field_type


def _flag(name):
    return "--" + name.replace("_", "-")


def _optional(parse, choices):
    """A parser of an option that may be `none`, or one of `choices`."""

    def parse_value(text):
        if text.lower() == "none":
            return None
        value = parse(text)
        if choices is not None and value not in choices:
            raise argparse.ArgumentTypeError(
                f"invalid choice: {text!r} (choose from "
                f"{', '.join(map(str, choices))}, none)"
            )
        return value

    return parse_value


def _reporting(parse):
    """`parse`, with its error message shown by argparse as it is."""

    def parse_value(text):
        try:
            return parse(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from error

    return parse_value


def _show(value):
    if isinstance(value, dict):
        return ",".join(f"{k}:{v}" for k, v in value.items())
    return "none" if value is None else value


def add_config_options(parser, config_class):
    """Adds one option per field of `config_class`: its type, choices and
    help from the field's annotation and metadata."""
    defaults = config_class()
    for field in dataclasses.fields(config_class):
        kind, choices, optional = field_type(config_class, field)
        flags = [_flag(field.name), *field.metadata.get("aliases", ())]
        default = getattr(defaults, field.name)
        help_text = f"{field.metadata.get('help', '')} (default: {_show(default)})"
        if kind is bool:
            parser.add_argument(
                *flags,
                dest=field.name,
                action=argparse.BooleanOptionalAction,
                default=default,
                help=help_text,
            )
            continue
        parse = field.metadata.get("parse")
        parse = _reporting(parse) if parse else kind
        options = {"type": parse, "choices": choices}
        if optional:
            names = [*map(str, choices or ()), "none"] if choices else None
            options = {
                "type": _optional(parse, choices),
                "metavar": "{" + ",".join(names) + "}"
                if names
                else kind.__name__.upper(),
            }
        parser.add_argument(
            *flags, dest=field.name, default=default, help=help_text, **options
        )


def add_train(subparsers):
    parser = subparsers.add_parser(
        "train",
        help="train a GAN and write a run folder",
        description="Train a model with model.fit in kgan's run loop. The run "
        "folder gets config.json, samples/*.png, losses.csv and losses.png, "
        "metrics.csv and metrics.json where the model has an evaluator, "
        "generator.keras, the trainer's .keras file and run.json; a checkpoint "
        "while training, for --resume.",
    )
    models = parser.add_subparsers(required=True, metavar="MODEL", dest="model")
    for recipe in RECIPES.values():
        model = models.add_parser(
            recipe.name,
            help=recipe.summary,
            description=f"{recipe.summary}. Every option is a field of "
            f"{recipe.config_class.__module__}.{recipe.config_class.__name__}.",
        )
        add_config_options(model, recipe.config_class)
        model.add_argument(
            "--out",
            default=f"runs/{recipe.name}",
            help="run folder (default: %(default)s)",
        )
        model.add_argument(
            "--resume",
            action="store_true",
            help="continue an interrupted run in --out from its checkpoint",
        )
        model.add_argument(
            "--budget-minutes",
            type=float,
            default=None,
            help="stop after this many minutes of training (resumable)",
        )
        model.add_argument(
            "--tensorboard",
            action="store_true",
            help="also write TensorBoard logs to OUT/tensorboard",
        )
        if recipe.presets:
            model.add_argument(
                "--preset",
                choices=list(recipe.presets),
                default=None,
                help="start from these settings; options given here override "
                "them: "
                + "; ".join(
                    f"{name}: {', '.join(f'{k}={_show(v)}' for k, v in values.items())}"
                    for name, values in recipe.presets.items()
                ),
            )
        model.add_argument(
            "--dry-run",
            action="store_true",
            help="print the resolved config and the parameter counts, and exit",
        )
        model.set_defaults(handler=_train, recipe=recipe, parser=model)


def config_from_args(recipe, args):
    """The recipe's config from parsed options, validated."""
    from kgan.recipes import validate

    fields = dataclasses.fields(recipe.config_class)
    return validate(
        recipe.config_class(**{f.name: getattr(args, f.name) for f in fields})
    )


def _train(args):
    from kgan.runs import run

    recipe = args.recipe
    config = config_from_args(recipe, args)
    if args.dry_run:
        return _dry_run(recipe, config)
    budget = None if args.budget_minutes is None else 60.0 * args.budget_minutes
    run(
        recipe,
        config,
        args.out,
        resume=args.resume,
        budget_seconds=budget,
        tensorboard=args.tensorboard,
    )
    out = pathlib.Path(args.out)
    print(f"wrote {out}: generator.keras, {recipe.trainer_file}, samples/, losses.png")
    metrics_path = out / "metrics.json"
    if metrics_path.exists():
        from kgan.metrics import format_table

        metrics = json.loads(metrics_path.read_text())
        print(f"\nmetrics of the final generator ({metrics_path}):")
        print(
            format_table(metrics) if "n" in metrics else json.dumps(metrics, indent=2)
        )


def _dry_run(recipe, config):
    import numpy as np

    print(json.dumps({"model": recipe.name, **dataclasses.asdict(config)}, indent=2))
    trainer = recipe.build(config, recipe.data(config))
    for name, variables in (
        ("generator", trainer.generator_variables()),
        ("discriminator", trainer.discriminator_variables()),
    ):
        count = sum(int(np.prod(v.shape)) for v in variables)
        print(f"{name} parameters: {count:,}")

"""One recipe per model: its config, networks, data, samples and evaluator.

`RECIPES` maps the names of `kgan train MODEL` to them; adding a GAN to kgan
is a `models/` file and a recipe here."""

from kgan.recipes.gan import DCGANRecipe, DrawRecipe, VanillaRecipe
from kgan.recipes.pix2pix import Pix2PixRecipe
from kgan.recipes.progan import ProgressiveRecipe
from kgan.runs.recipe import Recipe, RunConfig, option, validate

RECIPES = {
    recipe.name: recipe
    for recipe in (
        VanillaRecipe(),
        DCGANRecipe(),
        DrawRecipe(),
        ProgressiveRecipe(),
        Pix2PixRecipe(),
    )
}


def get(name):
    """The recipe named `name`, or a clear error."""
    if name not in RECIPES:
        raise ValueError(
            f"Unknown model. Expected one of {list(RECIPES)}. Received: model={name!r}"
        )
    return RECIPES[name]


__all__ = ["RECIPES", "Recipe", "RunConfig", "get", "option", "validate"]

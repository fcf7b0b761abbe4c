"""Imports point down (DESIGN.md section 1): no kgan module imports one from
a layer above its own, not even inside a function."""

import ast
import pathlib

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "kgan"

# Bottom to top. A module may import from its own layer or any layer below.
LAYERS = (
    ("kgan.checkpoint", "kgan.files", "kgan.images", "kgan.latents", "kgan.layers",
     "kgan.losses", "kgan.machine", "kgan.plots"),
    ("kgan.compress", "kgan.data", "kgan.export", "kgan.metrics", "kgan.models",
     "kgan.saving"),
    ("kgan.runs.callbacks", "kgan.recipes", "kgan.runs"),
    ("kgan", "kgan.cli"),
)  # fmt: skip


def layer_of(module):
    """The layer of `module`, found by its longest listed prefix."""
    best = None
    for index, names in enumerate(LAYERS):
        for name in names:
            if module == name or module.startswith(name + "."):
                if best is None or len(name) > len(best[1]):
                    best = (index, name)
    if best is None:
        raise AssertionError(f"{module} is in no layer of LAYERS")
    return best[0]


def module_name(path):
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def kgan_imports(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module == "kgan":
            names = [f"kgan.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        for name in names:
            if name == "kgan" or name.startswith("kgan."):
                yield node.lineno, name


def test_every_import_points_down():
    upward = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = module_name(path)
        for line, imported in kgan_imports(ast.parse(path.read_text())):
            if layer_of(imported) > layer_of(module):
                upward.append(f"{path.relative_to(PACKAGE.parent)}:{line} {imported}")
    assert upward == []


def test_the_check_sees_an_upward_import():
    tree = ast.parse("def f():\n    from kgan.runs import run\n")
    ((line, imported),) = kgan_imports(tree)
    assert layer_of(imported) > layer_of("kgan.models.gan") and line == 2

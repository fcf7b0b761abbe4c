import importlib.util
import pathlib

SCRIPTS = pathlib.Path(__file__).parents[2] / "scripts"


def load_script(name):
    """Imports `scripts/<name>.py` as a module (scripts are not a package)."""
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module

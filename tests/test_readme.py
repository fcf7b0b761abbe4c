import importlib.metadata
import pathlib
import re

import kgan

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_ci_runs_the_readme_test_command():
    ci_lines = (ROOT / ".ci" / "run").read_text().strip().splitlines()
    command = ci_lines[-1]
    assert "pytest" in command
    assert command in (ROOT / "README.md").read_text().splitlines()


def test_version():
    assert kgan.__version__ == importlib.metadata.version("kgan")


def relative_links(path):
    """The relative targets of Markdown links and image tags in `path`."""
    text = path.read_text()
    targets = re.findall(r"\]\(([^)\s]+)\)", text) + re.findall(r'src="([^"]+)"', text)
    for target in targets:
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue
        yield target.split("#")[0]


def test_every_relative_link_resolves():
    pages = [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted(ROOT.glob("docs/*.md"))]
    pages += sorted(ROOT.glob("results/*/*.md"))
    broken = [
        f"{page.relative_to(ROOT)}: {target}"
        for page in pages
        for target in relative_links(page)
        if not (page.parent / target).exists()
    ]
    assert broken == []


def test_readme_is_short():
    assert len((ROOT / "README.md").read_text().splitlines()) <= 350

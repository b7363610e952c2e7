"""The README's quick start is a gallery example; the gallery and API reference are complete."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import pkgutil
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_readme_quickstart_is_the_example():
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"## Quick start\s+```python\n(.*?)```", readme, re.S).group(1)
    example = (ROOT / "examples" / "plot_gdc_quickstart.py").read_text()
    assert block.strip() in example


def test_readme_starts_with_install_and_test_commands():
    first_block = re.search(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(), re.S).group(1)
    lines = [line for line in first_block.splitlines() if line.strip()]
    assert "pip install torch==2.13.0" in lines[0] and "python -m skconvex" in lines[0]
    assert "pip install torch==2.13.0" in lines[1] and "python -m pytest" in lines[1]


# ----------------------------------------------------------------- the documentation site

EXAMPLES = sorted((ROOT / "examples").glob("plot_*.py"))


def _title_block(text: str) -> tuple[str, str]:
    lines = text.strip().splitlines()
    return lines[0].strip(), lines[1].strip()


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_is_in_gallery_form(path):
    """sphinx-gallery needs a docstring opening with a title underlined by '=', then cells."""
    source = path.read_text()
    docstring = ast.get_docstring(ast.parse(source))
    assert docstring, f"{path.name}: no module docstring"
    title, underline = _title_block(docstring)
    assert title and set(underline) == {"="} and len(underline) >= len(title), (
        f"{path.name}: the docstring must open with a title underlined by '=' signs"
    )
    assert "\n# %%\n" in source, f"{path.name}: no '# %%' cell"


def test_gallery_header():
    title, underline = _title_block((ROOT / "examples" / "README.txt").read_text())
    assert title and set(underline) == {"="} and len(underline) >= len(title)


def test_gallery_order_lists_every_example():
    spec = importlib.util.spec_from_file_location(
        "gallery_order", ROOT / "docs" / "sphinxext" / "gallery_order.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert sorted(module.ORDER) == sorted(p.name for p in EXAMPLES)


def _public_modules() -> list[str]:
    """Every public module with an ``__all__``: no path component starts with '_'.

    The submodules of ``skconvex.training`` are left out: the package's ``__all__`` is
    its public surface, and its submodules' own ``__all__`` are not yet trimmed to it.
    """
    import skconvex

    names = ["skconvex"] + [
        info.name
        for info in pkgutil.walk_packages(skconvex.__path__, "skconvex.")
        if not any(part.startswith("_") for part in info.name.split(".")[1:])
        and not info.name.startswith("skconvex.training.")
    ]
    return sorted(name for name in names if hasattr(importlib.import_module(name), "__all__"))


API_PACKAGES = tuple(_public_modules())


def _api_reference_objects() -> list[object]:
    """The objects named in the autosummary tables of the pages in docs/api/."""
    objects, current, in_table = [], None, False
    lines = [
        line for page in sorted((ROOT / "docs" / "api").glob("*.rst"))
        for line in page.read_text().splitlines()
    ]
    for line in lines:
        if line.startswith(".. currentmodule::"):
            current = line.split("::")[1].strip()
        elif line.startswith(".. autosummary::"):
            in_table = True
        elif in_table and line.startswith("   ") and not line.strip().startswith(":"):
            entry = line.strip().lstrip("~")
            objects.append(getattr(importlib.import_module(current), entry))
        elif line and not line.startswith(" "):
            in_table = False
    return objects


def test_public_modules_are_found():
    for package in ("skconvex", "skconvex.experiments", "skconvex.nn.masks", "skconvex.training"):
        assert package in API_PACKAGES


def test_api_reference_lists_every_public_name():
    documented = {id(obj) for obj in _api_reference_objects()}
    missing = [
        f"{package}.{name}"
        for package in API_PACKAGES
        for name in importlib.import_module(package).__all__
        if id(getattr(importlib.import_module(package), name)) not in documented
    ]
    assert not missing, f"Public names missing from the API reference (docs/api/): {missing}"


def test_api_reference_lists_only_public_names():
    public = {
        id(getattr(importlib.import_module(package), name))
        for package in API_PACKAGES
        for name in importlib.import_module(package).__all__
    }
    extra = [repr(obj) for obj in _api_reference_objects() if id(obj) not in public]
    assert not extra, f"The API reference (docs/api/) lists names no __all__ exports: {extra}"


def test_changelog_names_the_package_version():
    from skconvex import __version__

    changelog = (ROOT / "docs" / "changelog.md").read_text()
    first = re.search(r"^## (.+)$", changelog, re.M).group(1)
    assert first.split()[0] == __version__, (
        f"docs/changelog.md starts with {first!r}; skconvex/_version.py says {__version__}"
    )

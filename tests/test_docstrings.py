"""Every public class and function has a numpydoc Examples section that runs as a doctest.

"Public" is the ``__all__`` of the modules the API reference documents (every module
whose path has no component starting with '_'). The doctests themselves run with the
rest of the suite (``--doctest-modules`` over ``skconvex/``); this test makes sure each
public name has one, and that pytest's doctest collection finds it.
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil
import re
import sys

import pytest


def _public_modules() -> tuple[str, ...]:
    """Every public module with an ``__all__`` (as in test_docs.py: no path component
    starts with '_'; the submodules of ``skconvex.training`` are left to the package)."""
    import skconvex

    names = ["skconvex"] + [
        info.name
        for info in pkgutil.walk_packages(skconvex.__path__, "skconvex.")
        if not any(part.startswith("_") for part in info.name.split(".")[1:])
        and not info.name.startswith("skconvex.training.")
    ]
    return tuple(sorted(n for n in names if hasattr(importlib.import_module(n), "__all__")))


PACKAGES = _public_modules()

_EXAMPLES = re.compile(r"^Examples\n-{8,}\n(.*?)(?=^\S.*\n-{3,}\n|\Z)", re.M | re.S)


def _public_callables():
    """(public name, object) for every class and function in the packages' ``__all__``."""
    for package in PACKAGES:
        module = importlib.import_module(package)
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj) or inspect.isroutine(obj):
                yield f"{package}.{name}", obj


def _examples_section(obj) -> str | None:
    """The text of the numpydoc Examples section of ``obj``'s docstring, if any."""
    match = _EXAMPLES.search(inspect.getdoc(obj) or "")
    return match.group(1) if match else None


def _has_doctest(obj) -> bool:
    section = _examples_section(obj)
    return section is not None and ">>>" in section


def test_packages_declare_all():
    for package in PACKAGES:
        assert isinstance(importlib.import_module(package).__all__, list | tuple), package


def test_every_public_name_has_an_examples_section():
    missing = sorted(name for name, obj in _public_callables() if not _has_doctest(obj))
    assert not missing, (
        "Public classes or functions without a numpydoc 'Examples' section with a doctest "
        "(>>>): " + ", ".join(missing)
    )


@pytest.mark.parametrize("name", sorted(n for n, _ in _public_callables()))
def test_examples_are_collected_as_doctests(name):
    """The section is where doctest looks: on the object, in the module that defines it."""
    obj = dict(_public_callables())[name]
    if not _has_doctest(obj):
        pytest.skip("no Examples section (see test_every_public_name_has_an_examples_section)")
    module = sys.modules[obj.__module__]
    found = {
        test.name: test
        for test in doctest.DocTestFinder().find(module)
        if test.examples
    }
    qualified = f"{obj.__module__}.{obj.__qualname__}"
    assert qualified in found, (
        f"{name}: doctest finds no examples under {qualified} in {obj.__module__}; "
        "pytest --doctest-modules would not run them"
    )

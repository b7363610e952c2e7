"""Sphinx configuration of the skconvex documentation.

Build with ``sphinx-build -W --keep-going -b html docs docs/_build/html`` (warnings are
errors). ``-D plot_gallery=0`` skips running the gallery examples (for quick builds
while writing); CI runs them all.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: the gallery's figures are written to files

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))  # the source tree, also when the package is not installed
sys.path.insert(0, str(DOCS / "sphinxext"))  # gallery_order

# One torch/BLAS thread per process, unless the caller set it: the examples are timed
# on one core.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import skconvex

# -- Project ---------------------------------------------------------------------------
project = "skconvex"
author = "skconvex developers"
copyright = "skconvex developers"
release = skconvex.__version__
version = ".".join(release.split(".")[:2])

# -- General ---------------------------------------------------------------------------
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = [
    "_build",
    "Thumbs.db",
    ".DS_Store",
    # sphinx-gallery writes these beside the pages it makes; only the .rst pages are sources.
    "auto_examples/*.ipynb",
    "auto_examples/*.py",
    "auto_examples/*.md5",
    "auto_examples/*.json",
    "auto_examples/*.zip",
]

# The user-guide pages are Markdown files that also read well on GitHub (their headings
# start at '#', they link to each other by file name, their formulas are plain Unicode
# text). Nothing here needs MyST's extra syntax; anchors for the ## and ### headings
# let other pages link to sections.
myst_heading_anchors = 3

# No warning type is suppressed: the Markdown pages and the docstrings build cleanly
# with warnings as errors. Add a specific type here (never a whole family) only with a
# comment saying which page needs it and why.
suppress_warnings: list[str] = []

# -- autodoc / autosummary / numpydoc --------------------------------------------------
autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"member-order": "groupwise"}
autodoc_typehints = "none"  # numpydoc's Parameters sections say the types
add_module_names = False

numpydoc_show_class_members = False  # the class template lists the methods itself
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True

# -- sphinx-gallery --------------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",  # every example is run
    "ignore_pattern": r"__init__\.py",
    "within_subsection_order": "gallery_order.ExampleOrder",
    "backreferences_dir": "gen_modules/backreferences",
    "doc_module": ("skconvex",),
    "reference_url": {"skconvex": None},
    "image_scrapers": ("matplotlib",),
    "matplotlib_animations": False,
    "remove_config_comments": True,
    "min_reported_time": 0,
    "show_memory": False,
    "download_all_examples": False,
    # Only rich reprs (an estimator's diagram, a DataFrame) are shown for a cell's last
    # expression; the text repr of a Figure or an Axes title would be noise.
    "capture_repr": ("_repr_html_",),
    # An example that raises fails the build (the default); no expected failures.
    "expected_failing_examples": [],
    "only_warn_on_example_error": False,
    "image_srcset": ["2x"],  # sharp figures on high-density screens
}


# -- HTML ------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"skconvex {release}"
html_static_path: list[str] = []
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    # The example pages give the whole width to code and figures (no right sidebar).
    # Page names, not a second wildcard: the theme warns when two wildcards match.
    "secondary_sidebar_items": {
        "**": ["page-toc", "sourcelink"],
        **{f"auto_examples/{path.stem}": [] for path in (ROOT / "examples").glob("plot_*.py")},
    },
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_show_sourcelink = True
html_last_updated_fmt = None


# -- Hooks -----------------------------------------------------------------------------
def _skip_library_members(app, what, name, obj, skip, options):
    """Leave out the members that come unchanged from scikit-learn or torch.

    The class pages document what skconvex defines (its estimators' ``fit``,
    ``predict``, ...). ``get_params``, ``score``, the metadata-routing
    ``set_*_request`` methods, ``set_output`` and torch's ``Module`` methods are
    scikit-learn's and torch's own; their docstrings link into those projects'
    documentation (labels that do not exist here).
    """
    module = getattr(obj, "__module__", None) or ""
    if module.split(".")[0] in {"sklearn", "torch"}:
        return True
    return None


def _data_comments() -> dict[str, list[str]]:
    """The ``#:`` doc comments of every module-level constant of the package, by name.

    A constant such as ``skconvex.PAPER_RECIPE`` is documented under the name users
    import, but its ``#:`` comment sits in the module that defines it
    (``skconvex/_gdc.py``), which autodoc does not read for an imported name.
    """
    import pkgutil

    from sphinx.errors import PycodeError
    from sphinx.pycode import ModuleAnalyzer

    docs: dict[str, list[str]] = {}
    names = ["skconvex"] + [m.name for m in pkgutil.walk_packages(skconvex.__path__, "skconvex.")]
    for modname in names:
        try:
            attr_docs = ModuleAnalyzer.for_module(modname).find_attr_docs()
        except PycodeError:  # a module without source: no comments to read
            continue
        for (scope, attr), lines in attr_docs.items():
            if scope == "":
                docs.setdefault(attr, list(lines))
    return docs


_DATA_DOCS = _data_comments()


def _document_data(app, what, name, obj, options, lines):
    """A constant's doc is its ``#:`` comment, never the docstring of its type."""
    if what != "data":
        return
    lines[:] = list(_DATA_DOCS.get(name.rsplit(".", 1)[-1], []))


def setup(app):
    app.connect("autodoc-skip-member", _skip_library_members)
    app.connect("autodoc-process-docstring", _document_data)

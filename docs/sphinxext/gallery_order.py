"""The order of the examples in the gallery (sphinx-gallery's ``within_subsection_order``)."""

from __future__ import annotations

from pathlib import Path

#: Reading order: the quick start, then one example per method, the bounds last. An
#: example not listed here comes after these, by file name.
ORDER = [
    "plot_gdc_quickstart.py",
    "plot_gdc_vs_sse.py",
    "plot_grid_search_lambda_zc.py",
    "plot_gsp_path.py",
    "plot_cpna_xor.py",
    "plot_rvsm_sparsity.py",
    "plot_convergence_suggestions.py",
]


class ExampleOrder:
    """Sort key: the position in :data:`ORDER`, then the file name."""

    def __init__(self, src_dir: str) -> None:
        self.src_dir = src_dir

    def __call__(self, filename: str) -> tuple[int, str]:
        name = Path(filename).name
        return (ORDER.index(name) if name in ORDER else len(ORDER), name)

    def __repr__(self) -> str:  # sphinx-gallery compares configurations by repr
        return f"<{type(self).__name__}>"

"""One-command reproductions of the papers' tables and figures.

``python -m skconvex.experiments LIST`` names them; ``python -m skconvex.experiments
NAME [--quick] [--seeds N] [--out DIR] [--data-home DIR] [--n-jobs N]`` runs one and
writes ``NAME.json`` (settings, per-run records, summary, versions, seeds, wall time,
the exact command) and ``NAME.md`` (a table with the paper's number beside ours) into
``--out``. ``--quick`` runs the smallest sizes (a few minutes on 2 cores).

From Python, :func:`list_experiments` names them and :func:`run_experiment` runs one
with a :class:`Context`. Nothing else here is public: each experiment lives in its own
module and registers itself with the harness, and those modules' helpers carry no
promise. Nothing here downloads data (see :func:`skconvex.datasets.get_data_home`).
"""

from ._registry import (  # noqa: F401  (EXPERIMENTS, ...: the harness's own, not public)
    EXPERIMENTS,
    Context,
    Experiment,
    Result,
    get_experiment,
    list_experiments,
    register,
    run_experiment,
)

__all__ = ["Context", "list_experiments", "run_experiment"]

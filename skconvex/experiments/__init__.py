"""One-command reproductions of the papers' tables and figures.

``python -m skconvex.experiments LIST`` names them; ``python -m skconvex.experiments
NAME [--quick] [--seeds N] [--out DIR] [--data-home DIR] [--n-jobs N]`` runs one and
writes ``NAME.json`` (settings, per-run records, summary, versions, seeds, wall time,
the exact command) and ``NAME.md`` (a table with the paper's number beside ours) into
``--out``. ``--quick`` runs the smallest sizes (a few minutes on 2 cores).

Each experiment lives in its own module and registers itself with
:func:`register`; nothing here downloads data (see :func:`skconvex.datasets.get_data_home`).
"""

from ._registry import EXPERIMENTS, Context, Experiment, Result, get_experiment, register, run_experiment

__all__ = ["EXPERIMENTS", "Context", "Experiment", "Result", "get_experiment", "register", "run_experiment"]

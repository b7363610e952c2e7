"""Shared helpers of the skconvex benchmarks: environment, timing, result writing.

Every benchmark writes ``<name>.json`` (all settings, per-run records, summaries,
versions, the exact command line, wall time) and ``<name>.md`` (a table, a reading
of the result, and the command that reproduces it) into ``--out`` (default
``benchmarks/results``).
"""

from __future__ import annotations

import contextlib
import math
import os
import shlex
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

# The result writing is the library's (``python -m skconvex.experiments`` writes the same
# way); the names are re-exported for the bench scripts that import them from here.
from skconvex.experiments._report import environment, fmt_g, git_state, md_table, now_iso
from skconvex.experiments._report import write_files as write_results

if TYPE_CHECKING:
    from skconvex.experiments import Result

__all__ = [
    "DEFAULT_OUT", "Stopwatch", "auto_lambda_patch_check", "command_line", "environment", "fmt_g",
    "git_state", "header_block", "md_table", "memoized", "now_iso", "patched_auto_lambda_spread",
    "run_and_write", "worker_setup", "write_results",
]

DEFAULT_OUT = Path(__file__).resolve().parent / "results"


def command_line() -> str:
    """The command that was run, as it could be typed again from the repository root."""
    argv = list(sys.argv)
    try:
        argv[0] = os.path.relpath(argv[0], Path(__file__).resolve().parent.parent)
    except ValueError:  # another drive on Windows
        pass
    return "python " + shlex.join(argv)


def worker_setup() -> None:
    """Call at the start of every joblib task: one torch thread, quiet warnings.

    With ``n_jobs=2`` on two cores each worker gets one core; ConvergenceWarning at
    ``max_iter`` is expected (the budget is fixed on purpose) and would only flood the log.
    """
    import torch

    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")


_MEMO: dict = {}


def memoized(key, build):
    """``build()`` once per worker process and key (joblib reuses its workers).

    A cache in the benchmark script itself would not survive: joblib pickles the
    script's functions by value, globals included, for every task.
    """
    if key not in _MEMO:
        _MEMO[key] = build()
    return _MEMO[key]


class Stopwatch:
    """``with Stopwatch() as sw: ...`` then ``sw.seconds``."""

    def __enter__(self):
        self._t0 = time.perf_counter()
        self.seconds = math.nan
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self._t0
        return False


def _git_line(env: dict, git_end: dict | None) -> str:
    g = env.get("git") or {}
    if not g.get("commit"):
        return ""
    dirty = g.get("library_uncommitted_files") or []
    text = f" Library at commit `{g['commit'][:10]}`" + (
        f" with uncommitted changes in {', '.join(dirty)}" if dirty else " (skconvex/ clean)"
    )
    if git_end and git_end.get("commit") and git_end["commit"] != g["commit"]:
        text += (
            f"; HEAD moved to `{git_end['commit'][:10]}` during the run (worker processes "
            "import the library when they start, at the beginning of the run)"
        )
    return text + "."


def header_block(title: str, env: dict, cmd: str, wall_s: float, started: str,
                 git_end: dict | None = None) -> str:
    return (
        f"## {title}\n\n"
        f"Run {started}, wall time {wall_s / 60:.1f} min on {env['cpu_count']} CPU cores "
        f"({env['platform']}); torch {env['torch']}, scikit-learn {env['sklearn']}, "
        f"skconvex {env['skconvex']}, Python {env['python']}.{_git_line(env, git_end)}\n\n"
        f"Reproduce (from the repository root, with `. .venv/bin/activate`):\n\n"
        f"```\n{cmd}\n```\n"
    )


def run_and_write(
    out_dir, name: str, title: str, run: Callable[[], Result], options: dict
) -> tuple[Path, Path]:
    """Run an experiment of ``skconvex.experiments`` and write it in the benchmarks' format.

    ``run()`` returns a :class:`skconvex.experiments.Result`; ``<out_dir>/<name>.md`` gets
    :func:`header_block` (the command as typed, versions, commits at start and end), the
    result's table and its notes, so ``benchmarks/report.py`` reads it like the others.
    ``options`` (the script's parsed arguments) is recorded beside the result's settings.
    """
    started, env, t0 = now_iso(), environment(), time.perf_counter()
    result = run()
    wall = time.perf_counter() - t0
    git_end, cmd = git_state(), command_line()
    md = (header_block(title, env, cmd, wall, started, git_end) + "\n" + result.table.strip() + "\n\n"
          + result.notes.strip() + "\n")
    payload = dict(
        name=name, started=started, wall_seconds=wall, command=cmd, environment=env, git_end=git_end,
        options=options, settings=result.settings, paper=result.paper, summary=result.summary,
        notes=result.notes, records=result.records,
    )
    paths = write_results(out_dir, name, payload, md)
    print(md)
    print("wrote", *paths)
    return paths


@contextlib.contextmanager
def patched_auto_lambda_spread(spread: float | None):
    """Set ``skconvex.training.strategies.AUTO_LAMBDA_SPREAD`` for the duration.

    ``auto_lambda(errors, sample_weight, spread=AUTO_LAMBDA_SPREAD)`` binds its default
    when the module is imported, so assigning the module attribute alone does not reach
    the estimators (checked: λ₀ stays at the spread-1 value). Both the attribute and the
    function's default are patched here, and both are restored afterwards, because
    joblib reuses its worker processes between tasks. ``None`` changes nothing.
    """
    from skconvex.training import strategies

    if spread is None:
        yield
        return
    old_attr = strategies.AUTO_LAMBDA_SPREAD
    func = strategies.auto_lambda
    old_defaults = func.__defaults__
    strategies.AUTO_LAMBDA_SPREAD = float(spread)
    if old_defaults is not None and len(old_defaults) >= 1:
        # The last positional default is ``spread`` in the signature checked above.
        func.__defaults__ = old_defaults[:-1] + (float(spread),)
    try:
        yield
    finally:
        strategies.AUTO_LAMBDA_SPREAD = old_attr
        func.__defaults__ = old_defaults


def auto_lambda_patch_check() -> dict:
    """Whether patching only the module attribute reaches ``auto_lambda`` (recorded)."""
    import torch

    from skconvex.training import strategies

    e = torch.tensor([0.5, 1.0, 3.0], dtype=torch.float64)  # e_M − median = 2
    base = strategies.auto_lambda(e)
    old = strategies.AUTO_LAMBDA_SPREAD
    strategies.AUTO_LAMBDA_SPREAD = 10 * old
    try:
        attr_only = strategies.auto_lambda(e)
    finally:
        strategies.AUTO_LAMBDA_SPREAD = old
    with patched_auto_lambda_spread(10 * old):
        both = strategies.auto_lambda(e)
    return {
        "library_default_spread": old,
        "auto_lambda_default_arg": (strategies.auto_lambda.__defaults__ or (None,))[-1],
        "lambda0_default": base,
        "lambda0_after_setting_module_attribute_x10": attr_only,
        "module_attribute_alone_takes_effect": bool(abs(attr_only - base) > 1e-12),
        "lambda0_after_benchmark_patch_x10": both,
        "benchmark_patch_takes_effect": bool(abs(both - 10 * base) < 1e-9 * abs(10 * base)),
    }

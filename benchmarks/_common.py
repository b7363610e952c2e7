"""Shared helpers of the skconvex benchmarks: environment, timing, result writing.

Every benchmark writes ``<name>.json`` (all settings, per-run records, summaries,
versions, the exact command line, wall time) and ``<name>.md`` (a table, a reading
of the result, and the command that reproduces it) into ``--out`` (default
``benchmarks/results``).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import math
import os
import platform
import shlex
import sys
import time
import warnings
from pathlib import Path

import numpy as np

DEFAULT_OUT = Path(__file__).resolve().parent / "results"


def command_line() -> str:
    """The command that was run, as it could be typed again from the repository root."""
    argv = list(sys.argv)
    try:
        argv[0] = os.path.relpath(argv[0], Path(__file__).resolve().parent.parent)
    except ValueError:  # another drive on Windows
        pass
    return "python " + shlex.join(argv)


def git_state() -> dict:
    """Commit of the working tree and whether the library (``skconvex/``) had local edits.

    Other people edit the library while benchmarks run: the commit is recorded at the
    start and at the end of every run, with the list of uncommitted library files.
    """
    import subprocess

    root = Path(__file__).resolve().parent.parent

    def git(*args):
        try:
            return subprocess.run(
                ["git", *args], cwd=root, capture_output=True, text=True, timeout=30, check=True
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return None

    dirty = git("status", "--porcelain", "--", "skconvex")
    return {
        "commit": git("rev-parse", "HEAD"),
        # `git status --porcelain` lines are "XY path"; the first one lost its leading
        # blank to strip(), so split on whitespace instead of slicing.
        "library_uncommitted_files": None if dirty is None else [l.split(maxsplit=1)[-1] for l in dirty.splitlines()],
        "time": now_iso(),
    }


def environment() -> dict:
    """Versions and machine facts recorded with every result."""
    import sklearn
    import torch

    import skconvex

    try:
        import joblib

        joblib_version = joblib.__version__
    except ImportError:  # pragma: no cover
        joblib_version = None
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch": torch.__version__,
        "sklearn": sklearn.__version__,
        "skconvex": skconvex.__version__,
        "numpy": np.__version__,
        "joblib": joblib_version,
        "git": git_state(),
    }


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


def now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, (np.bool_,)):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        value = float(obj)
        return value if math.isfinite(value) else repr(value)  # JSON has no inf/nan
    return obj


def write_results(out_dir, name: str, payload: dict, markdown: str) -> tuple[Path, Path]:
    """Write ``<out_dir>/<name>.json`` and ``<out_dir>/<name>.md``; return both paths.

    Files are written to a ``.tmp`` sibling first and renamed, so an interrupted run
    never leaves half a result behind.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for suffix, text in (
        (".json", json.dumps(_jsonable(payload), indent=1, ensure_ascii=False) + "\n"),
        (".md", markdown if markdown.endswith("\n") else markdown + "\n"),
    ):
        path = out / f"{name}{suffix}"
        tmp = out / f"{name}{suffix}.tmp"
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
        paths.append(path)
    return paths[0], paths[1]


def md_table(headers: list[str], rows: list[list]) -> str:
    """A GitHub markdown table."""

    def cell(v):
        return str(v).replace("|", "\\|")

    lines = [
        "| " + " | ".join(cell(h) for h in headers) + " |",
        "|" + "|".join("---" for _ in headers) + "|",
    ]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def fmt_g(x, digits: int = 3) -> str:
    """Compact number: 3 significant digits, scientific when small or large."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return str(x)
    x = float(x)
    if x == 0:
        return "0"
    if 1e-3 <= abs(x) < 1e4:
        return f"{x:.{digits}g}"
    return f"{x:.{max(digits - 1, 0)}e}"


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

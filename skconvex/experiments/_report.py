"""Writing results: versions, the exact command, JSON and a markdown table.

Shared by ``python -m skconvex.experiments`` and the scripts in ``benchmarks/``.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import math
import os
import platform
import subprocess
import warnings
from pathlib import Path

import numpy as np

__all__ = [
    "PartialResults", "environment", "fmt_g", "git_state", "jsonable", "md_table", "now_iso",
    "write_files", "write_result",
]  # fmt: skip


def now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def git_state() -> dict:
    """Commit of the source tree and its uncommitted library files (None outside a checkout)."""
    root = Path(__file__).resolve().parents[2]

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
    import joblib
    import sklearn
    import torch

    from .. import __version__

    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch": torch.__version__,
        "sklearn": sklearn.__version__,
        "skconvex": __version__,
        "numpy": np.__version__,
        "joblib": joblib.__version__,
        "git": git_state(),
    }


def jsonable(obj):
    """``obj`` with numpy scalars and arrays as Python values; inf and NaN as strings."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return jsonable(dataclasses.asdict(obj))
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        value = float(obj)
        return value if math.isfinite(value) else repr(value)  # JSON has no inf/nan
    if isinstance(obj, Path):
        return str(obj)
    return obj


def write_files(out_dir, name: str, payload: dict, markdown: str) -> tuple[Path, Path]:
    """Write ``<out_dir>/<name>.json`` and ``<out_dir>/<name>.md``; return both paths.

    Each file is written to a ``.tmp`` sibling first and renamed, so an interrupted run
    never leaves half a result behind.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for suffix, text in (
        (".json", json.dumps(jsonable(payload), indent=1, ensure_ascii=False) + "\n"),
        (".md", markdown if markdown.endswith("\n") else markdown + "\n"),
    ):
        path = out / f"{name}{suffix}"
        tmp = out / f"{name}{suffix}.tmp"
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
        paths.append(path)
    return paths[0], paths[1]


def md_table(headers: list, rows: list[list]) -> str:
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


def write_result(out, experiment, context, result, *, env: dict, command: str, started: str, wall: float):
    """The JSON payload and the markdown page of one experiment run."""
    seeds = result.settings.get("seeds")
    md = (
        f"## {experiment.title}\n\n"
        f"{experiment.paper}. Run {started}, wall time {wall / 60:.1f} min on {env['cpu_count']} CPU cores "
        f"({env['platform']}); torch {env['torch']}, scikit-learn {env['sklearn']}, skconvex "
        f"{env['skconvex']}" + (f", commit `{env['git']['commit'][:10]}`" if env["git"].get("commit") else "")
        + (" (quick sizes)" if context.quick or context.tiny else "") + "."
        + (f" Seeds: {seeds}." if seeds is not None else "")
        + f"\n\nReproduce:\n\n```\n{command}\n```\n\n{result.table.strip()}\n"
        + (f"\n{result.notes.strip()}\n" if result.notes else "")
    )
    payload = {
        "experiment": experiment.name,
        "title": experiment.title,
        "paper_reference": experiment.paper,
        "command": command,
        "started": started,
        "wall_seconds": wall,
        "context": _context(context),
        "environment": env,
        "settings": result.settings,
        "summary": result.summary,
        "paper": result.paper,
        "records": result.records,
        "notes": result.notes,
    }
    return write_files(out, experiment.name, payload, md)


def _context(context) -> dict:
    return {"quick": context.quick, "tiny": context.tiny, "seeds": context.seeds,
            "data_home": str(context.data_home), "n_jobs": context.n_jobs}  # fmt: skip


class PartialResults:
    """``NAME.partial.jsonl``: what a run has finished so far, one JSON object per line.

    A header line (experiment, command, start, context) is written when it is made;
    :meth:`add` appends ``{"result": ...}`` for each result as it arrives. Used as a
    context manager around the run: an exception or Ctrl-C inside appends
    ``{"status": "failed" | "interrupted", "error": ...}`` and propagates. A write that
    fails after the header does not stop the run; it warns once.

    Examples
    --------
    >>> import json, tempfile
    >>> from pathlib import Path
    >>> from skconvex.experiments import Context
    >>> from skconvex.experiments._report import PartialResults
    >>> with tempfile.TemporaryDirectory() as out:
    ...     path = Path(out) / "demo.partial.jsonl"
    ...     try:
    ...         with PartialResults(path, "demo", "cmd", "today", Context()) as partial:
    ...             partial.add({"seed": 0, "error": 0.25})
    ...             raise RuntimeError("diverged")
    ...     except RuntimeError:
    ...         pass
    ...     lines = [json.loads(line) for line in path.read_text().splitlines()]
    >>> lines[1]
    {'result': {'seed': 0, 'error': 0.25}}
    >>> lines[2]
    {'status': 'failed', 'error': 'RuntimeError: diverged'}
    """

    def __init__(self, path, name: str, command: str, started: str, context) -> None:
        self.path = Path(path)
        self._warned = False
        header = {"experiment": name, "command": command, "started": started,
                  "context": _context(context), "status": "running"}  # fmt: skip
        self._append(header, mode="w")

    def _append(self, record: dict, mode: str = "a") -> None:
        line = json.dumps(jsonable(record), ensure_ascii=False, default=repr)
        with open(self.path, mode, encoding="utf-8") as f:
            f.write(line + "\n")

    def _try_append(self, record: dict) -> None:
        try:
            self._append(record)
        except OSError as exc:  # the run goes on; its final files may still be written
            if not self._warned:
                warnings.warn(f"cannot write partial results to {self.path}: {exc}", stacklevel=3)
                self._warned = True

    def add(self, result) -> None:
        """Append one finished result."""
        self._try_append({"result": result})

    def __enter__(self) -> PartialResults:
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc is not None:
            status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
            self._try_append({"status": status, "error": f"{type(exc).__name__}: {exc}"})
        return False

    def remove(self) -> None:
        """Delete the file (the complete results are written)."""
        self.path.unlink(missing_ok=True)

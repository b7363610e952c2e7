"""The registry of experiments and the runner that writes their results."""

from __future__ import annotations

import importlib
import os
import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..datasets import get_data_home

# Public (re-exported by the package): Context, list_experiments, run_experiment. The rest
# is the harness's own machinery, for the experiment modules, the tests and benchmarks/.
__all__ = [
    "EXPERIMENTS",
    "Context",
    "Experiment",
    "Result",
    "get_experiment",
    "list_experiments",
    "register",
    "run_experiment",
]

# Modules that define experiments, imported on first use (each calls `register`).
_MODULES: tuple[str, ...] = ("gdc", "anrat", "cpna", "rvsm", "uci_search", "interplay")


@dataclass(frozen=True)
class Context:
    """How to run an experiment: sizes, seeds, data and workers.

    The keyword arguments of :func:`run_experiment`'s ``context``, matching the options
    of ``python -m skconvex.experiments NAME``.

    Attributes
    ----------
    quick : bool
        Smallest sizes: a few minutes on 2 cores (exercised by the tests with ``tiny``).
    tiny : bool
        Even smaller than quick, for tests and examples only (seconds; the numbers mean
        nothing); implies ``quick``.
    seeds : int or None
        Number of seeds (runs); None: the experiment's default for full or quick runs.
    data_home : pathlib.Path
        Directory laid out like the project's ``shared/data`` (a str is converted);
        default: :func:`skconvex.datasets.get_data_home`.
    n_jobs : int
        Parallel workers (joblib); every worker uses one torch thread.

    Examples
    --------
    >>> from skconvex.experiments import Context
    >>> context = Context(quick=True, seeds=2, data_home="data")
    >>> context.data_home.name  # a pathlib.Path
    'data'
    >>> context.n_seeds(full=5), Context().n_seeds(full=5)
    (2, 5)
    """

    quick: bool = False
    tiny: bool = False
    seeds: int | None = None
    data_home: Path = field(default_factory=get_data_home)
    n_jobs: int = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "data_home", Path(self.data_home))  # a str is accepted too

    def n_seeds(self, full: int, quick: int = 1) -> int:
        """``seeds`` if given, else ``quick`` for quick (or tiny) runs and ``full`` otherwise."""
        if self.seeds is not None:
            return int(self.seeds)
        return quick if (self.quick or self.tiny) else full


@dataclass
class Result:
    """What an experiment's ``run`` returns.

    Attributes
    ----------
    table : str
        The markdown table(s), the paper's numbers beside ours.
    records : list of dict
        One record per run (JSON-serializable).
    summary : dict
        Aggregates that a reader or a test looks up.
    settings : dict
        Everything that fixes the run (budgets, learning rates, sizes).
    notes : str
        How to read the table: deviations from the paper, what holds and what does not.
    paper : dict
        The paper's numbers.
    """

    table: str
    records: list = field(default_factory=list)
    summary: dict = field(default_factory=dict)
    settings: dict = field(default_factory=dict)
    notes: str = ""
    paper: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Experiment:
    """One reproduction.

    Attributes
    ----------
    name : str
        The command-line name, e.g. ``"cpna-table3"``.
    title : str
        One line: what is reproduced.
    paper : str
        Which paper, table or figure.
    run : callable
        ``run(context: Context) -> Result``.
    needs : tuple of str
        Subdirectories of ``data_home`` the experiment reads (e.g. ``("mnist",)``).
    minutes : tuple of float
        Rough wall time on 2 cores with ``--n-jobs 2``: (quick, full); measured where a
        full run was made (docs/reproductions.md), estimated otherwise.
    """

    name: str
    title: str
    paper: str
    run: Callable[[Context], Result]
    needs: tuple[str, ...] = ()
    minutes: tuple[float, float] = (1.0, 10.0)

    def missing_data(self, data_home: Path) -> list[str]:
        return [need for need in self.needs if not (Path(data_home) / need).is_dir()]


EXPERIMENTS: dict[str, Experiment] = {}
_loaded = False


def register(experiment: Experiment) -> Experiment:
    """Add ``experiment`` to :data:`EXPERIMENTS` (its name must be new)."""
    if experiment.name in EXPERIMENTS:
        raise ValueError(f"An experiment named {experiment.name!r} is already registered.")
    EXPERIMENTS[experiment.name] = experiment
    return experiment


def _load() -> None:
    global _loaded
    if not _loaded:
        for module in _MODULES:
            name = f"{__package__}.{module}"
            try:
                importlib.import_module(name)
            except ModuleNotFoundError as exc:  # a module not written yet; other errors raise
                if exc.name != name:
                    raise
        _loaded = True


def get_experiment(name: str) -> Experiment:
    """The registered experiment ``name``; a KeyError lists the known names."""
    _load()
    try:
        return EXPERIMENTS[name]
    except KeyError:
        raise KeyError(f"Unknown experiment {name!r}; known: {sorted(EXPERIMENTS)}.") from None


def list_experiments() -> list[str]:
    """The names of the experiments, sorted (``python -m skconvex.experiments LIST``).

    Examples
    --------
    >>> from skconvex.experiments import list_experiments
    >>> "cpna-table1" in list_experiments()
    True
    """
    _load()
    return sorted(EXPERIMENTS)


def _command_line(name: str, context: Context, out: str | os.PathLike[str]) -> str:
    """The ``python -m skconvex.experiments`` command that runs the same thing."""
    args = [name]
    if context.tiny:
        args.append("--tiny")
    elif context.quick:
        args.append("--quick")
    if context.seeds is not None:
        args += ["--seeds", str(context.seeds)]
    args += ["--out", str(out), "--data-home", str(context.data_home)]
    if context.n_jobs != 1:
        args += ["--n-jobs", str(context.n_jobs)]
    return "python -m skconvex.experiments " + shlex.join(args)


def run_experiment(
    name: str, context: Context, out: str | os.PathLike[str], command: str | None = None
) -> tuple[Path, Path]:
    """Run experiment ``name`` and write ``<out>/<name>.json`` and ``<out>/<name>.md``.

    The same as ``python -m skconvex.experiments NAME``: the JSON file holds the
    settings, every run, the summary, the paper's numbers, versions, seeds, wall time
    and the command; the markdown file the table with the paper's number beside ours.

    Parameters
    ----------
    name : str
        One of :func:`list_experiments`.
    context : Context
        Sizes, seeds, data directory and workers.
    out : str or path-like
        Directory for the two files (created if needed).
    command : str, optional
        The command recorded as the way to reproduce the run; by default the
        equivalent ``python -m skconvex.experiments`` command line.

    Returns
    -------
    json_path, md_path : pathlib.Path
        The two files written.

    Raises
    ------
    KeyError
        If ``name`` is not an experiment (the message lists the names).
    FileNotFoundError
        If the experiment's data are missing under ``context.data_home`` (the message
        names the directories).

    Examples
    --------
    >>> import tempfile
    >>> from skconvex.experiments import Context, run_experiment
    >>> with tempfile.TemporaryDirectory() as out:  # tiny: seconds, far below --quick
    ...     json_path, md_path = run_experiment("cpna-table1", Context(tiny=True), out)
    ...     print(json_path.name, md_path.name)
    cpna-table1.json cpna-table1.md
    """
    from ._report import environment, write_result

    experiment = get_experiment(name)
    missing = experiment.missing_data(context.data_home)
    if missing:
        raise FileNotFoundError(
            f"Experiment {name!r} needs {', '.join(missing)} under {context.data_home} "
            "(set --data-home or SKCONVEX_DATA; see skconvex.datasets.get_data_home)."
        )
    env = environment()
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    t0 = time.perf_counter()
    result = experiment.run(context)
    wall = time.perf_counter() - t0
    if command is None:
        command = _command_line(name, context, out)
    return write_result(out, experiment, context, result, env=env, command=command, started=started, wall=wall)

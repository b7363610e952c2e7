"""The registry of experiments and the runner that writes their results."""

from __future__ import annotations

import dataclasses
import importlib
import os
import shlex
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from numbers import Integral
from pathlib import Path

from ..datasets import get_data_home

# Public (re-exported by the package): Context, list_experiments, run_experiment. The rest
# is the harness's own machinery, for the experiment modules, the tests and benchmarks/.
__all__ = [
    "EXPERIMENTS",
    "Context",
    "Experiment",
    "Result",
    "check_out",
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
        Parallel workers (joblib); every worker uses one torch thread. Negative
        values count back from all cores, as in joblib (-1: all); 0 is an error.
    on_result : callable or None
        Called with each result :meth:`map` collects, as it arrives; the harness
        sets it to write ``NAME.partial.jsonl`` (not part of the comparison).

    Raises
    ------
    ValueError
        If ``seeds`` is not None or a positive int, or ``n_jobs`` is not a
        non-zero int.

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
    on_result: Callable[[object], None] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "data_home", Path(self.data_home))  # a str is accepted too
        if self.seeds is not None and (not _is_int(self.seeds) or self.seeds < 1):
            raise ValueError(f"seeds must be None or a positive int; got {self.seeds!r}.")
        if not _is_int(self.n_jobs) or self.n_jobs == 0:
            raise ValueError(
                f"n_jobs must be a positive number of workers, or negative to count back "
                f"from all cores (-1: all, as in joblib); got {self.n_jobs!r}."
            )

    def map(self, fn: Callable, tasks: Iterable[tuple]) -> list:
        """``[fn(*task) for task in tasks]`` over ``n_jobs`` workers, one torch thread each.

        Each result is passed to ``on_result`` as soon as it is in (in task order), so
        a long run keeps what it finished if it fails or is interrupted later.

        Examples
        --------
        >>> from skconvex.experiments import Context
        >>> seen = []
        >>> Context(on_result=seen.append).map(pow, [(2, 3), (3, 2)])
        [8, 9]
        >>> seen
        [8, 9]
        """
        results = []
        for result in _imap(fn, list(tasks), self.n_jobs):
            results.append(result)
            if self.on_result is not None:
                self.on_result(result)
        return results

    def n_seeds(self, full: int, quick: int = 1) -> int:
        """``seeds`` if given, else ``quick`` for quick (or tiny) runs and ``full`` otherwise."""
        if self.seeds is not None:
            return int(self.seeds)
        return quick if (self.quick or self.tiny) else full


def collect(results: Iterable, on_record: Callable | None = None, record=lambda r: r) -> list:
    """``list(results)``, handing ``record(r)`` of each to ``on_record`` as it comes in.

    For experiments that run their own joblib generator: each finished task reaches
    the harness's partial results file (``Context.on_result``) at once.

    Examples
    --------
    >>> seen = []
    >>> collect(iter([1, 2]), seen.append, record=lambda r: r * 10), seen
    ([1, 2], [10, 20])
    """
    out = []
    for result in results:
        out.append(result)
        if on_record is not None:
            on_record(record(result))
    return out


def _is_int(value) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool)


def _one_thread(fn: Callable, *args):
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return fn(*args)
    finally:
        torch.set_num_threads(previous)


def _imap(fn: Callable, tasks: list, n_jobs: int) -> Iterator:
    """The results of ``fn(*task)`` in task order, each as soon as it is in."""
    if n_jobs == 1 or len(tasks) <= 1:
        return (_one_thread(fn, *task) for task in tasks)
    from joblib import Parallel, delayed

    parallel = Parallel(n_jobs=n_jobs, return_as="generator")
    return parallel(delayed(_one_thread)(fn, *task) for task in tasks)


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


def _result_files(out: Path, name: str) -> list[Path]:
    return [out / f"{name}{suffix}" for suffix in (".json", ".md", ".partial.jsonl")]


def check_out(out: str | os.PathLike[str], name: str, force: bool = False) -> Path:
    """Make sure the results of ``name`` can be written to ``out``, before any run.

    Creates ``out`` if needed and writes (then removes) a probe file in it. Existing
    ``NAME.json``, ``NAME.md`` or ``NAME.partial.jsonl`` are kept unless ``force``.

    Raises
    ------
    FileExistsError
        If a result file of ``name`` exists in ``out`` and ``force`` is False.
    OSError
        If ``out`` cannot be created or written to (the message names it).
    """
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out, prefix=f".{name}.probe-"):
            pass
    except OSError as exc:
        raise OSError(
            exc.errno,
            f"cannot write the results to {out} ({exc.strerror or exc}); choose another "
            "--out (nothing was run)",
        ) from exc
    existing = [str(path) for path in _result_files(out, name) if path.exists()]
    if existing and not force:
        raise FileExistsError(
            f"{', '.join(existing)} already exist(s); pass --force (force=True) to "
            "overwrite, or choose another --out (nothing was run)."
        )
    return out


def _check_data(name: str, context: Context) -> Experiment:
    experiment = get_experiment(name)
    missing = experiment.missing_data(context.data_home)
    if missing:
        raise FileNotFoundError(
            f"Experiment {name!r} needs {', '.join(missing)} under {context.data_home} "
            "(set --data-home or SKCONVEX_DATA; see skconvex.datasets.get_data_home)."
        )
    return experiment


def run_experiment(
    name: str,
    context: Context,
    out: str | os.PathLike[str],
    command: str | None = None,
    *,
    force: bool = False,
) -> tuple[Path, Path]:
    """Run experiment ``name`` and write ``<out>/<name>.json`` and ``<out>/<name>.md``.

    The same as ``python -m skconvex.experiments NAME``: the JSON file holds the
    settings, every run, the summary, the paper's numbers, versions, seeds, wall time
    and the command; the markdown file the table with the paper's number beside ours.

    ``out`` is checked before the run starts. While it runs, ``<out>/<name>.partial.jsonl``
    receives a header line, then one line per result that the experiment collects
    through :meth:`Context.map` as it arrives, then a last line with the status
    (``"failed"`` or ``"interrupted"`` and the error) if the run does not finish; it is
    removed when the two result files are written.

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
    force : bool, default=False
        Overwrite this experiment's result files in ``out``; without it, existing
        ones make the call fail before the run.

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
    FileExistsError
        If ``out`` holds result files of ``name`` and ``force`` is False.
    OSError
        If ``out`` cannot be created or written to.

    Examples
    --------
    >>> import tempfile
    >>> from skconvex.experiments import Context, run_experiment
    >>> with tempfile.TemporaryDirectory() as out:  # tiny: seconds, far below --quick
    ...     json_path, md_path = run_experiment("cpna-table1", Context(tiny=True), out)
    ...     print(json_path.name, md_path.name)
    cpna-table1.json cpna-table1.md
    """
    from ._report import PartialResults, environment, write_result

    experiment = _check_data(name, context)
    out_dir = check_out(out, name, force)
    if command is None:
        command = _command_line(name, context, out)
    env = environment()
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    partial = PartialResults(_result_files(out_dir, name)[2], name, command, started, context)
    t0 = time.perf_counter()
    with partial:
        result = experiment.run(dataclasses.replace(context, on_result=partial.add))
    wall = time.perf_counter() - t0
    paths = write_result(
        out_dir, experiment, context, result, env=env, command=command, started=started, wall=wall
    )
    partial.remove()
    return paths

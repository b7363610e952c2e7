"""``python -m skconvex.experiments LIST | NAME [--quick] [--seeds N] [--out DIR] [--force]``.

``--out`` is checked before the run starts; existing result files are kept unless
``--force``; finished results go to ``NAME.partial.jsonl`` as they arrive.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from ..datasets import get_data_home
from ._registry import EXPERIMENTS, Context, _check_data, _load, check_out, run_experiment


def _n_jobs(text: str) -> int:
    """argparse type of ``--n-jobs``: a non-zero int (joblib's convention)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value == 0:
        raise argparse.ArgumentTypeError(
            f"must be a positive number of workers, or negative to count back from all "
            f"cores (-1: all); got {text!r}"
        )
    return value


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(
        prog="python -m skconvex.experiments",
        description="Reproduce a table or figure of the papers behind skconvex.",
    )
    parser.add_argument("name", help="an experiment name, or LIST to show them")
    parser.add_argument("--quick", action="store_true", help="smallest sizes: a few minutes on 2 cores")
    parser.add_argument("--tiny", action="store_true", help=argparse.SUPPRESS)  # the test suite's size
    parser.add_argument("--seeds", type=int, default=None, help="number of seeds (runs)")
    parser.add_argument("--out", default="skconvex-results", help="directory for NAME.json and NAME.md")
    parser.add_argument(
        "--force", action="store_true", help="overwrite NAME.json and NAME.md in --out"
    )
    parser.add_argument("--data-home", default=None, help="data directory (default: SKCONVEX_DATA or ~/skconvex_data)")
    parser.add_argument(
        "--n-jobs", type=_n_jobs, default=1, help="parallel workers (-1: all cores)"
    )
    args = parser.parse_args(argv)
    _load()
    data_home = get_data_home(args.data_home)
    if args.name.upper() == "LIST":
        width = max((len(n) for n in EXPERIMENTS), default=4)
        for name, exp in sorted(EXPERIMENTS.items()):
            missing = exp.missing_data(data_home)
            status = f"needs {', '.join(missing)} under {data_home}" if missing else "ready"
            print(f"{name:<{width}}  ~{exp.minutes[0]:g} min quick, ~{exp.minutes[1]:g} min full  "
                  f"{exp.paper}: {exp.title} [{status}]")
        return 0
    if args.name not in EXPERIMENTS:
        parser.error(f"unknown experiment {args.name!r}; run LIST to see the names")
    if args.seeds is not None and args.seeds < 1:
        parser.error("--seeds must be at least 1")
    context = Context(quick=args.quick or args.tiny, tiny=args.tiny, seeds=args.seeds,
                      data_home=Path(data_home), n_jobs=args.n_jobs)
    command = "python -m skconvex.experiments " + shlex.join(argv)
    try:  # the data and --out are checked before the run: a bad --out costs nothing
        _check_data(args.name, context)
        check_out(args.out, args.name, args.force)
    except OSError as exc:  # missing data, result files that exist, --out not writable
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        paths = run_experiment(args.name, context, args.out, command, force=args.force)
    except FileNotFoundError as exc:  # a data file the run itself finds missing
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(Path(paths[1]).read_text())
    print("wrote", *paths)
    return 0


if __name__ == "__main__":
    sys.exit(main())

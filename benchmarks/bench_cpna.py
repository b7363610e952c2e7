"""CPNA reproductions: Table 1 (k-D XOR) and Table 3 (UCI data) of Guo & Barbu.

The protocol, the paper's numbers and the sizes live in :mod:`skconvex.experiments.cpna`
(``python -m skconvex.experiments cpna-table1`` and ``cpna-table3`` run the same); this
script keeps the benchmarks' options and writes ``cpna_xor<tag>`` and ``cpna_uci<tag>``
(``.json`` and ``.md``) into ``--out`` for ``benchmarks/report.py``. Options left out
keep the experiment's full sizes (``--quick``: its quick sizes, under ``<out>/quick``).

Usage::

    python benchmarks/bench_cpna.py                 # both tables
    python benchmarks/bench_cpna.py --only xor --seeds 5
    python benchmarks/bench_cpna.py --quick         # smoke test, about a minute
    python benchmarks/bench_cpna.py --only xor --datasets "3D-XOR p=60" --seeds 10 \\
        --records results/cpna_xor_trials.jsonl     # resumable, one trial appended at a time
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DEFAULT_OUT, run_and_write  # noqa: E402

from skconvex.experiments import Context  # noqa: E402
from skconvex.experiments import cpna  # noqa: E402

# Command-line option -> settings key, per table (``--runs`` is Table 3's seeds).
XOR_OPTIONS = {o: o for o in ("seeds", "seed_start", "batch_size", "max_width", "pretrain_iter", "prune_iter")}
UCI_OPTIONS = {"runs": "seeds", "epochs": "epochs", "pretrain_iter_uci": "pretrain_iter",
               "prune_iter_uci": "prune_iter"}


def _settings(base: dict, args: argparse.Namespace, options: dict) -> dict:
    """``base`` with the options given on the command line."""
    given = {key: getattr(args, opt) for opt, key in options.items() if getattr(args, opt) is not None}
    return base | given


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["xor", "uci", "default"], default=None)
    parser.add_argument("--tag", default="", help="suffix of the result files (e.g. _fullbatch)")
    size = parser.add_argument_group("sizes (default: the experiment's full sizes; its quick ones with --quick)")
    for table, options, full in (("Table 1", XOR_OPTIONS, cpna.XOR_FULL), ("Table 3", UCI_OPTIONS, cpna.UCI_FULL)):
        for opt, key in options.items():
            size.add_argument("--" + opt.replace("_", "-"), type=int, help=f"{table}; full: {full.get(key, 0)}")
    parser.add_argument("--datasets", nargs="+", choices=list(cpna._XOR), help="Table 1: only these")
    parser.add_argument("--uci-datasets", nargs="+", choices=list(cpna._UCI), help="Table 3: only these")
    parser.add_argument("--records", default=None,
                        help="Table 1: JSON-lines file of finished trials (appended as they end; "
                             "trials already there are not rerun)")
    parser.add_argument("--data-home", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", default=str(DEFAULT_OUT))
    args = parser.parse_args(argv)
    out_dir = Path(args.out) / "quick" if args.quick else Path(args.out)
    context = Context(quick=args.quick)
    options = vars(args) | {"out": str(args.out)}
    if args.only in (None, "xor"):
        settings = _settings(cpna.table_settings("xor", context), args, XOR_OPTIONS)
        settings["datasets"] = args.datasets
        title = "CPNA Table 1: k-D XOR with irrelevant features"
        title += f" ({args.tag.strip('_')})" if args.tag else ""
        run_and_write(out_dir, "cpna_xor" + args.tag, title,
                      lambda: cpna.xor_table(settings, n_jobs=args.n_jobs, verbose=5,
                                             records_path=args.records), options)
    if args.only == "default":
        data_home = args.data_home if (Path(args.data_home) / "uci").is_dir() else None
        run_and_write(out_dir, "cpna_default" + args.tag, "CPNAClassifier() default: XOR and UCI",
                      lambda: cpna.default_table(args.seeds or 3, data_home, n_jobs=args.n_jobs, verbose=5),
                      options)
    if args.only in (None, "uci"):
        if (Path(args.data_home) / "uci").is_dir():
            settings = _settings(cpna.table_settings("uci", context), args, UCI_OPTIONS)
            settings["datasets"] = args.uci_datasets
            run_and_write(out_dir, "cpna_uci" + args.tag, "CPNA Table 3: UCI data",
                          lambda: cpna.uci_table(settings, args.data_home, n_jobs=args.n_jobs, verbose=5),
                          options)
        else:
            print(f"skipping Table 3: no UCI data under {args.data_home}")


if __name__ == "__main__":
    main()

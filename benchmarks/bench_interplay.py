"""The interplay paper's Figure 1 trends on digits and MNIST, with the bounds beside them.

The sweeps, what is measured and the bounds live in :mod:`skconvex.experiments.interplay`
(``python -m skconvex.experiments interplay-figure1`` runs the same); this script writes
``interplay.json`` and ``interplay.md`` into ``--out`` for ``benchmarks/report.py`` and
draws ``docs/images/interplay_figure1.png`` (measured and bound per sweep, each scaled
to its maximum, as the paper's plots are). MNIST sweeps are skipped when
``<data-home>/mnist`` is missing.

Usage::

    python benchmarks/bench_interplay.py             # about 15 min on 2 cores
    python benchmarks/bench_interplay.py --quick     # a few minutes
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DEFAULT_OUT, run_and_write  # noqa: E402

from skconvex.experiments import Context  # noqa: E402
from skconvex.experiments import interplay  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DATA_HOME = ROOT.parent / "shared" / "data"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, help="seeds per configuration (full: 3)")
    parser.add_argument("--data-home", default=str(DATA_HOME))
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", default=str(DEFAULT_OUT))
    parser.add_argument("--figure", default=str(ROOT / "docs" / "images" / "interplay_figure1.png"))
    args = parser.parse_args(argv)
    context = Context(quick=args.quick, seeds=args.seeds, data_home=Path(args.data_home), n_jobs=args.n_jobs)
    results = {}

    def run():
        result = interplay.run_figure1(context)
        # docs/benchmarks.md shows the figure this script draws (path relative to docs/)
        figure = Path(args.figure).resolve()
        if figure.parent == ROOT / "docs" / "images":
            result.notes = (f"![Figure 1 trends: measured and bound, each scaled to its sweep's "
                            f"maximum](images/{figure.name})\n\n" + result.notes)
        results["result"] = result
        return result

    out = Path(args.out) / ("quick" if args.quick else "")
    run_and_write(out, "interplay", "Interplay paper, Figure 1: expected gradient norms against "
                  "network structure, with the bounds (11) and (13)", run, vars(args))
    interplay.plot_figure1(results["result"].summary, args.figure)
    print("wrote", args.figure)


if __name__ == "__main__":
    main()

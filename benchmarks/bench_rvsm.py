"""RVSM: the shape of Dinh & Xin's Tables 1 and 2 on networks a 2-core CPU can train.

The cases (digits-mlp, mnist-mlp, mnist-lenet5), the methods (dense, RVSM ℓ1 / Tℓ1 /
ℓ0 with and without the per-epoch reset, ADMM, magnitude pruning at equal sparsity), the
paper's numbers and the sizes live in :mod:`skconvex.experiments.rvsm`
(``python -m skconvex.experiments rvsm-digits`` and ``rvsm-mnist`` run the same); this
script runs any set of cases into one ``rvsm<tag>`` (``.json`` and ``.md``) in ``--out``
for ``benchmarks/report.py``. Options left out keep the experiment's full sizes
(``--quick``: its quick sizes). MNIST cases are skipped when ``<data-home>/mnist`` has
no MNIST.

Usage::

    python benchmarks/bench_rvsm.py                  # all three cases
    python benchmarks/bench_rvsm.py --only digits-mlp --seeds 5
    python benchmarks/bench_rvsm.py --quick          # smoke test, about a minute
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DEFAULT_OUT, run_and_write  # noqa: E402

from skconvex.experiments import Context  # noqa: E402
from skconvex.experiments import rvsm  # noqa: E402

DATA_HOME = Path(__file__).resolve().parents[2] / "shared" / "data"
# Per-case options: the case each one sets.
SEED_OPTIONS = {"seeds": "digits-mlp", "seeds_mnist": "mnist-mlp", "seeds_lenet5": "mnist-lenet5"}
EPOCH_OPTIONS = {"epochs_digits": "digits-mlp", "epochs_mnist_mlp": "mnist-mlp",
                 "epochs_lenet5": "mnist-lenet5"}
SCALAR_OPTIONS = ("lam", "beta", "lr", "finetune_fraction", "n_train", "n_test")


def _settings(args: argparse.Namespace, cases: list[str]) -> dict:
    """The experiment's settings for ``cases`` with the options given on the command line."""
    settings = rvsm.rvsm_settings(Context(quick=args.quick), cases)
    for key, options in (("seeds", SEED_OPTIONS), ("epochs", EPOCH_OPTIONS)):
        settings[key] = settings[key] | {case: getattr(args, opt) for opt, case in options.items()
                                         if case in cases and getattr(args, opt) is not None}
    return settings | {k: getattr(args, k) for k in SCALAR_OPTIONS if getattr(args, k) is not None}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=list(rvsm.CASES), action="append", default=None)
    full = rvsm.RVSM_FULL
    for key, options in (("seeds", SEED_OPTIONS), ("epochs", EPOCH_OPTIONS)):
        for opt, case in options.items():
            parser.add_argument("--" + opt.replace("_", "-"), type=int,
                                help=f"{key} of {case} (full: {full[key][case]})")
    parser.add_argument("--lam", type=float, help=f"λ (default {full['lam']:g})")
    parser.add_argument("--beta", type=float, help=f"β (default {full['beta']:g})")
    parser.add_argument("--lr", type=float, help=f"SGD learning rate (default {full['lr']:g})")
    parser.add_argument("--finetune-fraction", type=float,
                        help="fine-tuning epochs of magnitude pruning, as a fraction of the training epochs "
                             f"(default {full['finetune_fraction']:g})")
    parser.add_argument("--n-train", type=int,
                        help="subsample MNIST's training set (default: all; --quick: 2000)")
    parser.add_argument("--n-test", type=int, help="subsample MNIST's test set (default: all)")
    parser.add_argument("--data-home", default=str(DATA_HOME))
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--tag", default="")
    parser.add_argument("--out", default=str(DEFAULT_OUT))
    args = parser.parse_args(argv)
    wanted = args.only or list(rvsm.CASES)
    have_mnist = (Path(args.data_home) / "mnist" / "train-images-idx3-ubyte.gz").exists()
    cases = [c for c in wanted if rvsm.CASES[c]["data"] == "digits" or have_mnist]
    if len(cases) < len(wanted):
        print(f"MNIST not found under {args.data_home}: running {cases} only")
    settings = _settings(args, cases)
    run_and_write(
        args.out, "rvsm" + args.tag,
        "RVSM: sparsity and accuracy per penalty, against ADMM and magnitude pruning (paper Tables 1–2)",
        lambda: rvsm.rvsm_table(settings, args.data_home, n_jobs=args.n_jobs, verbose=5),
        vars(args),
    )


if __name__ == "__main__":
    main()

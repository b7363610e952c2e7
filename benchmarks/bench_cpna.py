"""CPNA reproductions: Table 1 (k-D XOR) and Table 3 (UCI data) of Guo & Barbu.

Table 1 (``--only xor``): 3D-XOR p = 60, 4D-XOR p = 40, 5D-XOR p = 20, 3000 training
and 3000 test samples (``make_xor``, a new draw per seed). Per seed:

* NN(best): a dense one-hidden-layer ReLU net trained from 10 initializations; the one
  with the lowest final training loss is kept (the paper's "best energy minimum");
* CPNA(hidden): prune the hidden→output connections to the paper's count;
* CPNA(all): then prune the input→hidden connections too;
* CPNA(random), CPNA(init): the CPNA(hidden) subnetwork (its masks) retrained from a
  new random initialization and from CPNA's own initial weights (same random_state),
  for as many iterations as CPNA(hidden) trained.

An iteration is one epoch of minibatch Adam (``--batch-size``, default 100; 3000 makes
it one full-batch step, FSA's iteration); Adam lr 1e-3, L2 1e-3 (the paper's "default
Adam optimizer and L2 penalty 0.001"). Test AUC is that of the final network (no
selection on the test set). Binary problems have two softmax outputs, so a
hidden→output count of 12 is, e.g., 6 units with both outputs.

Table 3 (``--only uci``): car, segmentation, optdigits, mfeat (fac, 216 features) and
isolet (only isolet5 is on disk: 1559 rows) from ``../shared/data`` (or
``SKCONVEX_DATA``), a stratified 4:1 train/test split per run, inputs scaled to
[−1, 1] on the training part. NN(best): dense net of the paper's best width;
NN(equivalent): dense net of the paper's "equivalent" width; CPNA: starts from the
NN(best) width and prunes to the paper's connection counts (input, hidden). Test
accuracy of the final network, 10 runs. The paper tuned width, L2 and batch size by
10×5-fold CV; we use its chosen widths and fixed L2 1e-3, batch 32 (no search).

Usage::

    python benchmarks/bench_cpna.py                 # both tables
    python benchmarks/bench_cpna.py --only xor --seeds 5
    python benchmarks/bench_cpna.py --quick         # smoke test, about a minute
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import MinMaxScaler

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402
    DEFAULT_OUT,
    Stopwatch,
    command_line,
    environment,
    git_state,
    header_block,
    md_table,
    now_iso,
    worker_setup,
    write_results,
)

from skconvex import CPNAClassifier  # noqa: E402
from skconvex.datasets import load_uci, make_xor  # noqa: E402

# Table 1 of the paper: (k, p) -> starting width, hidden and input connection counts,
# and the paper's test AUC (%) for NN(best), CPNA(hidden), CPNA(all), random, init.
XOR = {
    "3D-XOR p=60": dict(k=3, p=60, width=1024, hidden=12, input=24,
                        paper=(82.53, 96.58, 99.58, 70.47, 71.68)),
    "4D-XOR p=40": dict(k=4, p=40, width=2048, hidden=16, input=32,
                        paper=(72.17, 95.31, 98.31, 52.83, 69.32)),
    "5D-XOR p=20": dict(k=5, p=20, width=4096, hidden=64, input=256,
                        paper=(66.24, 80.03, 96.83, 53.21, 66.29)),
}
XOR_METHODS = ("NN(best)", "CPNA(hidden)", "CPNA(all)", "CPNA(random)", "CPNA(init)")

# Table 3: best width, equivalent width, CPNA (input, hidden) connections, and the
# paper's accuracies (%) NN(best), NN(equivalent), NN+CPNA.
UCI = {
    "car": dict(width=64, equivalent=6, input=120, hidden=32, paper=(100.0, 98.23, 100.0)),
    "segmentation": dict(width=256, equivalent=14, input=266, hidden=98, paper=(96.87, 96.27, 98.40)),
    "optdigits": dict(width=512, equivalent=27, input=1792, hidden=160, paper=(98.80, 98.25, 99.01)),
    "mfeat": dict(width=64, equivalent=4, input=583, hidden=320, paper=(97.85, 95.45, 98.15)),
    "isolet": dict(width=64, equivalent=9, input=4683, hidden=1118, paper=(96.73, 94.31, 96.91)),
}
UCI_METHODS = ("NN(best)", "NN(equivalent)", "CPNA")


def _xor_task(name: str, seed: int, cfg: dict, width: int, pretrain: int, prune: int, n_inits: int,
              nn_width: int, batch_size: int):
    worker_setup()
    X, y = make_xor(6000, n_features=cfg["p"], n_informative=cfg["k"], random_state=seed)
    Xtr, ytr, Xte, yte = X[:3000], y[:3000], X[3000:], y[3000:]
    common = dict(batch_size=batch_size, alpha=1e-3, learning_rate_init=1e-3)
    record = {"dataset": name, "seed": seed, "width": width}

    def auc(clf):
        return float(roc_auc_score(yte, clf.predict_proba(Xte)[:, 1]))

    with Stopwatch() as sw:
        best = None
        for i in range(n_inits):
            nn = CPNAClassifier(
                hidden_layer_sizes=(nn_width,), n_connections={}, pretrain_iter=pretrain + 2 * prune,
                random_state=1000 * seed + i, **common,
            ).fit(Xtr, ytr)
            if best is None or nn.loss_curve_[-1] < best.loss_curve_[-1]:
                best = nn
        record["NN(best)"] = auc(best)
        record["NN(best) training loss"] = best.loss_curve_[-1]

        cpna_kw = dict(
            hidden_layer_sizes=(width,), n_connections={"hidden": cfg["hidden"], "input": cfg["input"]},
            pretrain_iter=pretrain, prune_iter=prune, random_state=seed, **common,
        )
        hidden = CPNAClassifier(prune_layers="hidden", **cpna_kw).fit(Xtr, ytr)
        record["CPNA(hidden)"] = auc(hidden)
        record["CPNA(hidden) active units"] = hidden.n_active_hidden_[0]
        full = CPNAClassifier(**cpna_kw).fit(Xtr, ytr)
        record["CPNA(all)"] = auc(full)
        record["CPNA(all) features"] = int(full.support_.sum())
        record["CPNA(all) training AUC"] = full.training_auc_curve_[-1]
        retrain = dict(
            hidden_layer_sizes=(width,), n_connections={}, initial_masks=hidden.masks_,
            pretrain_iter=pretrain + prune, **common,
        )
        record["CPNA(random)"] = auc(CPNAClassifier(random_state=seed + 10_000, **retrain).fit(Xtr, ytr))
        record["CPNA(init)"] = auc(CPNAClassifier(random_state=seed, **retrain).fit(Xtr, ytr))
    record["seconds"] = sw.seconds
    return record


def _uci_task(name: str, run: int, cfg: dict, data_home, epochs: int, pretrain: int, prune: int):
    worker_setup()
    X, y = load_uci(name, data_home=data_home, return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.2, stratify=y, random_state=run)
    scaler = MinMaxScaler(feature_range=(-1, 1)).fit(Xtr)
    Xtr, Xte = scaler.transform(Xtr), np.clip(scaler.transform(Xte), -1, 1)
    common = dict(batch_size=32, alpha=1e-3, learning_rate_init=1e-3, random_state=run)
    record = {"dataset": name, "run": run, "n_train": len(ytr), "n_test": len(yte)}
    with Stopwatch() as sw:
        for method, width in (("NN(best)", cfg["width"]), ("NN(equivalent)", cfg["equivalent"])):
            clf = CPNAClassifier(
                hidden_layer_sizes=(width,), n_connections={}, pretrain_iter=epochs, **common
            ).fit(Xtr, ytr)
            record[method] = float(clf.score(Xte, yte))
            record[f"{method} connections"] = sum(clf.n_connections_.values())
        clf = CPNAClassifier(
            hidden_layer_sizes=(cfg["width"],),
            n_connections={"hidden": cfg["hidden"], "input": cfg["input"]},
            pretrain_iter=pretrain, prune_iter=prune, **common,
        ).fit(Xtr, ytr)
        record["CPNA"] = float(clf.score(Xte, yte))
        record["CPNA connections"] = sum(clf.n_connections_.values())
        record["CPNA active units"] = clf.n_active_hidden_[0]
        record["CPNA features"] = int(clf.support_.sum())
    record["seconds"] = sw.seconds
    return record


def _mean_std(values) -> str:
    values = 100 * np.asarray(values, dtype=float)
    return f"{values.mean():.2f} ± {values.std():.2f}"


def run_xor(args, out_dir) -> None:
    started, env, t0 = now_iso(), environment(), time.time()
    tasks = []
    for name, cfg in XOR.items():
        width = min(cfg["width"], args.max_width)
        for seed in range(args.seeds):
            tasks.append(delayed(_xor_task)(
                name, seed, cfg, width, args.pretrain_iter, args.prune_iter, args.n_inits, args.nn_width,
                args.batch_size,
            ))
    records = Parallel(n_jobs=args.n_jobs, verbose=5)(tasks)
    wall = time.time() - t0
    rows = []
    summary = {}
    for name, cfg in XOR.items():
        recs = [r for r in records if r["dataset"] == name]
        summary[name] = {m: [r[m] for r in recs] for m in XOR_METHODS}
        width = recs[0]["width"]
        rows.append([f"{name} (width {width}; paper {cfg['width']})", "ours"] + [_mean_std(summary[name][m]) for m in XOR_METHODS])
        rows.append(["", "paper"] + [f"{v:.2f}" for v in cfg["paper"]])
        feats = [r["CPNA(all) features"] for r in recs]
        summary[name]["CPNA(all) features"] = feats
        summary[name]["seconds"] = [r["seconds"] for r in recs]
    table = md_table(["data", ""] + [f"{m} test AUC (%)" for m in XOR_METHODS], rows)
    feats_line = "; ".join(
        f"{name}: {np.mean(summary[name]['CPNA(all) features']):.1f} features kept on average"
        for name in XOR
    )
    reading = (
        f"\n{args.seeds} seeds (a new XOR draw each), mean ± std of the final network's test AUC. "
        f"Adam (lr 1e-3, L2 1e-3, batch {args.batch_size}; an iteration is an epoch): "
        f"{args.pretrain_iter} dense iterations, then "
        f"{args.prune_iter} iterations per pruning stage (μ = 100); NN(best) is the lowest-loss "
        f"of {args.n_inits} dense width-{args.nn_width} nets trained {args.pretrain_iter + 2 * args.prune_iter} "
        f"iterations. Starting widths above {args.max_width} were reduced to {args.max_width} "
        f"to fit a 2-core CPU. {feats_line} (informative: k). Mean wall time per seed: "
        + ", ".join(f"{n} {np.mean(summary[n]['seconds']):.0f} s" for n in XOR)
        + ".\n"
    )
    title = "CPNA Table 1: k-D XOR with irrelevant features" + (f" ({args.tag.strip('_')})" if args.tag else "")
    md = header_block(title, env, command_line(), wall, started, git_state()) + "\n" + table + "\n" + reading
    payload = dict(name="cpna_xor", started=started, wall_seconds=wall, environment=env,
                   command=command_line(), settings=vars(args) | {"out": str(args.out)},
                   records=records, summary=summary)
    write_results(out_dir, "cpna_xor" + args.tag, payload, md)


def run_uci(args, out_dir) -> None:
    started, env, t0 = now_iso(), environment(), time.time()
    tasks = [
        delayed(_uci_task)(name, run, cfg, args.data_home, args.epochs, args.pretrain_iter_uci, args.prune_iter_uci)
        for name, cfg in UCI.items()
        for run in range(args.runs)
    ]
    records = Parallel(n_jobs=args.n_jobs, verbose=5)(tasks)
    wall = time.time() - t0
    rows, summary = [], {}
    for name, cfg in UCI.items():
        recs = [r for r in records if r["dataset"] == name]
        summary[name] = {m: [r[m] for r in recs] for m in UCI_METHODS}
        conns = {m: recs[0][f"{m} connections"] for m in UCI_METHODS}
        rows.append([f"{name} ({recs[0]['n_train']}/{recs[0]['n_test']})", "ours"] + [
            f"{_mean_std(summary[name][m])} ({conns[m]} conn.)" for m in UCI_METHODS
        ])
        rows.append(["", "paper"] + [f"{v:.2f}" for v in cfg["paper"]])
    table = md_table(["data (train/test)", ""] + [f"{m} test accuracy (%)" for m in UCI_METHODS], rows)
    reading = (
        f"\n{args.runs} runs (a new stratified 4:1 split each), mean ± std of the final "
        f"network's test accuracy; the paper reports the best test accuracy seen during "
        f"training after a 10×5-fold grid search, we use its chosen widths with Adam lr "
        f"1e-3, L2 1e-3, batch 32, no search. Dense nets: {args.epochs} epochs; CPNA: "
        f"{args.pretrain_iter_uci} dense epochs, then {args.prune_iter_uci} per stage "
        f"(hidden, then input). isolet: only isolet5 (1559 rows) is on disk. segmentation: "
        f"the 210 rows of segmentation.data all reappear in segmentation.test (2086 distinct "
        f"rows of 2310), so any split of the pooled data, the paper's included, has "
        f"duplicates across train and test.\n"
    )
    md = header_block("CPNA Table 3: UCI data", env, command_line(), wall, started, git_state()) + "\n" + table + "\n" + reading
    payload = dict(name="cpna_uci", started=started, wall_seconds=wall, environment=env,
                   command=command_line(), settings=vars(args) | {"out": str(args.out)},
                   records=records, summary=summary)
    write_results(out_dir, "cpna_uci", payload, md)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["xor", "uci"], default=None)
    parser.add_argument("--tag", default="", help="suffix of the result files (e.g. _fullbatch)")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--n-inits", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--nn-width", type=int, default=64)
    parser.add_argument("--max-width", type=int, default=256)
    parser.add_argument("--pretrain-iter", type=int, default=100)
    parser.add_argument("--prune-iter", type=int, default=100)
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--pretrain-iter-uci", type=int, default=30)
    parser.add_argument("--prune-iter-uci", type=int, default=30)
    parser.add_argument("--data-home", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", default=str(DEFAULT_OUT))
    args = parser.parse_args(argv)
    out_dir = Path(args.out)
    if args.quick:
        args.seeds, args.runs, args.n_inits, args.nn_width, args.max_width = 1, 1, 2, 32, 64
        args.pretrain_iter, args.prune_iter, args.epochs = 20, 20, 5
        args.pretrain_iter_uci, args.prune_iter_uci = 3, 4
        out_dir = out_dir / "quick"
    if args.only in (None, "xor"):
        run_xor(args, out_dir)
    if args.only in (None, "uci"):
        if (Path(args.data_home) / "uci").is_dir():
            run_uci(args, out_dir)
        else:
            print(f"skipping Table 3: no UCI data under {args.data_home}")


if __name__ == "__main__":
    main()

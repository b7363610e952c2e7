"""CPNA reproductions: Table 1 (k-D XOR) and Table 3 (UCI data) of Guo & Barbu.

Table 1 (``cpna-table1``): 3D-XOR p = 60, 4D-XOR p = 40, 5D-XOR p = 20, 3000 training
and 3000 test samples (:func:`~skconvex.datasets.make_xor`, a new draw per seed). Per
seed:

* NN(best): a dense one-hidden-layer ReLU net trained from 10 initializations; the one
  with the lowest final training loss is kept (the paper's "best energy minimum");
* CPNA(hidden): prune the hidden→output connections to the paper's count;
* CPNA(all): then prune the input→hidden connections too;
* CPNA(random), CPNA(init): the CPNA(hidden) subnetwork (its masks) retrained from a
  new random initialization and from CPNA's own initial weights (same random_state),
  for as many iterations as CPNA(hidden) trained.

An iteration is one epoch of minibatch Adam (``batch_size``, default 100; 3000 makes it
one full-batch step, FSA's iteration); Adam lr 1e-3, L2 1e-3 (the paper's "default Adam
optimizer and L2 penalty 0.001"). Test AUC is that of the final network (no selection
on the test set). Binary problems have two softmax outputs, so a hidden→output count of
12 is, e.g., 6 units with both outputs.

Table 3 (``cpna-table3``): car, segmentation, optdigits, mfeat (fac, 216 features) and
isolet (only isolet5 is on disk: 1559 rows) from ``<data_home>/uci``, a stratified 4:1
train/test split per run, inputs scaled to [−1, 1] on the training part. NN(best):
dense net of the paper's best width; NN(equivalent): dense net of the paper's
"equivalent" width; CPNA: starts from the NN(best) width and prunes to the paper's
connection counts (input, hidden). Test accuracy of the final network, 10 runs. The
paper tuned width, L2 and batch size by 10×5-fold CV; we use its chosen widths and
fixed L2 1e-3, batch 32 (no search).

Each table is two steps: :func:`table_settings` fixes the sizes (full, quick or tiny)
and :func:`xor_table` or :func:`uci_table` runs them and returns a :class:`Result`;
``benchmarks/bench_cpna.py`` calls the second with its command-line options.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Mapping
from os import PathLike

import numpy as np
from joblib import Parallel, delayed
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import MinMaxScaler

from .._cpna import CPNAClassifier
from ..datasets import load_uci, make_xor
from ._registry import Context, Experiment, Result, register
from ._report import md_table

# Nothing here is public API: the experiments are run through the registry and
# ``python -m skconvex.experiments`` (see skconvex.experiments.run_experiment). The
# helpers stay importable for the tests and benchmarks/, without any promise.
__all__: list[str] = []

# Table 1 of the paper: (k, p) -> starting width, hidden and input connection counts,
# and the paper's test AUC (%) for NN(best), CPNA(hidden), CPNA(all), random, init.
_XOR = {
    "3D-XOR p=60": dict(k=3, p=60, width=1024, hidden=12, input=24,
                        paper=(82.53, 96.58, 99.58, 70.47, 71.68)),
    "4D-XOR p=40": dict(k=4, p=40, width=2048, hidden=16, input=32,
                        paper=(72.17, 95.31, 98.31, 52.83, 69.32)),
    "5D-XOR p=20": dict(k=5, p=20, width=4096, hidden=64, input=256,
                        paper=(66.24, 80.03, 96.83, 53.21, 66.29)),
}  # fmt: skip
_XOR_METHODS = ("NN(best)", "CPNA(hidden)", "CPNA(all)", "CPNA(random)", "CPNA(init)")

# Table 3: best width, equivalent width, CPNA (input, hidden) connections, and the
# paper's accuracies (%) NN(best), NN(equivalent), NN+CPNA.
_UCI = {
    "car": dict(width=64, equivalent=6, input=120, hidden=32, paper=(100.0, 98.23, 100.0)),
    "segmentation": dict(width=256, equivalent=14, input=266, hidden=98, paper=(96.87, 96.27, 98.40)),
    "optdigits": dict(width=512, equivalent=27, input=1792, hidden=160, paper=(98.80, 98.25, 99.01)),
    "mfeat": dict(width=64, equivalent=4, input=583, hidden=320, paper=(97.85, 95.45, 98.15)),
    "isolet": dict(width=64, equivalent=9, input=4683, hidden=1118, paper=(96.73, 94.31, 96.91)),
}
_UCI_METHODS = ("NN(best)", "NN(equivalent)", "CPNA")

# Sizes. Full: the benchmark's defaults (a few hours on 2 cores); quick: about a minute;
# tiny: seconds, for the test suite. The paper's starting widths (1024–4096) do not fit
# a 2-core CPU: ``max_width`` caps them, and the notes say so.
XOR_FULL = dict(seeds=5, n_train=3000, n_inits=10, batch_size=100, nn_width=64, max_width=256,
                pretrain_iter=100, prune_iter=100)
XOR_QUICK = XOR_FULL | dict(seeds=1, n_inits=2, nn_width=32, max_width=64, pretrain_iter=20, prune_iter=20)
# 40 units: the 5D-XOR target of 64 hidden→output connections stays below 2 × width.
XOR_TINY = XOR_QUICK | dict(n_train=300, n_inits=1, nn_width=8, max_width=40, pretrain_iter=2, prune_iter=2)
UCI_FULL = dict(seeds=10, epochs=60, pretrain_iter=30, prune_iter=30, batch_size=32)
UCI_QUICK = UCI_FULL | dict(seeds=1, epochs=5, pretrain_iter=3, prune_iter=4)
UCI_TINY = UCI_QUICK | dict(epochs=1, pretrain_iter=1, prune_iter=1)


SIZES = {"xor": (XOR_FULL, XOR_QUICK, XOR_TINY), "uci": (UCI_FULL, UCI_QUICK, UCI_TINY)}


def table_settings(table: str, context: Context) -> dict:
    """The settings of Table 1 (``"xor"``) or Table 3 (``"uci"``) for ``context``.

    Parameters
    ----------
    table : {"xor", "uci"}
        Which table.
    context : Context
        Only ``quick``, ``tiny`` and ``seeds`` are read.

    Returns
    -------
    dict
        A copy of :data:`XOR_FULL`, :data:`XOR_QUICK` or :data:`XOR_TINY` (for
        ``"uci"``: the ``UCI_*`` ones) with ``seeds`` set from ``context``. Table 1:
        ``n_train`` (training and test samples each), ``n_inits``, ``batch_size``,
        ``nn_width``, ``max_width``, ``pretrain_iter``, ``prune_iter``; Table 3:
        ``seeds`` are runs (one split each), ``epochs`` (dense nets),
        ``pretrain_iter``, ``prune_iter`` (CPNA, per stage), ``batch_size``.
    """
    full, quick, tiny = SIZES[table]
    base = tiny if context.tiny else quick if context.quick else full
    return base | {"seeds": context.n_seeds(full["seeds"], base["seeds"])}


def _xor_task(name: str, seed: int, cfg: dict, width: int, s: Mapping) -> dict:
    n = s["n_train"]
    X, y = make_xor(2 * n, n_features=cfg["p"], n_informative=cfg["k"], random_state=seed)
    Xtr, ytr, Xte, yte = X[:n], y[:n], X[n:], y[n:]
    common = dict(batch_size=s["batch_size"], alpha=1e-3, learning_rate_init=1e-3)
    pretrain, prune = s["pretrain_iter"], s["prune_iter"]
    record = {"dataset": name, "seed": seed, "width": width}

    def auc(clf):
        return float(roc_auc_score(yte, clf.predict_proba(Xte)[:, 1]))

    t0 = time.perf_counter()
    with warnings.catch_warnings():
        # The budgets are fixed on purpose: a warning at max_iter would only flood the log.
        warnings.simplefilter("ignore", ConvergenceWarning)
        best = None
        for i in range(s["n_inits"]):
            nn = CPNAClassifier(
                hidden_layer_sizes=(s["nn_width"],), n_connections={}, pretrain_iter=pretrain + 2 * prune,
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
        # The lottery-ticket controls: CPNA(hidden)'s masks, as many iterations as it trained.
        retrain = dict(
            hidden_layer_sizes=(width,), n_connections={}, initial_masks=hidden.masks_,
            pretrain_iter=pretrain + prune, **common,
        )
        record["CPNA(random)"] = auc(CPNAClassifier(random_state=seed + 10_000, **retrain).fit(Xtr, ytr))
        record["CPNA(init)"] = auc(CPNAClassifier(random_state=seed, **retrain).fit(Xtr, ytr))
    record["seconds"] = time.perf_counter() - t0
    return record


def _uci_task(name: str, run: int, cfg: dict, data_home, s: Mapping) -> dict:
    X, y = load_uci(name, data_home=data_home, return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.2, stratify=y, random_state=run)
    scaler = MinMaxScaler(feature_range=(-1, 1)).fit(Xtr)
    # Test inputs outside the training range are clipped to it, as the scaled inputs are.
    Xtr, Xte = scaler.transform(Xtr), np.clip(scaler.transform(Xte), -1, 1)
    common = dict(batch_size=s["batch_size"], alpha=1e-3, learning_rate_init=1e-3, random_state=run)
    record = {"dataset": name, "run": run, "n_train": len(ytr), "n_test": len(yte)}
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for method, width in (("NN(best)", cfg["width"]), ("NN(equivalent)", cfg["equivalent"])):
            clf = CPNAClassifier(
                hidden_layer_sizes=(width,), n_connections={}, pretrain_iter=s["epochs"], **common
            ).fit(Xtr, ytr)
            record[method] = float(clf.score(Xte, yte))
            record[f"{method} connections"] = sum(clf.n_connections_.values())
        clf = CPNAClassifier(
            hidden_layer_sizes=(cfg["width"],),
            n_connections={"hidden": cfg["hidden"], "input": cfg["input"]},
            pretrain_iter=s["pretrain_iter"], prune_iter=s["prune_iter"], **common,
        ).fit(Xtr, ytr)
    record["CPNA"] = float(clf.score(Xte, yte))
    record["CPNA connections"] = sum(clf.n_connections_.values())
    record["CPNA active units"] = clf.n_active_hidden_[0]
    record["CPNA features"] = int(clf.support_.sum())
    record["seconds"] = time.perf_counter() - t0
    return record


def _mean_std(values) -> str:
    values = 100 * np.asarray(values, dtype=float)
    return f"{values.mean():.2f} ± {values.std():.2f}"


def _quick_note(settings: Mapping, full: Mapping) -> str:
    if all(settings[k] == full[k] for k in full if k != "seeds"):
        return ""
    return (" These are reduced (quick) budgets: the numbers show that the pipeline runs, "
            "they are not a reproduction of the paper's.")


def xor_table(settings: Mapping, n_jobs: int = 1, verbose: int = 0) -> Result:
    """Run the paper's Table 1 (k-D XOR with irrelevant features).

    Parameters
    ----------
    settings : mapping
        As returned by ``table_settings("xor", context)`` (the keys of :data:`XOR_FULL`).
    n_jobs : int, default=1
        joblib workers; one task is one (data set, seed).
    verbose : int, default=0
        joblib's progress messages.

    Returns
    -------
    Result
        One record per (data set, seed); ``summary[name][method]`` lists the test AUCs
        (fractions) over the seeds, with ``"CPNA(all) features"`` and ``"seconds"``.
    """
    s = dict(settings)
    tasks = [
        delayed(_xor_task)(name, seed, cfg, min(cfg["width"], s["max_width"]), s)
        for name, cfg in _XOR.items()
        for seed in range(s["seeds"])
    ]
    records = Parallel(n_jobs=n_jobs, verbose=verbose)(tasks)
    rows, summary = [], {}
    for name, cfg in _XOR.items():
        recs = [r for r in records if r["dataset"] == name]
        summary[name] = {m: [r[m] for r in recs] for m in _XOR_METHODS}
        width = recs[0]["width"]
        rows.append([f"{name} (width {width}; paper {cfg['width']})", "ours"]
                    + [_mean_std(summary[name][m]) for m in _XOR_METHODS])
        rows.append(["", "paper"] + [f"{v:.2f}" for v in cfg["paper"]])
        summary[name]["CPNA(all) features"] = [r["CPNA(all) features"] for r in recs]
        summary[name]["seconds"] = [r["seconds"] for r in recs]
    table = md_table(["data", ""] + [f"{m} test AUC (%)" for m in _XOR_METHODS], rows)
    feats_line = "; ".join(
        f"{name}: {np.mean(summary[name]['CPNA(all) features']):.1f} features kept on average"
        for name in _XOR
    )
    samples = (f" Training and test sets of {s['n_train']} samples each (paper: 3000)."
               if s["n_train"] != 3000 else "")
    notes = (
        f"{s['seeds']} seeds (a new XOR draw each), mean ± std of the final network's test AUC. "
        f"Adam (lr 1e-3, L2 1e-3, batch {s['batch_size']}; an iteration is an epoch): "
        f"{s['pretrain_iter']} dense iterations, then "
        f"{s['prune_iter']} iterations per pruning stage (μ = 100); NN(best) is the lowest-loss "
        f"of {s['n_inits']} dense width-{s['nn_width']} nets trained "
        f"{s['pretrain_iter'] + 2 * s['prune_iter']} "
        f"iterations. Starting widths above {s['max_width']} were reduced to {s['max_width']} "
        f"to fit a 2-core CPU.{samples} {feats_line} (informative: k). Mean wall time per seed: "
        + ", ".join(f"{n} {np.mean(summary[n]['seconds']):.0f} s" for n in _XOR)
        + "." + _quick_note(s, XOR_FULL)
    )
    paper = {name: dict(zip(_XOR_METHODS, cfg["paper"])) for name, cfg in _XOR.items()}
    return Result(table=table, records=records, summary=summary, settings=s, notes=notes,
                  paper={"metric": "test AUC (%)", "table1": paper})


def uci_table(
    settings: Mapping, data_home: str | PathLike[str], n_jobs: int = 1, verbose: int = 0
) -> Result:
    """Run the paper's Table 3 (UCI data) on the files under ``<data_home>/uci``.

    Parameters
    ----------
    settings : mapping
        As returned by ``table_settings("uci", context)`` (the keys of :data:`UCI_FULL`).
    data_home : str or path-like
        Directory holding ``uci/`` (see :func:`~skconvex.datasets.load_uci`).
    n_jobs : int, default=1
        joblib workers; one task is one (data set, run).
    verbose : int, default=0
        joblib's progress messages.

    Returns
    -------
    Result
        One record per (data set, run); ``summary[name][method]`` lists the test
        accuracies (fractions) over the runs.
    """
    s = dict(settings)
    tasks = [
        delayed(_uci_task)(name, run, cfg, str(data_home), s)
        for name, cfg in _UCI.items()
        for run in range(s["seeds"])
    ]
    records = Parallel(n_jobs=n_jobs, verbose=verbose)(tasks)
    rows, summary = [], {}
    for name, cfg in _UCI.items():
        recs = [r for r in records if r["dataset"] == name]
        summary[name] = {m: [r[m] for r in recs] for m in _UCI_METHODS}
        conns = {m: recs[0][f"{m} connections"] for m in _UCI_METHODS}
        rows.append([f"{name} ({recs[0]['n_train']}/{recs[0]['n_test']})", "ours"] + [
            f"{_mean_std(summary[name][m])} ({conns[m]} conn.)" for m in _UCI_METHODS
        ])
        rows.append(["", "paper"] + [f"{v:.2f}" for v in cfg["paper"]])
    table = md_table(["data (train/test)", ""] + [f"{m} test accuracy (%)" for m in _UCI_METHODS], rows)
    notes = (
        f"{s['seeds']} runs (a new stratified 4:1 split each), mean ± std of the final "
        f"network's test accuracy; the paper reports the best test accuracy seen during "
        f"training after a 10×5-fold grid search, we use its chosen widths with Adam lr "
        f"1e-3, L2 1e-3, batch {s['batch_size']}, no search. Dense nets: {s['epochs']} epochs; CPNA: "
        f"{s['pretrain_iter']} dense epochs, then {s['prune_iter']} per stage "
        f"(hidden, then input). isolet: only isolet5 (1559 rows) is on disk. segmentation: "
        f"the 210 rows of segmentation.data all reappear in segmentation.test (2086 distinct "
        f"rows of 2310), so any split of the pooled data, the paper's included, has "
        f"duplicates across train and test." + _quick_note(s, UCI_FULL)
    )
    paper = {name: dict(zip(_UCI_METHODS, cfg["paper"])) for name, cfg in _UCI.items()}
    return Result(table=table, records=records, summary=summary, settings=s | {"data_home": str(data_home)},
                  notes=notes, paper={"metric": "test accuracy (%)", "table3": paper})


def _run_table1(context: Context) -> Result:
    """``cpna-table1``: :func:`xor_table` at the sizes of ``context``."""
    return xor_table(table_settings("xor", context), n_jobs=context.n_jobs)


def _run_table3(context: Context) -> Result:
    """``cpna-table3``: :func:`uci_table` at the sizes of ``context``, on its data_home."""
    return uci_table(table_settings("uci", context), context.data_home, n_jobs=context.n_jobs)


register(Experiment(
    name="cpna-table1",
    title="k-D XOR with irrelevant features: NN(best), CPNA (hidden, all) and the retrained subnetworks",
    paper="Guo & Barbu, CPNA, Table 1",
    run=_run_table1,
    minutes=(1.5, 22.0),
))
register(Experiment(
    name="cpna-table3",
    title="UCI data: dense nets of the best and equivalent widths against CPNA",
    paper="Guo & Barbu, CPNA, Table 3",
    run=_run_table3,
    needs=("uci",),
    minutes=(1.0, 15.0),
))

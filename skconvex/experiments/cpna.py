"""CPNA reproductions: Table 1 (k-D XOR) and Table 3 (UCI data) of Guo & Barbu.

Table 1 (``cpna-table1``): 3D-XOR p = 60, 4D-XOR p = 40, 5D-XOR p = 20, 3000 training
and 3000 test samples (:func:`~skconvex.datasets.make_xor`, a new draw per seed). Per
seed:

* one CPNA(all) run at the paper's starting width: dense pretraining, a stage pruning
  the hidden→output connections, a stage pruning the input→hidden ones, with the test
  set scored after every iteration (monitoring only). NN(best) is the dense network at
  the end of pretraining, CPNA(hidden) the network at the end of the hidden stage
  (exactly what a separate ``prune_layers="hidden"`` fit with the same seed returns),
  CPNA(all) the final network;
* CPNA(random), CPNA(init): the CPNA(hidden) subnetwork (its masks) retrained from a
  new random initialization and from CPNA's own initial weights (same random_state),
  for as many iterations as CPNA(hidden) trained.

The paper reports the best of 10 trials; the table gives that and the mean ± sd.
An iteration is one epoch of minibatch Adam (``batch_size``, default 100; 3000 makes it
one full-batch step, FSA's iteration); Adam lr 1e-3, L2 1e-3 (the paper's "default Adam
optimizer and L2 penalty 0.001"). Binary problems have two softmax outputs, so a
hidden→output count of 12 is, e.g., 6 units with both outputs.

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

import json
import time
import warnings
from collections.abc import Mapping
from os import PathLike
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import MinMaxScaler

from .._cpna import CPNAClassifier
from ..datasets import load_uci, make_xor
from ..nn.masks import get_masks
from ..training.callbacks import Callback
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

# Sizes. Full: the paper's widths and samples, 10 trials (the paper's best of 10); quick:
# about a minute; tiny: seconds, for the test suite. ``max_width`` (None: the paper's)
# caps the starting widths; the notes say so.
XOR_FULL = dict(seeds=10, n_train=3000, batch_size=100, max_width=None, pretrain_iter=100, prune_iter=100)
XOR_QUICK = XOR_FULL | dict(seeds=1, max_width=64, pretrain_iter=20, prune_iter=20)
# 40 units: the 5D-XOR target of 64 hidden→output connections stays below 2 × width.
XOR_TINY = XOR_QUICK | dict(n_train=300, max_width=40, pretrain_iter=2, prune_iter=2)
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
        ``n_train`` (training and test samples each), ``batch_size``, ``max_width``
        (None: the paper's widths), ``pretrain_iter``, ``prune_iter``; Table 3:
        ``seeds`` are runs (one split each), ``epochs`` (dense nets),
        ``pretrain_iter``, ``prune_iter`` (CPNA, per stage), ``batch_size``.
    """
    full, quick, tiny = SIZES[table]
    base = tiny if context.tiny else quick if context.quick else full
    return base | {"seeds": context.n_seeds(full["seeds"], base["seeds"])}


class _StageMasks(Callback):
    """Copies the masks at the end of 0-based epoch ``epoch`` (CPNA(hidden)'s last)."""

    def __init__(self, epoch: int):
        self.epoch, self.masks = epoch, None

    def on_epoch_end(self, ctx) -> None:
        if ctx.epoch == self.epoch:
            self.masks = {n: m.detach().cpu().numpy().copy() for n, m in get_masks(ctx.module).items()}


def _xor_data(cfg: dict, seed: int, n: int):
    X, y = make_xor(2 * n, n_features=cfg["p"], n_informative=cfg["k"], random_state=seed)
    return X[:n], y[:n], X[n:], y[n:]


def _xor_task(name: str, seed: int, cfg: dict, width: int, s: Mapping) -> dict:
    """One trial: a CPNA(all) run scored on the test set after every iteration (no
    selection: the scores of the dense net at the end of pretraining, of CPNA(hidden)
    at the end of the hidden stage and of CPNA(all) at the end are read off it), then
    CPNA(hidden)'s subnetwork retrained from a new and from its own initialization."""
    Xtr, ytr, Xte, yte = _xor_data(cfg, seed, s["n_train"])
    common = dict(batch_size=s["batch_size"], alpha=1e-3, learning_rate_init=1e-3)
    pretrain, prune = s["pretrain_iter"], s["prune_iter"]
    record = {"dataset": name, "seed": seed, "width": width, "pretrain_iter": pretrain, "prune_iter": prune}
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = CPNAClassifier(
            hidden_layer_sizes=(width,), n_connections={"hidden": cfg["hidden"], "input": cfg["input"]},
            pretrain_iter=pretrain, prune_iter=prune, random_state=seed, **common,
        )
        clf._validate_params()
        hidden_end = _StageMasks(pretrain + prune - 1)
        # The test set rides along as monitoring data: its AUC is recorded, never used.
        clf._fit(Xtr, ytr, X_val=Xte, y_val=yte, callbacks=[hidden_end])
        test, train = clf.validation_auc_curve_, clf.training_auc_curve_
        for method, epoch in (("NN(best)", pretrain - 1), ("CPNA(hidden)", pretrain + prune - 1),
                              ("CPNA(all)", len(test) - 1)):
            record[method], record[f"{method} training AUC"] = float(test[epoch]), float(train[epoch])
        record["CPNA(all) features"] = int(clf.support_.sum())
        record["CPNA(all) seconds"] = time.perf_counter() - t0
        # The lottery-ticket controls: CPNA(hidden)'s masks, as many iterations as it trained.
        retrain = dict(
            hidden_layer_sizes=(width,), n_connections={}, initial_masks=hidden_end.masks,
            pretrain_iter=pretrain + prune, **common,
        )
        for method, state in (("CPNA(random)", seed + 10_000), ("CPNA(init)", seed)):
            net = CPNAClassifier(random_state=state, **retrain).fit(Xtr, ytr)
            record[method] = float(roc_auc_score(yte, net.predict_proba(Xte)[:, 1]))
            record[f"{method} training AUC"] = float(net.training_auc_curve_[-1])
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


def _best_mean_sd(values) -> str:
    """"best / mean ± sd (n)" in % (sd with ddof=1; the paper's statistic is the best)."""
    v = 100 * np.asarray(values, dtype=float)
    sd = v.std(ddof=1) if v.size > 1 else float("nan")
    return f"{v.max():.2f} / {v.mean():.2f} ± {sd:.2f} ({v.size})"


def _xor_tasks(s: Mapping) -> list[tuple]:
    names = s.get("datasets") or list(_XOR)
    widths = {name: min(_XOR[name]["width"], s["max_width"] or _XOR[name]["width"]) for name in names}
    first = s.get("seed_start", 0)
    return [(name, seed, _XOR[name], widths[name]) for name in names
            for seed in range(first, first + s["seeds"])]


def _done_key(record: Mapping) -> tuple:
    return (record["dataset"], record["seed"], record["width"], record["pretrain_iter"], record["prune_iter"])


def xor_table(settings: Mapping, n_jobs: int = 1, verbose: int = 0, records_path=None) -> Result:
    """Run the paper's Table 1 (k-D XOR with irrelevant features).

    Parameters
    ----------
    settings : mapping
        As returned by ``table_settings("xor", context)`` (the keys of :data:`XOR_FULL`);
        optional ``datasets`` (names of :data:`_XOR`) and ``seed_start``.
    n_jobs : int, default=1
        joblib workers; one task is one (data set, seed).
    verbose : int, default=0
        joblib's progress messages.
    records_path : path-like, default=None
        A JSON-lines file: records already there (same data set, seed, width and
        schedule) are not rerun, and every finished task is appended at once. The
        table is made of all the file's records for the data sets run.

    Returns
    -------
    Result
        One record per (data set, seed); ``summary[name][method]`` lists the test AUCs
        (fractions) over the seeds, with ``"CPNA(all) features"`` and ``"seconds"``.
    """
    s = dict(settings)
    tasks = _xor_tasks(s)
    old = []
    if records_path is not None and Path(records_path).exists():
        old = [json.loads(line) for line in Path(records_path).read_text().splitlines() if line.strip()]
    done = {_done_key(r) for r in old}
    todo = [t for t in tasks if (t[0], t[1], t[3], s["pretrain_iter"], s["prune_iter"]) not in done]
    records = list(old)
    runs = Parallel(n_jobs=n_jobs, verbose=verbose, return_as="generator_unordered")(
        delayed(_xor_task)(name, seed, cfg, width, s) for name, seed, cfg, width in todo
    )
    for record in runs:
        records.append(record)
        if records_path is not None:
            with open(records_path, "a") as f:
                f.write(json.dumps(record) + "\n")
    names = list(dict.fromkeys(t[0] for t in tasks))
    return xor_result([r for r in records if r["dataset"] in names], s)


def xor_result(records: list, settings: Mapping) -> Result:
    """Table 1 from the records of :func:`xor_table` (any mix of data sets and seeds)."""
    s = dict(settings)
    rows, summary = [], {}
    for name, cfg in _XOR.items():
        recs = sorted((r for r in records if r["dataset"] == name), key=lambda r: r["seed"])
        if not recs:
            continue
        summary[name] = {m: [r[m] for r in recs] for m in _XOR_METHODS}
        for key in ("CPNA(all) features", "seconds", "seed", "width", "pretrain_iter", "prune_iter"):
            summary[name][key] = [r[key] for r in recs]
        schedule = sorted({(r["width"], r["pretrain_iter"], r["prune_iter"]) for r in recs})
        label = "; ".join(f"width {w}, {a} + {b} + {b} it." for w, a, b in schedule)
        rows.append([f"{name} ({label})", "ours: best / mean ± sd (trials)"]
                    + [_best_mean_sd(summary[name][m]) for m in _XOR_METHODS])
        rows.append(["", "paper (best of 10)"] + [f"{v:.2f}" for v in cfg["paper"]])
    table = md_table(["data", ""] + [f"{m} test AUC (%)" for m in _XOR_METHODS], rows)
    per_set = "; ".join(
        f"{name}: seeds {min(v['seed'])}–{max(v['seed'])}, {np.mean(v['CPNA(all) features']):.1f} "
        f"features kept on average (k = {_XOR[name]['k']}), {np.mean(v['seconds']):.0f} s per trial"
        for name, v in summary.items()
    )
    notes = (
        "One trial per seed (a new XOR draw of 3000 training and 3000 test samples each); "
        "the paper's statistic is the best test AUC of 10 trials, so ours is given as best / "
        "mean ± sd (ddof 1) over the trials. Adam (lr 1e-3, L2 1e-3 on the weights, batch "
        f"{s['batch_size']}); an iteration is an epoch (FSA's iteration is one gradient step "
        "over the whole training set, and the paper counts its schedule in epochs, eq. 2). "
        "CPNA(all): dense pretraining, then a stage pruning the hidden→output connections "
        "to the paper's count, then a stage pruning the input→hidden ones (μ = 100; the "
        "count reaches its target half-way through a stage). The test set is scored after "
        "every iteration (monitoring only, no selection): NN(best) is the dense network at "
        "the end of pretraining (the same width; best of the trials), CPNA(hidden) the "
        "network at the end of the hidden stage (the same run as a separate CPNA(hidden) fit "
        "with the same seed), CPNA(all) the final one. CPNA(random) and CPNA(init) retrain "
        "CPNA(hidden)'s subnetwork (its masks) from a new initialization and from the run's "
        "own initial weights, for pretraining + one stage of iterations. "
        f"{per_set}." + (_quick_note(s, XOR_FULL) if s["n_train"] < 3000 or s["max_width"] else "")
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

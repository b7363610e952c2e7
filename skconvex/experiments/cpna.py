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
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, StratifiedKFold, train_test_split
from sklearn.preprocessing import MinMaxScaler

from .._cpna import CPNAClassifier
from ..datasets import load_uci, make_xor
from ..nn.masks import get_masks
from ..training.callbacks import Callback
from ._registry import Context, Experiment, Result, collect, register
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
# Table 3: ``seeds`` retrains with the cross-validated setting; ``folds``-fold CV on the
# training part over ``widths`` × ``alphas`` (dense net), then over ``levels`` × the
# paper's connection counts (CPNA, from the chosen width and L2).
UCI_FULL = dict(seeds=10, epochs=60, pretrain_iter=30, prune_iter=30, batch_size=32, folds=5,
                widths=(64, 256), alphas=(1e-4, 1e-3), levels=(0.5, 1.0, 2.0))
UCI_QUICK = UCI_FULL | dict(seeds=1, epochs=5, pretrain_iter=3, prune_iter=4, folds=2,
                            widths=(16,), alphas=(1e-3,), levels=(1.0,))
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


def _uci_split(name: str, data_home):
    """The paper's protocol: all rows pooled, one stratified 4:1 split, inputs scaled to
    [−1, 1] on the training part (test inputs clipped to that range)."""
    X, y = load_uci(name, data_home=data_home, return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.2, stratify=y, random_state=0)
    scaler = MinMaxScaler(feature_range=(-1, 1)).fit(Xtr)
    return scaler.transform(Xtr), np.clip(scaler.transform(Xte), -1, 1), ytr, yte


def _grid_search(estimator, grid: dict, X, y, folds: int) -> dict:
    cv = StratifiedKFold(folds, shuffle=True, random_state=0)
    search = GridSearchCV(estimator, grid, cv=cv, n_jobs=1, error_score="raise").fit(X, y)
    scores = {str(p): float(m) for p, m in zip(search.cv_results_["params"],
                                               search.cv_results_["mean_test_score"])}
    return {"best": search.best_params_, "scores": scores}


def _uci_task(name: str, cfg: dict, data_home, s: Mapping) -> dict:
    """Table 3 for one data set: CV on the training part, then ``seeds`` retrains."""
    Xtr, Xte, ytr, yte = _uci_split(name, data_home)
    base = dict(batch_size=s["batch_size"], learning_rate_init=1e-3, random_state=0)
    dense = CPNAClassifier(n_connections={}, pretrain_iter=s["epochs"], **base)
    record = {"dataset": name, "n_train": len(ytr), "n_test": len(yte)}
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # budgets are fixed; targets above a layer's size
        nn = _grid_search(dense, {"hidden_layer_sizes": [(w,) for w in s["widths"]],
                                  "alpha": list(s["alphas"])}, Xtr, ytr, s["folds"])
        levels = [{"input": max(1, int(f * cfg["input"])), "hidden": max(1, int(f * cfg["hidden"]))}
                  for f in s["levels"]]
        cpna = CPNAClassifier(pretrain_iter=s["pretrain_iter"], prune_iter=s["prune_iter"],
                              **nn["best"], **base)
        sparse = _grid_search(cpna, {"n_connections": levels}, Xtr, ytr, s["folds"])
        record["cv"] = {"NN(best)": nn, "CPNA": sparse}
        record["cv_seconds"] = time.perf_counter() - t0
        chosen = sparse["best"]["n_connections"]
        n_classes = len(np.unique(ytr))
        equivalent = max(1, round(sum(chosen.values()) / (Xtr.shape[1] + n_classes)))
        methods = {
            "NN(best)": dense.set_params(**nn["best"]),
            "NN(equivalent)": clone(dense).set_params(hidden_layer_sizes=(equivalent,), alpha=nn["best"]["alpha"]),
            "CPNA": cpna.set_params(n_connections=chosen),
        }
        for method, estimator in methods.items():
            runs = [clone(estimator).set_params(random_state=seed).fit(Xtr, ytr) for seed in range(s["seeds"])]
            record[method] = [float(r.score(Xte, yte)) for r in runs]
            record[f"{method} connections"] = int(np.mean([sum(r.n_connections_.values()) for r in runs]))
        record["NN(equivalent) width"] = equivalent
    record["seconds"] = time.perf_counter() - t0
    return record


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


def xor_table(
    settings: Mapping, n_jobs: int = 1, verbose: int = 0, records_path=None, on_record=None
) -> Result:
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
    on_record : callable, default=None
        Called with each record as soon as it is in (the harness's partial results).

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
        if on_record is not None:  # the harness's partial results file
            on_record(record)
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
    settings: Mapping, data_home: str | PathLike[str], n_jobs: int = 1, verbose: int = 0,
    on_record=None,
) -> Result:
    """Run the paper's Table 3 (UCI data) with its protocol on ``<data_home>/uci``.

    Parameters
    ----------
    settings : mapping
        As returned by ``table_settings("uci", context)`` (the keys of :data:`UCI_FULL`).
    data_home : str or path-like
        Directory holding ``uci/`` (see :func:`~skconvex.datasets.load_uci`).
    n_jobs : int, default=1
        joblib workers; one task is one data set.
    verbose : int, default=0
        joblib's progress messages.
    on_record : callable, default=None
        Called with each record as soon as it is in (the harness's partial results).

    Returns
    -------
    Result
        One record per data set (the CV scores and choices, and the test accuracies of
        the retrains); ``summary[name][method]`` lists the test accuracies (fractions).
    """
    s = dict(settings)
    names = s.get("datasets") or list(_UCI)
    records = collect(Parallel(n_jobs=n_jobs, verbose=verbose, return_as="generator")(
        delayed(_uci_task)(name, _UCI[name], str(data_home), s) for name in names
    ), on_record)
    rows, summary = [], {}
    for record in records:
        name, cfg = record["dataset"], _UCI[record["dataset"]]
        summary[name] = {m: record[m] for m in _UCI_METHODS}
        conns = {m: record[f"{m} connections"] for m in _UCI_METHODS}
        rows.append([f"{name} ({record['n_train']}/{record['n_test']})", "ours: best / mean ± sd (runs)"]
                    + [f"{_best_mean_sd(record[m])}, {conns[m]} conn." for m in _UCI_METHODS])
        rows.append(["", "paper: mean ± sd"] + [f"{v:.2f}" for v in cfg["paper"]])
    table = md_table(["data (train/test)", ""] + [f"{m} test accuracy (%)" for m in _UCI_METHODS], rows)
    chosen = "; ".join(
        f"{r['dataset']}: width {r['cv']['NN(best)']['best']['hidden_layer_sizes'][0]}, "
        f"L2 {r['cv']['NN(best)']['best']['alpha']:g}, CPNA {r['cv']['CPNA']['best']['n_connections']}, "
        f"equivalent width {r['NN(equivalent) width']}, {r['seconds'] / 60:.1f} min"
        for r in records
    )
    notes = (
        f"The paper's protocol, smaller: all rows pooled, one stratified 4:1 split; on the "
        f"training part a {s['folds']}-fold stratified CV grid search (one repetition; the "
        f"paper: 10) over the dense net's width {list(s['widths'])} and L2 {list(s['alphas'])} "
        f"(the paper: widths 16–512, L2 1e-4–0.1, batch 16/32/64; ours: batch {s['batch_size']}, "
        f"Adam lr 1e-3), then over CPNA's sparsity level, {list(s['levels'])} × the paper's "
        f"(input, hidden) connection counts, starting from the chosen width and L2; then "
        f"{s['seeds']} retrains (seeds) of each chosen setting on the whole training part. "
        f"NN(equivalent): a dense net with about as many connections as the chosen CPNA "
        f"level. Dense nets: {s['epochs']} epochs; CPNA: {s['pretrain_iter']} dense epochs, "
        f"then {s['prune_iter']} per stage (hidden, then input). Test accuracy of the final "
        f"network (the paper records the best test accuracy seen during training, a "
        f"selection on the test set we do not make). Chosen: {chosen}. isolet: only isolet5 "
        f"(1559 rows) is on disk. segmentation: the 210 rows of segmentation.data all "
        f"reappear in segmentation.test, so any split of the pooled data has duplicates "
        f"across train and test." + _quick_note(s, UCI_FULL)
    )
    paper = {name: dict(zip(_UCI_METHODS, cfg["paper"])) for name, cfg in _UCI.items()}
    return Result(table=table, records=records, summary=summary, settings=s | {"data_home": str(data_home)},
                  notes=notes, paper={"metric": "test accuracy (%)", "table3": paper})


def _default_xor_task(name: str, seed: int, n_train: int) -> dict:
    cfg = _XOR[name]
    X, y, informative = make_xor(2 * n_train, n_features=cfg["p"], n_informative=cfg["k"],
                                 random_state=seed, return_informative=True)
    t0 = time.perf_counter()
    clf = CPNAClassifier(random_state=seed).fit(X[:n_train], y[:n_train])
    support = clf.get_support(indices=True)
    return {"table": "xor", "dataset": name, "seed": seed, "seconds": time.perf_counter() - t0,
            "features": support.tolist(), "informative": informative.tolist(),
            "kept informative": int(np.isin(informative, support).sum()),
            "test AUC": float(roc_auc_score(y[n_train:], clf.predict_proba(X[n_train:])[:, 1])),
            "path features": clf.pruning_path_["n_features"].tolist(),
            "path validation": clf.pruning_path_["validation_score"].tolist()}


def _default_uci_task(name: str, seed: int, data_home) -> dict:
    Xtr, Xte, ytr, yte = _uci_split(name, data_home)
    record = {"table": "uci", "dataset": name, "seed": seed}
    t0 = time.perf_counter()
    auto = CPNAClassifier(random_state=seed).fit(Xtr, ytr)
    record["seconds"] = time.perf_counter() - t0
    dense = CPNAClassifier(n_connections={}, random_state=seed).fit(Xtr, ytr)
    record |= {"default": float(auto.score(Xte, yte)), "dense": float(dense.score(Xte, yte)),
               "features": int(auto.support_.sum()), "n_features": int(Xtr.shape[1]),
               "path features": auto.pruning_path_["n_features"].tolist(),
               "path validation": auto.pruning_path_["validation_score"].tolist()}
    return record


def default_table(seeds: int, data_home=None, n_jobs: int = 1, verbose: int = 0) -> Result:
    """The benchmark behind ``CPNAClassifier()``'s default (``n_connections="auto"``).

    Table 1's XOR data at the paper's sizes (3000 training and 3000 test samples): which
    features the default keeps, and its test AUC; and Table 3's UCI data (the same
    split): the default against the dense network of the same defaults
    (``n_connections={}``), test accuracy. ``seeds`` runs each; UCI only when
    ``data_home`` is given.
    """
    tasks = [delayed(_default_xor_task)(name, seed, 3000) for name in _XOR for seed in range(seeds)]
    if data_home is not None:
        tasks += [delayed(_default_uci_task)(name, seed, str(data_home)) for name in _UCI
                  for seed in range(seeds)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        records = Parallel(n_jobs=n_jobs, verbose=verbose)(tasks)
    xor_rows = []
    for name, cfg in _XOR.items():
        recs = [r for r in records if r["table"] == "xor" and r["dataset"] == name]
        xor_rows.append([name, len(recs), " / ".join(str(len(r["features"])) for r in recs),
                         " / ".join(f"{r['kept informative']} of {cfg['k']}" for r in recs),
                         _best_mean_sd([r["test AUC"] for r in recs]),
                         f"{np.mean([r['seconds'] for r in recs]):.0f}"])
    table = md_table(["data (3000 + 3000)", "seeds", "features kept", "informative kept",
                      "test AUC %: best / mean ± sd (n)", "s per fit"], xor_rows)
    uci = [r for r in records if r["table"] == "uci"]
    if uci:
        rows = []
        for name in _UCI:
            recs = [r for r in uci if r["dataset"] == name]
            rows.append([name, len(recs), _best_mean_sd([r["dense"] for r in recs]),
                         _best_mean_sd([r["default"] for r in recs]),
                         " / ".join(f"{r['features']} of {r['n_features']}" for r in recs),
                         f"{np.mean([r['seconds'] for r in recs]):.0f}"])
        table += "\n\n" + md_table(["data", "seeds", "dense (n_connections={}) accuracy %",
                                     "default (auto) accuracy %", "features kept", "s per fit"], rows)
    notes = ("CPNAClassifier(random_state=seed) with every other parameter at its default "
             "(width 256, 100 dense iterations, then feature budgets halving from all to 1, 100 "
             "iterations each, 20 % of the rows held out by row hash, the sparsest network within "
             "one standard error of the best validation accuracy). Dense: "
             "CPNAClassifier(n_connections={}), the same defaults, 100 iterations on all the "
             "training rows. UCI: the split and scaling of Table 3.")
    return Result(table=table, records=records, settings={"seeds": seeds}, notes=notes)


def _run_table1(context: Context) -> Result:
    """``cpna-table1``: :func:`xor_table` at the sizes of ``context``."""
    return xor_table(table_settings("xor", context), n_jobs=context.n_jobs, on_record=context.on_result)


def _run_table3(context: Context) -> Result:
    """``cpna-table3``: :func:`uci_table` at the sizes of ``context``, on its data_home."""
    return uci_table(
        table_settings("uci", context), context.data_home, n_jobs=context.n_jobs,
        on_record=context.on_result,
    )


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

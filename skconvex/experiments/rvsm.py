"""RVSM: the shape of Dinh & Xin's Tables 1 and 2 on networks a 2-core CPU can train.

The paper sparsifies VGG-16 and ResNet18 on CIFAR-10 (Table 1: accuracy and share of
zero weights per penalty; Table 2: RVSM-ℓ0 against ADMM). Those nets need a GPU and
CIFAR-10 is not on disk here, so the same comparison runs on:

* ``digits-mlp`` (experiment ``rvsm-digits``): scikit-learn's digits (8×8), MLP
  64-300-100-10, stratified 4:1 split per seed;
* ``mnist-mlp`` (experiment ``rvsm-mnist``): MNIST (``<data_home>/mnist``),
  LeNet-300-100 (784-300-100-10), the original 60 000/10 000 split;
* ``mnist-lenet5`` (experiment ``rvsm-mnist``): MNIST, LeNet-5 (the package's
  ``"lenet5"``).

Per case and seed, every network starts from the same initialization (same
``random_state``) and gets the same optimizer and epochs (SGD, Nesterov momentum 0.9,
weight decay 5e-4 and batch 128 as in the authors' code; a constant learning rate):

* ``dense``: plain training (RVSM with λ = 0, so u = w);
* ``RVSM-l1``, ``RVSM-tl1``, ``RVSM-l0``: λ = 1e-5, β = 1e-2, a = 1 (the paper's
  Table 1 values); accuracy of u (the sparse copy, as the paper evaluates) and of w;
* ``RVSM-… reset``: the same with w set to u after every epoch, as the authors' code
  does (``reset_to_sparse=True``; not in Algorithm 1);
* ``ADMM-l1`` and ``ADMM-l0``: eq. 10 with a gradient step for w, same λ, β (the
  paper's Table 2 baseline; its ADMM instead projects on a fixed 60 % sparsity);
* ``magnitude``: ``torch.nn.utils.prune.global_unstructured`` (L1, global over the
  same weights) of the dense network at the sparsity each RVSM penalty reached, once
  without retraining and once fine-tuned with the pruning masks for ``finetune``
  epochs (the same optimizer; the dense net's epochs plus these).

Sparsity is the share of zeros over the weights of all Linear/Conv layers (biases not
counted), as in the paper; for LeNet-5 the fixed zeros of C3's connection table count
as zeros for every method.

:func:`rvsm_settings` fixes the sizes (full, quick or tiny) and :func:`rvsm_table` runs
them and returns a :class:`Result`; ``benchmarks/bench_rvsm.py`` calls the second with
its command-line options.
"""

from __future__ import annotations

import copy
import functools
import time
import warnings
from collections.abc import Iterable, Mapping, Sequence
from os import PathLike

import numpy as np
import torch
from joblib import Parallel, delayed
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from .._rvsm import RVSMClassifier
from ..nn.masks import prunable_parameters
from ._registry import Context, Experiment, Result, collect, register
from ._report import md_table

# Nothing here is public API: the experiments are run through the registry and
# ``python -m skconvex.experiments`` (see skconvex.experiments.run_experiment). The
# helpers stay importable for the tests and benchmarks/, without any promise.
__all__: list[str] = []

CASES = {
    "digits-mlp": dict(data="digits", architecture="mlp", hidden_layer_sizes=(300, 100)),
    "mnist-mlp": dict(data="mnist", architecture="mlp", hidden_layer_sizes=(300, 100)),
    "mnist-lenet5": dict(data="mnist", architecture="lenet5", image_shape=(1, 28, 28)),
}
PENALTIES = ("l1", "tl1", "l0")
# name -> (method, penalty, reset_to_sparse)
_SPLITTING = (
    {f"RVSM-{p}": ("rvsm", p, False) for p in PENALTIES}
    | {f"RVSM-{p} reset": ("rvsm", p, True) for p in PENALTIES}
    | {"ADMM-l1": ("admm", "l1", False), "ADMM-l0": ("admm", "l0", False)}
)
# The paper's numbers (CIFAR-10): accuracy %, sparsity %.
_PAPER_TABLE1 = {
    "dense": (93.82, 0.0), "RVSM-l1": (93.70, 35.68), "RVSM-tl1": (93.07, 63.34), "RVSM-l0": (92.54, 86.89),
}
_PAPER_TABLE2 = {"dense": (95.07, 0.0), "ADMM": (94.84, 47.08), "RVSM-l0": (94.89, 93.70)}

# Sizes. Full: the benchmark's defaults; quick: about a minute for digits; tiny: seconds,
# for the test suite. Seeds and epochs are per case; ``finetune_fraction`` sets the
# magnitude-pruning fine-tuning epochs as a fraction of the training epochs.
RVSM_FULL = dict(
    lam=1e-5, beta=1e-2, lr=0.05, finetune_fraction=0.25,
    seeds={"digits-mlp": 5, "mnist-mlp": 2, "mnist-lenet5": 1},
    epochs={"digits-mlp": 100, "mnist-mlp": 20, "mnist-lenet5": 10},
    n_train=None, n_test=None,  # MNIST subsamples (stratified); None: the whole set
)  # fmt: skip
RVSM_QUICK = RVSM_FULL | dict(seeds=dict.fromkeys(CASES, 1), n_train=2000,
                              epochs={"digits-mlp": 10, "mnist-mlp": 2, "mnist-lenet5": 1})
# Scoring LeNet-5 on MNIST's 10 000 test images ~25 times would take most of a tiny run.
RVSM_TINY = RVSM_QUICK | dict(n_train=300, n_test=500,
                             epochs={"digits-mlp": 2, "mnist-mlp": 1, "mnist-lenet5": 1})


def rvsm_settings(context: Context, cases: Sequence[str]) -> dict:
    """The settings of ``cases`` for ``context`` (full, quick or tiny sizes, its seeds).

    Parameters
    ----------
    context : Context
        Only ``quick``, ``tiny`` and ``seeds`` are read; ``seeds`` applies to every case.
    cases : sequence of str
        Keys of :data:`CASES`.

    Returns
    -------
    dict
        The keys of :data:`RVSM_FULL` plus ``cases``; ``seeds`` and ``epochs`` are
        restricted to ``cases``.
    """
    base = RVSM_TINY if context.tiny else RVSM_QUICK if context.quick else RVSM_FULL
    return base | dict(
        cases=list(cases),
        seeds={c: context.n_seeds(RVSM_FULL["seeds"][c], base["seeds"][c]) for c in cases},
        epochs={c: base["epochs"][c] for c in cases},
    )


@functools.lru_cache(maxsize=2)
def _mnist(data_home: str):
    # Once per worker process: joblib reuses its workers, and this module is imported
    # by reference there, so the cache survives between tasks.
    from ..datasets import load_mnist

    X, y = load_mnist(data_home, subset="train", return_X_y=True, dtype=np.float32)
    X_te, y_te = load_mnist(data_home, subset="test", return_X_y=True, dtype=np.float32)
    return X, y, X_te, y_te


def _load_case(case: str, seed: int, data_home: str | PathLike[str] | None = None,
              n_train: int | None = None, n_test: int | None = None) -> list[np.ndarray]:
    """Training and test data of a case: ``[X_train, X_test, y_train, y_test]``.

    Parameters
    ----------
    case : str
        A key of :data:`CASES`.
    seed : int
        The digits split, and the MNIST subsamples.
    data_home : str or path-like, default=None
        Directory holding ``mnist/`` (MNIST cases only).
    n_train, n_test : int, default=None
        Stratified subsamples of MNIST's training and test sets (None: all of it).

    Returns
    -------
    list of ndarray
        float32 inputs (MNIST pixels in [0, 1], digits divided by 16) and labels.
    """
    if CASES[case]["data"] == "digits":
        X, y = load_digits(return_X_y=True)
        X = (X / 16).astype(np.float32)
        return train_test_split(X, y, test_size=0.2, stratify=y, random_state=seed)
    X, y, X_te, y_te = _mnist(str(data_home))
    X, y = _subsample(X, y, n_train, seed)
    X_te, y_te = _subsample(X_te, y_te, n_test, seed)
    return [X, X_te, y, y_te]


def _subsample(X: np.ndarray, y: np.ndarray, n: int | None, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A stratified subsample of ``n`` rows (all rows when ``n`` is None or too large)."""
    if n is None or n >= len(y):
        return X, y
    # Split the indices, not X: splitting X would copy the whole complement (60 000 × 784
    # for MNIST) on every call; the rows drawn are the same.
    keep, _ = train_test_split(np.arange(len(y)), train_size=n, stratify=y, random_state=seed)
    return X[keep], y[keep]


def _make_estimator(case: str, seed: int, settings: Mapping, method: str = "rvsm", penalty: str = "l0",
                   lam: float = 1e-5, reset: bool = False) -> RVSMClassifier:
    """The RVSMClassifier of ``case`` with the shared optimizer and a fixed budget.

    Parameters
    ----------
    case : str
        A key of :data:`CASES`.
    seed : int
        ``random_state``: every method of a seed starts from the same weights.
    settings : mapping
        Reads ``beta``, ``lr`` and ``epochs[case]``.
    method, penalty, lam, reset
        ``method``, ``penalty``, ``lam`` and ``reset_to_sparse`` of the estimator.

    Returns
    -------
    RVSMClassifier
        Unfitted.
    """
    cfg = {k: v for k, v in CASES[case].items() if k != "data"}
    epochs = settings["epochs"][case]
    return RVSMClassifier(
        **cfg, method=method, penalty=penalty, lam=lam, beta=settings["beta"], a=1.0, reset_to_sparse=reset,
        use_sparse_weights=False,  # keep w in module_; u is evaluated from sparse_weights_
        solver="sgd", learning_rate_init=settings["lr"], momentum=0.9, nesterovs_momentum=True,
        alpha=5e-4, batch_size=128, max_iter=epochs,
        tol=0.0, n_iter_no_change=epochs + 1,  # a fixed budget: no early stop
        random_state=seed,
    )


def _weight_sparsity(module: torch.nn.Module, names: Iterable[str] | None = None) -> float:
    """Share of zeros over the weights ``names`` (default: the Linear/Conv weights).

    Read as attributes, so the weights torch.nn.utils.prune recomputes count too.
    """
    names = list(prunable_parameters(module)) if names is None else names
    weights = [getattr(module.get_submodule(n.rpartition(".")[0]), n.rpartition(".")[2]) for n in names]
    zeros = sum(int((w == 0).sum()) for w in weights)
    return zeros / sum(w.numel() for w in weights)


def _with_weights(est: RVSMClassifier, weights: Mapping[str, np.ndarray]) -> RVSMClassifier:
    """A copy of ``est`` whose split parameters are ``weights`` (e.g. u)."""
    other = copy.deepcopy(est)
    params = dict(other.module_.named_parameters())
    with torch.no_grad():
        for name, value in weights.items():
            params[name].copy_(torch.from_numpy(value))
    return other


def _data(case: str, seed: int, s: Mapping):
    return _load_case(case, seed, s["data_home"], s["n_train"], s["n_test"])


def _fit_task(case: str, seed: int, name: str, s: Mapping):
    X, X_te, y, y_te = _data(case, seed, s)
    if name == "dense":
        est = _make_estimator(case, seed, s, lam=0.0)
    else:
        method, penalty, reset = _SPLITTING[name]
        est = _make_estimator(case, seed, s, method=method, penalty=penalty, lam=s["lam"], reset=reset)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        # The budget is fixed on purpose: a warning at max_iter would only flood the log.
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    record = dict(case=case, seed=seed, method=name, seconds=time.perf_counter() - t0, epochs=est.n_iter_,
                  stop_reason=est.stop_reason_)
    if name == "dense":
        record.update(accuracy=100 * est.score(X_te, y_te), sparsity=100 * _weight_sparsity(est.module_))
        return record, est  # the magnitude-pruning tasks start from it
    sparse = _with_weights(est, est.sparse_weights_)
    record.update(
        accuracy=100 * sparse.score(X_te, y_te),  # u, the sparse network
        accuracy_w=100 * est.score(X_te, y_te),  # w, the relaxed weights
        sparsity=100 * est.sparsity_,
        train_accuracy=100 * sparse.score(X, y),
        layer_sparsity={k: 100 * v for k, v in est.layer_sparsity_.items()},
    )
    return record, None


def _finetune(est: RVSMClassifier, X, y, epochs: int, lr: float, seed: int) -> None:
    """Retrain the pruned module_ with its torch.nn.utils.prune masks (hand loop)."""
    module = est.module_
    module.train()
    opt = torch.optim.SGD(module.parameters(), lr=lr, momentum=0.9, nesterov=True, weight_decay=5e-4)
    Xt = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))
    yt = torch.from_numpy(np.searchsorted(est.classes_, y)).long()
    gen = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        for idx in torch.randperm(len(Xt), generator=gen).split(128):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(module(Xt[idx]), yt[idx]).backward()
            opt.step()
    module.eval()


def _magnitude_task(case: str, seed: int, matched: str, target: float, dense: RVSMClassifier, s: Mapping):
    """Global magnitude pruning of the dense net to ``target`` % zeros, then fine-tuning."""
    from torch.nn.utils import prune

    X, X_te, y, y_te = _data(case, seed, s)
    est = copy.deepcopy(dense)
    split = prunable_parameters(est.module_)
    owners = dict(est.module_.named_modules())
    pairs = [(owners[name.rpartition(".")[0]], name.rpartition(".")[2]) for name in split]
    prune.global_unstructured(pairs, pruning_method=prune.L1Unstructured, amount=target / 100)
    record = dict(case=case, seed=seed, method="magnitude", matched=matched,
                  sparsity=100 * _weight_sparsity(est.module_, split), accuracy=100 * est.score(X_te, y_te))
    epochs = s["finetune"][case]
    t0 = time.perf_counter()
    _finetune(est, X, y, epochs, s["lr"], seed)
    record.update(accuracy_finetuned=100 * est.score(X_te, y_te), finetune_epochs=epochs,
                  finetune_seconds=time.perf_counter() - t0,
                  sparsity_finetuned=100 * _weight_sparsity(est.module_, split))
    return record


def _ms(values) -> str:
    values = np.asarray([v for v in values if v is not None], dtype=float)
    if len(values) == 0:
        return "–"
    if len(values) == 1:
        return f"{values[0]:.2f}"
    return f"{values.mean():.2f}±{values.std(ddof=1):.2f}"


def _paper_cell(name: str) -> str:
    """The paper's CIFAR-10 numbers for a method of ours (accuracy %, zeros %)."""
    cells = []
    if name in _PAPER_TABLE1:
        cells.append("VGG-16 {:.2f}, {:.2f}".format(*_PAPER_TABLE1[name]))
    table2 = "ADMM" if name.startswith("ADMM") else name
    if table2 in _PAPER_TABLE2:
        cells.append("ResNet18 {:.2f}, {:.2f}".format(*_PAPER_TABLE2[table2]))
    return "; ".join(cells) or "–"


def _method_rows(case: str, rs: list[dict], n_seeds: int, summary: dict) -> list[list]:
    """Rows of the dense and splitting methods of one case; their means go into ``summary``."""
    rows = []
    for name in ["dense", *_SPLITTING]:
        sel = [r for r in rs if r["method"] == name]
        if not sel:
            continue
        summary[f"{case}/{name}"] = dict(
            accuracy=float(np.mean([r["accuracy"] for r in sel])),
            sparsity=float(np.mean([r["sparsity"] for r in sel])),
        )
        rows.append([case, name, _ms(r["accuracy"] for r in sel), _ms(r.get("accuracy_w") for r in sel),
                     _ms(r["sparsity"] for r in sel), n_seeds, _paper_cell(name)])
    return rows


def _magnitude_rows(case: str, rs: list[dict], n_seeds: int) -> list[list]:
    """Rows of magnitude pruning matched to each RVSM variant's sparsity, before and
    after fine-tuning."""
    rows = []
    for matched in [n for n in _SPLITTING if n.startswith("RVSM-")]:
        sel = [r for r in rs if r["method"] == "magnitude" and r["matched"] == matched]
        if not sel:
            continue
        ft = sel[0]["finetune_epochs"]
        rows.append([case, f"magnitude @ {matched}", _ms(r["accuracy"] for r in sel), "–",
                     _ms(r["sparsity"] for r in sel), n_seeds, "–"])
        rows.append([case, f"magnitude @ {matched} + {ft} ep. fine-tuning",
                     _ms(r["accuracy_finetuned"] for r in sel), "–",
                     _ms(r["sparsity_finetuned"] for r in sel), n_seeds, "–"])
    return rows


def summarize(records: list[dict]) -> tuple[list[list], dict]:
    """Table rows (mean±sd over seeds) and ``summary["<case>/<method>"]`` means."""
    rows, summary = [], {}
    present = {r["case"] for r in records}
    for case in [c for c in CASES if c in present]:  # the tasks ran longest first
        rs = [r for r in records if r["case"] == case]
        n_seeds = len({r["seed"] for r in rs})
        rows += _method_rows(case, rs, n_seeds, summary)
        rows += _magnitude_rows(case, rs, n_seeds)
    return rows, summary


def rvsm_table(settings: Mapping, data_home: str | PathLike[str] | None = None, n_jobs: int = 1,
               verbose: int = 0, on_record=None) -> Result:
    """Run the comparison on ``settings["cases"]``.

    Parameters
    ----------
    settings : mapping
        As returned by :func:`rvsm_settings`.
    data_home : str or path-like, default=None
        Directory holding ``mnist/`` (MNIST cases only).
    n_jobs : int, default=1
        joblib workers; one task is one (case, seed, method).
    verbose : int, default=0
        joblib's progress messages.
    on_record : callable, default=None
        Called with each record as soon as it is in (the harness's partial results).

    Returns
    -------
    Result
        One record per fit; ``summary["<case>/<method>"]`` holds mean accuracy and
        sparsity (%). The table gives the paper's CIFAR-10 numbers beside ours.
    """
    s = dict(settings) | {"data_home": None if data_home is None else str(data_home)}
    cases = s["cases"]
    s["finetune"] = {c: max(1, round(s["finetune_fraction"] * s["epochs"][c])) for c in cases}
    # Longest tasks first so the workers finish together.
    jobs = [(c, seed, m) for c in reversed(cases) for seed in range(s["seeds"][c])
            for m in ["dense", *_SPLITTING]]
    out = collect(Parallel(n_jobs=n_jobs, verbose=verbose, return_as="generator")(
        delayed(_fit_task)(c, seed, m, s) for c, seed, m in jobs
    ), on_record, record=lambda pair: pair[0])
    records = [r for r, _ in out]
    dense = {(r["case"], r["seed"]): est for r, est in out if est is not None}
    targets = [(r["case"], r["seed"], r["method"], r["sparsity"])
               for r in records if r["method"].startswith("RVSM-")]
    records += collect(Parallel(n_jobs=n_jobs, verbose=verbose, return_as="generator")(
        delayed(_magnitude_task)(c, seed, p, t, dense[c, seed], s) for c, seed, p, t in targets
    ), on_record)
    rows, summary = summarize(records)
    table = md_table(["case", "method", "accuracy (u) %", "accuracy (w) %", "zeros %", "seeds",
                      "paper (CIFAR-10): accuracy %, zeros %"], rows)
    epochs = ", ".join(f"{c} {s['epochs'][c]}" for c in cases)
    fts = ", ".join(f"{c} {s['finetune'][c]}" for c in cases)
    mnist = any(CASES[c]["data"] == "mnist" for c in cases)
    notes = (
        f"λ = {s['lam']:g}, β = {s['beta']:g}, a = 1; SGD lr {s['lr']:g} (constant), Nesterov 0.9, "
        f"weight decay 5e-4, batch 128; epochs: {epochs}; magnitude fine-tuning epochs: {fts}. "
        + (f"MNIST training set subsampled to {s['n_train']} (stratified). "
           if mnist and s["n_train"] else "")
        + (f"MNIST test set subsampled to {s['n_test']} (stratified). " if mnist and s["n_test"] else "")
        + "Test accuracy in %, mean±sd over seeds (one split per seed for digits, MNIST's own split); "
        "\"accuracy (w)\" is the relaxed weights w, the other column the sparse copy u that RVSM returns. "
        "Zeros: share of zero weights over all Linear/Conv weights. The paper's column is for the shape "
        "only: VGG-16 (Table 1) and ResNet18 (Table 2) on CIFAR-10 need a GPU and CIFAR-10 is not on disk, "
        "so they are not run here; its ADMM projects on a fixed 60 % sparsity, ours is eq. 10 with a "
        "gradient step."
        + (" These are reduced (quick) budgets: the numbers show that the pipeline runs, they are not a "
           "reproduction." if s["epochs"] != {c: RVSM_FULL["epochs"][c] for c in cases} else "")
    )
    paper = {
        "metric": "test accuracy %, zeros %",
        "table1_vgg16_cifar10": {k: dict(accuracy=a, zeros=z) for k, (a, z) in _PAPER_TABLE1.items()},
        "table2_resnet18_cifar10": {k: dict(accuracy=a, zeros=z) for k, (a, z) in _PAPER_TABLE2.items()},
    }
    # The report prints settings["seeds"]: one count when every case has the same.
    s["seeds_per_case"] = per_case = dict(s["seeds"])
    s["seeds"] = per_case[cases[0]] if len(set(per_case.values())) == 1 else per_case
    return Result(table=table, records=records, summary=summary, settings=s, notes=notes, paper=paper)


def _runner(cases: tuple[str, ...]):
    def run(context: Context) -> Result:
        return rvsm_table(
            rvsm_settings(context, cases), context.data_home, n_jobs=context.n_jobs,
            on_record=context.on_result,
        )

    run.__doc__ = f"Run :func:`rvsm_table` on {', '.join(cases)} at the sizes of ``context``."
    return run


_run_digits = _runner(("digits-mlp",))
_run_mnist = _runner(("mnist-mlp", "mnist-lenet5"))

register(Experiment(
    name="rvsm-digits",
    title="digits, MLP 64-300-100-10: zeros and accuracy per penalty, against ADMM and magnitude pruning",
    paper="Dinh & Xin, RVSM, Tables 1–2 (shape)",
    run=_run_digits,
    minutes=(1.0, 3.0),
))
register(Experiment(
    name="rvsm-mnist",
    title="MNIST, LeNet-300-100 and LeNet-5: zeros and accuracy per penalty, against ADMM and "
          "magnitude pruning",
    paper="Dinh & Xin, RVSM, Tables 1–2 (shape)",
    run=_run_mnist,
    needs=("mnist",),
    minutes=(3.0, 26.0),
))

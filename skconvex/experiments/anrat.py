"""ANRAT (adaptive normalized risk-averting training) on MNIST with the 20-50-500 LeNet.

``anrat-lenet`` reproduces the ANRAT paper's MNIST experiment
(``shared/papers/anrat-cross-entropy-nrae.txt``, sections 5–6 and its Table 1): the
LeNet variant conv 20@5×5 → max-pool → conv 50@5×5 → max-pool → dense 500 → softmax
(``module="lenet5_20_50_500"``), trained by plain minibatch SGD on the NRAE of the
cross-entropy with λ learned under the penalty a·λ^(−q) (``schedule="adaptive"``),
λ₀ = 10, the learning rate in {1, 0.5, 0.1} and a in {1, 0.1, 0.001} selected on a
hold-out validation set of 10 000 training images, the best model (epoch) kept by
validation. Beside it: the same network and SGD on the plain cross-entropy, its
learning rate selected the same way, and ANRAT with dropout (Table 1's second row).
"""

from __future__ import annotations

import time

import numpy as np

from ._registry import Context, Experiment, Result, register
from ._report import md_table
from .gdc import error_summary, fmt_errors, mnist_split, run_parallel

# Nothing here is public API: the experiments are run through the registry and
# ``python -m skconvex.experiments`` (see skconvex.experiments.run_experiment). The
# helpers stay importable for the tests and benchmarks/, without any promise.
__all__: list[str] = []

PAPER_FILE = "shared/papers/anrat-cross-entropy-nrae.txt"

#: Table 1 of the ANRAT paper: test error (%) on MNIST, single models.
PAPER_TABLE1: tuple[tuple[str, float], ...] = (
    ("ConvNets + ANRAT", 0.56),
    ("ConvNets + ANRAT + dropout", 0.33),
)

#: The paper's search (section 5): learning rate and penalty weight a selected on the
#: validation set; λ₀ fixed at 10.
PAPER_GRID = dict(learning_rate=(1.0, 0.5, 0.1), penalty=(1.0, 0.1, 0.001), lambda_init=10.0)

#: Learning rates added below the paper's grid: at λ₀ = 10 every ANRAT run of the paper's
#: grid diverged in its first epoch in our trial runs (NRAE at λ = 10 steps along the worst
#: samples of the minibatch). Selection still picks on validation over the whole grid.
EXTRA_LEARNING_RATES = (0.05, 0.01)

BATCH = 128  # not in the paper; the authors' code (cauchyturing/ANRAT) uses 128
DROPOUT = 0.5  # not in the paper (rate unstated); the authors' code uses 0.5


def _sizes(ctx: Context) -> dict:
    if ctx.tiny:
        return dict(n_train=300, n_val=200, n_test=500, epochs=1,
                    learning_rate=(0.1,), penalty=(0.1,))
    learning_rate = PAPER_GRID["learning_rate"] + EXTRA_LEARNING_RATES
    if ctx.quick:
        return dict(n_train=5000, n_val=2000, n_test=None, epochs=5,
                    learning_rate=learning_rate, penalty=PAPER_GRID["penalty"])
    return dict(n_train=20000, n_val=10000, n_test=None, epochs=10,
                learning_rate=learning_rate, penalty=PAPER_GRID["penalty"])


def _params(method: str, lr: float, a: float | None, epochs: int, val_fraction: float) -> dict:
    params = dict(
        module="lenet5_20_50_500", criterion="cross_entropy", solver="sgd", momentum=0.0,
        nesterovs_momentum=False, learning_rate_init=lr, batch_size=BATCH, alpha=0.0,
        max_iter=epochs, early_stopping=True, validation_fraction=val_fraction,
        n_iter_no_change=10,
    )
    if method == "ce":
        return dict(params, schedule="none")
    params.update(schedule="adaptive", lambda_init=PAPER_GRID["lambda_init"], lambda_penalty=a,
                  lambda_penalty_power=1.0, lambda_power=1.0)
    if method == "anrat_dropout":
        params["module_params"] = dict(dropout=DROPOUT)
    return params


def _fit_one(task: dict, data_home: str, sizes: dict) -> dict:
    from .. import GDCClassifier

    X_tr, y_tr, X_va, y_va, X_te, y_te = mnist_split(
        data_home, sizes["n_train"], sizes["n_val"], sizes["n_test"])
    # The estimator holds out the validation images itself (stratified, seeded by
    # random_state): pass training and validation rows together.
    X = np.concatenate([X_tr, X_va])
    y = np.concatenate([y_tr, y_va])
    # ceil(fraction * n) rows are held out: (n_val - 0.5) / n holds out exactly n_val.
    frac = (len(X_va) - 0.5) / len(X)
    est = GDCClassifier(**_params(task["method"], task["lr"], task["a"], sizes["epochs"], frac),
                        random_state=task["seed"])
    t0 = time.perf_counter()
    est.fit(X, y)
    fit_s = time.perf_counter() - t0
    lam = est.lambda_curve_ or [None]
    scores = np.nan_to_num(np.asarray(est.validation_scores_ or [-np.inf], dtype=float), nan=-np.inf)
    best = float(scores.max())  # -inf: diverged before any epoch was scored
    return dict(
        method=task["method"], phase=task["phase"], seed=task["seed"], learning_rate=task["lr"],
        penalty=task["a"], n_train=len(X_tr), n_val_heldout=len(X_va),
        n_test=len(X_te),
        val_error=100.0 * (1.0 - best),
        best_epoch=int(np.argmax(scores)) + 1,
        test_error=100.0 * (1.0 - est.score(X_te, y_te)),
        epochs=int(est.n_iter_), stop_reason=est.stop_reason_,
        lambda0=lam[0], lambda_final=est.lambda_,
        lambda_at_best=lam[min(int(np.argmax(scores)), len(lam) - 1)],
        fit_seconds=fit_s,
    )


def select_config(records: list[dict], method: str) -> dict:
    """The grid record of ``method`` with the lowest validation error (first on ties)."""
    grid = [r for r in records if r["method"] == method and r["phase"] == "grid"]
    if not grid:
        raise ValueError(f"no grid runs of {method!r}")
    return min(grid, key=lambda r: (r["val_error"], grid.index(r)))


def _summarize_chosen(chosen: dict) -> dict:
    """Per method: test/validation error summaries, seeds, selected settings and final λ."""
    summary = {}
    for method, recs in chosen.items():
        summary[method] = dict(
            test_error=error_summary(r["test_error"] for r in recs),
            val_error=error_summary(r["val_error"] for r in recs),
            seeds=[r["seed"] for r in recs], learning_rate=recs[0]["learning_rate"] if recs else None,
            penalty=recs[0]["penalty"] if recs else None,
            lambda_final=[r["lambda_final"] for r in recs],
        )
    return summary


def _method_table(summary: dict) -> str:
    """The main markdown table: the paper's Table 1 numbers beside ours, one row per method."""
    labels = dict(anrat="ConvNets + ANRAT", anrat_dropout="ConvNets + ANRAT + dropout",
                  ce="ConvNets + CE, same SGD (ours)")
    paper = dict(PAPER_TABLE1)
    table_rows = []
    for method in ("anrat", "anrat_dropout", "ce"):
        s = summary[method]
        lam = [f"{v:.3g}" for v in s["lambda_final"] if v is not None]
        table_rows.append([
            labels[method], f"{paper[labels[method]]:.2f}" if labels[method] in paper else "—",
            fmt_errors(s["test_error"]), len(s["seeds"]), fmt_errors(s["val_error"]),
            s["learning_rate"], "—" if s["penalty"] is None else s["penalty"],
            ", ".join(lam) if lam else "—",
        ])
    table = md_table(["method", "paper: test error %", "ours: test error % (mean ± std (min–max))", "runs",
                      "ours: validation error %", "lr (selected)", "a (selected)", "final λ"], table_rows)
    return table


def _grid_table(records: list) -> str:
    """Markdown table of every seed-0 validation-grid run."""
    return md_table(
        ["method", "lr", "a", "validation error %", "test error %", "best epoch", "λ: epoch 1 → best epoch → last",
         "stop"],
        [[r["method"], r["learning_rate"], "—" if r["penalty"] is None else r["penalty"],
          f"{r['val_error']:.2f}", f"{r['test_error']:.2f}", r["best_epoch"],
          "—" if r["lambda0"] is None else
          f"{r['lambda0']:.3g} → {r['lambda_at_best']:.3g} → {r['lambda_final']:.3g}", r["stop_reason"]]
         for r in records if r["phase"] == "grid"],
    )


def _diverged_summary(records: list) -> str:
    """Per method, how many grid runs diverged (and at which learning rates)."""
    return "; ".join(
        f"{m}: {sum(r['stop_reason'] == 'diverged' for r in grid_recs)} of {len(grid_recs)}"
        + (f" (lr {sorted({r['learning_rate'] for r in grid_recs if r['stop_reason'] == 'diverged'}, reverse=True)})"
           if any(r["stop_reason"] == "diverged" for r in grid_recs) else "")
        for m in ("anrat", "ce")
        for grid_recs in [[r for r in records if r["method"] == m and r["phase"] == "grid"]])


def _run(ctx: Context) -> Result:
    sizes = _sizes(ctx)
    n_seeds = ctx.n_seeds(3, 1)
    home = str(ctx.data_home)
    grid = [dict(method="anrat", lr=lr, a=a, seed=0, phase="grid")
            for lr in sizes["learning_rate"] for a in sizes["penalty"]]
    grid += [dict(method="ce", lr=lr, a=None, seed=0, phase="grid") for lr in sizes["learning_rate"]]
    records = run_parallel(_fit_one, [(t, home, sizes) for t in grid], ctx)
    best_anrat, best_ce = select_config(records, "anrat"), select_config(records, "ce")
    more = [dict(method=m, lr=b["learning_rate"], a=b["penalty"], seed=s, phase="seeds")
            for m, b in (("anrat", best_anrat), ("ce", best_ce)) for s in range(1, n_seeds)]
    more += [dict(method="anrat_dropout", lr=best_anrat["learning_rate"], a=best_anrat["penalty"],
                  seed=s, phase="seeds") for s in range(n_seeds)]
    records += run_parallel(_fit_one, [(t, home, sizes) for t in more], ctx)

    def runs(method, best):
        return [r for r in records if r["method"] == method and (
            r["phase"] == "seeds" or r is best)]

    chosen = dict(anrat=runs("anrat", best_anrat), ce=runs("ce", best_ce),
                  anrat_dropout=[r for r in records if r["method"] == "anrat_dropout"])
    summary = _summarize_chosen(chosen)
    table = _method_table(summary)
    grid_table = _grid_table(records)
    a, c, d = (summary[k]["test_error"]["mean"] for k in ("anrat", "ce", "anrat_dropout"))
    n_tr, n_va = chosen["anrat"][0]["n_train"], chosen["anrat"][0]["n_val_heldout"]
    diverged = _diverged_summary(records)
    reruns = (f"the chosen settings were rerun on seeds 1–{n_seeds - 1} (dropout: seeds 0–{n_seeds - 1} "
              "at ANRAT's chosen settings)" if n_seeds > 1 else
              "one seed (0) per method; dropout at ANRAT's chosen settings")
    notes = f"""
**What is compared.** The ANRAT paper's MNIST numbers (its Table 1) beside ANRAT trained here
(`GDCClassifier(schedule="adaptive", criterion="cross_entropy", module="lenet5_20_50_500")`), the
same network and SGD on the plain cross-entropy (the paper has no such baseline), and ANRAT with
dropout {DROPOUT} before both dense layers. The learning rate (and a for ANRAT) were chosen on seed 0
by the lowest validation error over the grid lr {list(sizes['learning_rate'])}, a
{list(sizes['penalty'])} (the paper's lr grid is {{1, 0.5, 0.1}}; {list(EXTRA_LEARNING_RATES)} are ours, added
because every ANRAT run of the paper's grid diverged in its first epoch in trial runs); {reruns}. Every run keeps the epoch with the best validation
score (the paper: "use the hold-out validation set to select the best model"). Test error on the
{sizes['n_test'] or 10000} MNIST test images.

**Deviations from the paper** (a 2-core CPU; none was tuned toward the paper's numbers):
- {n_tr} training images and {n_va} validation images (the paper: 50 000 and 10 000), drawn as the
  first rows of the 50 000 / 10 000 split of `gdc-table2-mlp`, pooled, then split again by the
  estimator (stratified, seeded by the run's seed); {sizes['epochs']} epoch(s) (the paper: not stated).
- Batch {BATCH} (not stated in the paper; the authors' code uses 128). λ exponent p = 1 and penalty
  power q = 1 (the paper writes λ^p and a‖λ‖^(−q) without values; the authors' code uses p = 2, q = 1,
  λ₀ = 8, a = 0.01). λ₀ = 10 is the paper's.
- No L2 prior (the paper: strength 0.05 on the softmax layer only; the estimator's `alpha` would
  decay every layer's weights). Dropout rate {DROPOUT} (not stated in the paper).
- The dense layer is ReLU and there is no nonlinearity after the convolutions (the package's
  Caffe-style variant; the paper does not state its units).

**What holds and what does not** (this run): ANRAT {a:.2f} % vs plain cross-entropy {c:.2f} % with the
same network, optimizer and budget: ANRAT is {'better' if a < c else 'not better'} here; with dropout
{d:.2f} %. Diverged grid runs (non-finite loss; the estimator keeps the best weights seen, the
initial ones when it happens in the first epoch): {diverged}. The paper's 0.56 % (and 0.33 % with dropout) come from 50 000 training images and an
unstated number of epochs: with {n_tr} images and {sizes['epochs']} epoch(s) our errors are not
comparable in level, only the ANRAT–CE difference is.

Validation grid (seed 0):

{grid_table}
"""
    settings = dict(
        sizes={k: (list(v) if isinstance(v, tuple) else v) for k, v in sizes.items()},
        batch_size=BATCH, dropout=DROPOUT, seeds=list(range(n_seeds)),
        estimator={m: _params(m, "<selected>", "<selected>", sizes["epochs"], (n_va - 0.5) / (n_tr + n_va))
                   for m in ("anrat", "anrat_dropout", "ce")},
        selection="lowest best-epoch validation error on seed 0; ties: first in grid order (lr, then a)",
        split="first n_train of the 50000 training rows and first n_val of the 10000 validation rows "
              "(RandomState(0) permutation of the 60000 training images), pooled; the estimator holds "
              "out n_val of them (stratified, random_state=seed)",
        input_scaling="pixels/255*2-1 in [-1, 1]",
        n_jobs=ctx.n_jobs,
    )
    return Result(table=table, records=records, summary=summary, settings=settings, notes=notes,
                  paper=dict(table1=[dict(method=m, test_error_percent=e) for m, e in PAPER_TABLE1],
                             grid={k: (list(v) if isinstance(v, tuple) else v) for k, v in PAPER_GRID.items()},
                             source=PAPER_FILE + ", sections 5-6 and Table 1"))


register(Experiment(
    name="anrat-lenet",
    title="ANRAT vs cross-entropy on MNIST with the 20-50-500 LeNet (ANRAT Table 1)",
    paper="ANRAT (adaptive normalized risk-averting training), Table 1",
    run=_run,
    needs=("mnist",),
    minutes=(5.0, 14.0),  # full: measured, --n-jobs 2
))

"""The interplay paper's Figure 1 trends: expected gradient norms against network structure.

Ithapu, Ravi & Singh's Figure 1 (CIFAR-10, B = 100) plots the expected (projected)
gradient norm of random-stopping SGD against (a) visible and hidden layer lengths of a
denoising autoencoder (DA), (b) the denoising rate ζ and the box bound w_m, (c) the
lengths of a multi-layer net, (d) its depth and (e) the dropout rate, each curve
scaled to its maximum, and compares the trends with the bounds (10)–(13). We run the
same sweeps on scikit-learn's digits (d_x = 64, and 16 after 2×2 average pooling) and
on 10 000 MNIST training images (d_x = 784, and 196 and 49 after 2×2 and 4×4
pooling), inputs scaled to [0, 1] as the paper assumes.

**What is measured.** Random stopping returns ``W^R`` with ``R ~ Unif[1, N]`` drawn
before training, independent of the trajectory, so ``E_R[g(W^R)] = (1/N) Σ_k g(W^k)``
for any ``g`` along a run: we train for all ``N`` steps and average over them
instead of drawing one ``R`` per run (the same expectation, with far less variance).
``g`` is the squared norm of the step's minibatch gradient, recorded by the
estimators' ``record_grad_norm`` (``grad_norm_curve_``) and, for the DA, the squared
norm of the gradient mapping ``(W_k − W_{k+1})/γ`` of the box-constrained weights,
which for plain SGD is the projected gradient of Theorem IV.1. A minibatch gradient's
squared norm is ``‖∇f‖²`` plus its variance over ``B``: the quantity the bounds'
second terms describe. Mean over seeds, ± their standard deviation.

**Training.** Plain SGD (no momentum, constant step, B = 100), squared error. DA
sweeps: one layer pretrained with
:func:`skconvex.training.pretrain_denoising`, logistic units (eq. 4's σ),
γ = 0.1, ζ = 0.75, w_m = 0.1 unless swept. Multi-layer sweeps: scaled-tanh hidden
units and γ = 0.03 (with logistic units plain SGD left every net of two or more
hidden layers at chance on digits after 30 epochs, at γ = 0.01 to 0.3; tanh is a
rescaled logistic, so the bounds' structure holds up to constants), ``GDCClassifier(schedule="none", pretrain="denoising")``
(one DA epoch per hidden layer, ζ = 0.75, w_m = 0.05: chosen so that the step condition of (12)–(13), γ_l < 20/(α d_{l+1} w_m), can hold at
γ = 0.03), then supervised fine-tuning with
``dropout = 1 − ζ`` where ζ is swept; the gradient norms are those of fine-tuning.

**Bounds beside them.** (11) for the DA with ``D_f`` the initial reconstruction
error, ``μ_x``, ``τ_x`` from :func:`~skconvex.convergence.data_moments` and
``U_da = 1/γ`` (the paper gives no value; any fixed ``U_da`` only rescales a sweep);
(13) for the multi-layer nets (``ζ = 1`` gives (12)) with ``D_f`` the first
fine-tuning epoch's mean error, ``w_m`` the pretraining box and ``α`` the measured
mean squared projected gradient of the last pretraining epoch (here the only one), worst
layer: a stand-in for the (α, δ_α) accuracy of Definition 1. The DA sweeps measure the
gradient mapping of ``W`` only (eq. 4 has no biases); the multi-layer sweeps the full
minibatch gradient, biases and output layer included. A bound whose step condition fails is reported as such. Both columns are scaled
to their sweep's maximum, as in the paper's plots; a trend *agrees* when measured
and bound values have a positive Spearman rank correlation over the sweep.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Sequence

import numpy as np
import torch
from scipy.stats import spearmanr
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

from .._gdc import GDCClassifier
from ..convergence import data_moments, denoising_bound, dropout_multilayer_bound
from ..nn import MLP
from ..training.pretraining import pretrain_denoising
from ._registry import Context, Experiment, Result, register
from ._report import fmt_g, md_table

# Nothing here is public API: the experiments are run through the registry and
# ``python -m skconvex.experiments`` (see skconvex.experiments.run_experiment). The
# helpers stay importable for the tests and benchmarks/, without any promise.
__all__: list[str] = []

LEARNING_RATE = 0.1  # DA sweeps
MLP_LEARNING_RATE = 0.03  # multi-layer sweeps (summed squared error over 10 outputs)
MLP_ACTIVATION = "lecun_tanh"
BATCH_SIZE = 100
DA_KEEP, DA_BOX = 0.75, 0.1  # DA sweeps, unless swept
PRETRAIN_KEEP, PRETRAIN_BOX = 0.75, 0.05  # before the multi-layer sweeps

#: sweep name -> (panel of the paper's Figure 1, kind, data, list of configs)
_SWEEPS: dict = {
    "da-sizes": ("(a)", "da", "mnist", [
        dict(d_x=d_x, hidden=(h,)) for d_x in (49, 196, 784) for h in (32, 128, 512)
    ]),
    "da-zeta-box": ("(b)", "da", "mnist", [
        dict(d_x=196, hidden=(128,), keep=z, box=w)
        for w in (0.01, 0.05, 0.25) for z in (0.25, 0.5, 0.75, 1.0)
    ]),
    "mlp-sizes": ("(c)", "mlp", "mnist", [
        dict(d_x=d_x, hidden=(h,)) for d_x in (49, 196, 784) for h in (32, 128, 512)
    ]),
    "mlp-depth": ("(d)", "mlp", "mnist", [dict(d_x=196, hidden=(128,) * k) for k in (1, 2, 3, 4)]),
    "mlp-dropout": ("(e)", "mlp", "mnist", [
        dict(d_x=196, hidden=(128, 128), keep=z) for z in (0.25, 0.5, 0.75, 0.9, 1.0)
    ]),
    "digits-da-sizes": ("(a)", "da", "digits", [
        dict(d_x=d_x, hidden=(h,)) for d_x in (16, 64) for h in (32, 128, 512)
    ]),
    "digits-mlp-sizes": ("(c)", "mlp", "digits", [
        dict(d_x=d_x, hidden=(h,)) for d_x in (16, 64) for h in (32, 128, 512)
    ]),
    "digits-mlp-depth": ("(d)", "mlp", "digits", [dict(d_x=64, hidden=(128,) * k) for k in (1, 2, 3, 4)]),
    "digits-mlp-dropout": ("(e)", "mlp", "digits", [
        dict(d_x=64, hidden=(128, 128), keep=z) for z in (0.25, 0.5, 0.75, 0.9, 1.0)
    ]),
}


def _figure1_settings(context: Context) -> dict:
    """Sizes for a full, quick or tiny run."""
    if context.tiny:
        return dict(n_mnist=300, epochs_mnist=1, epochs_digits=1, n_digits=300, seeds=1,
                    sweeps=["digits-da-sizes", "digits-mlp-dropout"], hidden_cap=32)
    if context.quick:
        return dict(n_mnist=3000, epochs_mnist=2, epochs_digits=10, n_digits=None,
                    seeds=context.n_seeds(3, 1), sweeps=list(_SWEEPS), hidden_cap=None)
    return dict(n_mnist=10000, epochs_mnist=5, epochs_digits=30, n_digits=None,
                seeds=context.n_seeds(3, 1), sweeps=list(_SWEEPS), hidden_cap=None)


def _pool(X: np.ndarray, side: int, factor: int) -> np.ndarray:
    n = X.shape[0]
    out = X.reshape(n, side // factor, factor, side // factor, factor).mean(axis=(2, 4))
    return out.reshape(n, -1)


def _load_inputs(data: str, d_x: int, settings: dict, data_home) -> tuple[np.ndarray, np.ndarray]:
    """Inputs in [0, 1] with ``d_x`` features (average-pooled images) and labels."""
    if data == "digits":
        X, y = load_digits(return_X_y=True)
        X, side = X / 16.0, 8
        if settings["n_digits"]:
            X, y = X[: settings["n_digits"]], y[: settings["n_digits"]]
    else:
        from ..datasets import load_mnist

        X, y = load_mnist(data_home, subset="train", return_X_y=True, dtype=np.float64)
        order = np.random.RandomState(0).permutation(len(X))[: settings["n_mnist"]]
        X, y, side = X[order], y[order], 28
    factor = int(round(math.sqrt(side * side / d_x)))
    if factor > 1:
        X = _pool(X, side, factor)
    assert X.shape[1] == d_x, (X.shape, d_x)
    return X.astype(np.float32), y


def _cap(hidden: Sequence[int], cap: int | None) -> tuple[int, ...]:
    return tuple(min(h, cap) for h in hidden) if cap else tuple(hidden)


def _run_da(X: np.ndarray, config: dict, epochs: int, seed: int) -> dict:
    torch.manual_seed(seed)
    net = MLP(X.shape[1], 1, hidden_layer_sizes=config["hidden"], activation="logistic")
    Xt = torch.as_tensor(X)
    (log,) = pretrain_denoising(
        net, Xt, lambda groups: torch.optim.SGD(groups, lr=LEARNING_RATE),
        keep_probability=config.get("keep", DA_KEEP), box_bound=config.get("box", DA_BOX),
        epochs=epochs, batch_size=BATCH_SIZE, seed=seed, learning_rate=LEARNING_RATE,
    )
    sq = np.square(log["projected_grad_norm"])
    return dict(measured=float(sq.mean()), n_iter=len(sq), initial_gap=log["initial_loss"],
                final_loss=log["final_loss"])


def _run_mlp(X: np.ndarray, y: np.ndarray, config: dict, epochs: int, seed: int) -> dict:
    keep = config.get("keep", 1.0)
    clf = GDCClassifier(
        schedule="none", hidden_layer_sizes=config["hidden"], activation=MLP_ACTIVATION,
        solver="sgd", momentum=0.0, learning_rate_init=MLP_LEARNING_RATE, alpha=0.0,
        batch_size=BATCH_SIZE, max_iter=epochs, n_iter_no_change=epochs + 1, tol=0.0,
        pretrain="denoising", denoising_rate=PRETRAIN_KEEP, box_bound=PRETRAIN_BOX,
        pretrain_iter=1, dropout=1.0 - keep, record_grad_norm=True, random_state=seed,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    sq = np.square(clf.grad_norm_curve_)
    # α: the squared projected gradient over the last pretraining epoch, worst layer
    steps = -(-len(X) // BATCH_SIZE)
    alpha = max(float(np.mean(np.square(c[-steps:]))) for c in clf.pretrain_grad_norm_curves_)
    return dict(measured=float(sq.mean()), n_iter=len(sq), initial_gap=clf.training_error_curve_[0],
                alpha=alpha, train_accuracy=float(clf.score(X, y)))


def _bound(kind: str, config: dict, record: dict, moments) -> float | None:
    try:
        if kind == "da":
            return denoising_bound(
                initial_gap=record["initial_gap"], n_iter=record["n_iter"], batch_size=BATCH_SIZE,
                learning_rate=LEARNING_RATE, lipschitz=1.0 / LEARNING_RATE,
                n_visible=config["d_x"], n_hidden=config["hidden"][0],
                denoising_rate=config.get("keep", DA_KEEP), box_bound=config.get("box", DA_BOX),
                mu_x=moments.mu_x, tau_x=moments.tau_x,
            )
        return dropout_multilayer_bound(
            [config["d_x"], *config["hidden"], 10], learning_rates=MLP_LEARNING_RATE,
            alpha=record["alpha"], box_bound=PRETRAIN_BOX, initial_gap=record["initial_gap"],
            n_iter=record["n_iter"], batch_size=BATCH_SIZE, keep_probability=config.get("keep", 1.0),
        )
    except ValueError:  # the step condition of the result fails at these sizes
        return None


def _task(sweep: str, index: int, config: dict, seed: int, settings: dict, data_home) -> dict:
    _, kind, data, _ = _SWEEPS[sweep]
    torch.set_num_threads(1)
    config = {**config, "hidden": _cap(config["hidden"], settings["hidden_cap"])}
    X, y = _load_inputs(data, config["d_x"], settings, data_home)
    epochs = settings["epochs_mnist" if data == "mnist" else "epochs_digits"]
    start = time.perf_counter()
    record = _run_da(X, config, epochs, seed) if kind == "da" else _run_mlp(X, y, config, epochs, seed)
    record["bound"] = _bound(kind, config, record, data_moments(X))
    record.update(sweep=sweep, index=index, seed=seed, seconds=time.perf_counter() - start,
                  config={k: (list(v) if isinstance(v, tuple) else v) for k, v in config.items()})
    return record


def _label(config: dict) -> str:
    parts = [f"d_x={config['d_x']}", "hidden=" + "-".join(str(h) for h in config["hidden"])]
    if "keep" in config:
        parts.append(f"ζ={config['keep']}")
    if "box" in config:
        parts.append(f"w_m={config['box']}")
    return ", ".join(parts)


def _summarize(records: list[dict]) -> dict:
    summary = {}
    for sweep in dict.fromkeys(r["sweep"] for r in records):
        rows = sorted({r["index"] for r in records if r["sweep"] == sweep})
        measured, bounds, labels, spread, accuracy = [], [], [], [], []
        for i in rows:
            runs = [r for r in records if r["sweep"] == sweep and r["index"] == i]
            values = np.array([r["measured"] for r in runs])
            measured.append(float(values.mean()))
            spread.append(float(values.std()))
            b = [r["bound"] for r in runs]
            bounds.append(None if any(v is None for v in b) else float(np.mean(b)))
            labels.append(_label(runs[0]["config"]))
            acc = [r["train_accuracy"] for r in runs if "train_accuracy" in r]
            accuracy.append(float(np.mean(acc)) if acc else None)
        valid = [j for j, b in enumerate(bounds) if b is not None]
        rho = None
        if len(valid) >= 3:
            rho = float(spearmanr([measured[j] for j in valid], [bounds[j] for j in valid]).statistic)
        summary[sweep] = dict(labels=labels, measured=measured, measured_sd=spread, bound=bounds,
                              train_accuracy=accuracy,
                              spearman=rho, panel=_SWEEPS[sweep][0], kind=_SWEEPS[sweep][1],
                              data=_SWEEPS[sweep][2])
    return summary


def _table(summary: dict) -> str:
    parts = []
    for sweep, s in summary.items():
        top_m = max(s["measured"])
        top_b = max([b for b in s["bound"] if b is not None], default=None)
        rows = []
        mlp = s["kind"] == "mlp"
        for label, m, sd, b, acc in zip(
            s["labels"], s["measured"], s["measured_sd"], s["bound"], s["train_accuracy"]
        ):
            rows.append([
                label, f"{fmt_g(m)} ± {fmt_g(sd, 2)}", f"{m / top_m:.2f}",
                "step condition fails" if b is None else fmt_g(b),
                "–" if b is None else f"{b / top_b:.2f}",
            ] + ([f"{100 * acc:.1f}"] if mlp else []))
        rho = "n/a" if s["spearman"] is None else f"{s['spearman']:+.2f}"
        parts.append(
            f"**{sweep}** (Figure 1{s['panel']}, {s['data']}; Spearman ρ(measured, bound) = {rho})\n\n"
            + md_table(["config", "E‖G‖² measured", "/ max", "bound", "/ max"]
                       + (["train acc. %"] if mlp else []), rows)
        )
    return "\n\n".join(parts)


def _short_labels(labels: list[str]) -> list[str]:
    """Only the parts of the labels that change within the sweep, one per line."""
    split = [label.split(", ") for label in labels]
    varying = [i for i in range(len(split[0])) if len({parts[i] for parts in split}) > 1]
    return ["\n".join(parts[i] for i in varying) or label for parts, label in zip(split, labels)]


def plot_figure1(summary: dict, path) -> None:
    """One panel per sweep: measured and bound, each scaled to its maximum."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sweeps = list(summary)
    cols = 3
    rows = -(-len(sweeps) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 3.4 * rows), squeeze=False)
    for ax, sweep in zip(axes.flat, sweeps):
        s = summary[sweep]
        x = np.arange(len(s["labels"]))
        m = np.array(s["measured"]) / max(s["measured"])
        ax.plot(x, m, "o-", label="measured E‖G(W^R)‖²")
        valid = [b for b in s["bound"] if b is not None]
        if valid:
            b = np.array([np.nan if v is None else v for v in s["bound"]]) / max(valid)
            ax.plot(x, b, "s--", label="bound (11)/(13)")
        ax.set_xticks(x)
        ax.set_xticklabels(_short_labels(s["labels"]), fontsize=6.5, rotation=60 if len(x) > 6 else 0)
        fixed = [p for p in s["labels"][0].split(", ") if all(p in lab.split(", ") for lab in s["labels"])]
        ax.set_xlabel("; ".join(fixed) if fixed else "configuration", fontsize=7)
        ax.set_ylabel("scaled to the sweep's maximum")
        ax.set_ylim(0, 1.05)
        ax.set_title(f"Fig. 1{s['panel']} {sweep}", fontsize=9)
        ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(sweeps):]:
        ax.set_visible(False)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run_figure1(context: Context) -> Result:
    settings = _figure1_settings(context)
    missing_mnist = not (context.data_home / "mnist").is_dir()
    sweeps = [s for s in settings["sweeps"] if not (missing_mnist and _SWEEPS[s][2] == "mnist")]
    tasks = [
        (sweep, i, config, seed)
        for sweep in sweeps
        for i, config in enumerate(_SWEEPS[sweep][3])
        for seed in range(settings["seeds"])
    ]
    # Context.map: each finished task goes to the run's partial results file at once.
    records = context.map(
        _task, [(sweep, i, config, seed, settings, context.data_home) for sweep, i, config, seed in tasks]
    )
    summary = _summarize(records)
    notes = _notes(summary, missing_mnist)
    return Result(
        table=_table(summary), records=records, summary=summary,
        settings={**settings, "sweeps": sweeps, "learning_rate": LEARNING_RATE,
                  "mlp_learning_rate": MLP_LEARNING_RATE, "mlp_activation": MLP_ACTIVATION,
                  "batch_size": BATCH_SIZE, "da_keep": DA_KEEP, "da_box": DA_BOX,
                  "pretrain_keep": PRETRAIN_KEEP, "pretrain_box": PRETRAIN_BOX},
        notes=notes,
        paper={"figure": "Figure 1 (CIFAR-10, B = 100): trends only, y-axes scaled to maximum",
               "claims": [
                   "(a) convergence slower for larger networks; visible and hidden lengths "
                   "influence it unequally",
                   "(b) faster for small w_m; ζ has an almost negligible influence",
                   "(c) network lengths dominate, the visible length most",
                   "(d) layer lengths matter more than the number of layers",
                   "(e) dropout's effect small; slower for very small and very large ζ",
               ]},
    )


def _notes(summary: dict, missing_mnist: bool) -> str:
    lines = ["How to read: " + __doc__.split("**What is measured.**")[1].split("**Training.**")[0].strip()]
    agree = [k for k, s in summary.items() if s["spearman"] is not None and s["spearman"] > 0]
    disagree = [k for k, s in summary.items() if s["spearman"] is not None and s["spearman"] <= 0]
    lines.append(f"Trends that agree (ρ > 0): {', '.join(agree) or 'none'}; "
                 f"that do not: {', '.join(disagree) or 'none'}.")
    if missing_mnist:
        lines.append("MNIST was not found under data_home: only the digits sweeps ran.")
    return "\n\n".join(lines)


register(Experiment(
    name="interplay-figure1",
    title="expected gradient norms of random-stopping SGD against layer lengths, depth, "
          "denoising rate, box bound and dropout, with the bounds (11) and (13) beside them",
    paper="Ithapu, Ravi & Singh, the interplay paper, Figure 1 (trends)",
    run=run_figure1,
    minutes=(1.0, 5.0),  # measured: 0.7 quick, 4.8 full with one job
))

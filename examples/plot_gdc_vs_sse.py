"""
GDC against plain SSE on a problem with a local minimum
=======================================================

Gradual deconvexification (GDC) starts training on the normalized risk-averting
error (NRAE) C_λ = (1/λ) ln((1/K) Σ exp(λ e_k)) at a large risk-sensitivity index λ,
where the criterion is convex over a larger region than the plain squared error, and
lowers λ whenever training stagnates until it trains on the plain mean squared error
(Lo, Gui & Peng). The claim: fewer runs end in a poor local minimum.

Here: fit y = sin(2πx) on 100 evenly spaced points of [−1, 1] with a 1-4-1 network of
scaled-tanh hidden units and a linear output, full-batch momentum SGD (learning rate
0.03, momentum 0.9), 5000 epochs, float64. With 4 hidden units the two periods fit to
a mean squared error (MSE) of about 2e-3; some initializations end in a local minimum
at MSE ≈ 0.42 instead. Four trainings of the same network from the same initial
weights: plain SSE (``schedule="none"``), GDC with the package's default
``lambda_init="auto"``, GDC from λ₀ = 10, and GDC from λ₀ = 10 without its second
stage (``switch_to_rae=False``).

GDC has three stages: (1) NRAE at λ, lowered by ``lambda_decay`` on stagnancy; (2)
once λ is below λ_c = (ln F_max − ln K)/e_M, where the risk-averting error
J_λ = Σ exp(λ e_k) cannot overflow, the RAE with the normalized gradient ∇J/‖∇J‖,
i.e. steps of fixed length with ``solver="sgd"``; (3) below ``lambda_min`` (λ₀/100),
the plain MSE. In float64, λ_c is in the hundreds here, so every GDC run below starts
directly in stage 2.
"""

# %%
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from skconvex import GDCRegressor

X = np.linspace(-1, 1, 100)[:, None]
y = np.sin(2 * np.pi * X[:, 0])

common = dict(
    hidden_layer_sizes=(4,), activation="lecun_tanh", output_activation="identity",
    solver="sgd", batch_size=100, learning_rate_init=0.03, momentum=0.9,
    nesterovs_momentum=False, alpha=0.0, max_iter=5000,
    tol=0.0, n_iter_no_change=10**9,  # no early stop: every run gets 5000 epochs
    dtype="float64",
)
methods = {
    "plain SSE": dict(schedule="none"),
    'GDC, λ₀ = "auto"': dict(schedule="gdc", lambda_init="auto"),
    "GDC, λ₀ = 10": dict(schedule="gdc", lambda_init=10.0),
    "GDC, λ₀ = 10, no RAE stage": dict(schedule="gdc", lambda_init=10.0, switch_to_rae=False),
}
warnings.filterwarnings("ignore", category=ConvergenceWarning)  # a fixed epoch budget

# Seed 5 is an initialization from which plain SSE gets stuck; seed 15 one from which
# it ends just above the "solved" level MSE < 0.01 of the benchmark.
seeds = (5, 15)
fits = {}
for seed in seeds:
    for name, params in methods.items():
        model = GDCRegressor(random_state=seed, **common, **params).fit(X, y)
        fits[seed, name] = model
        mse = np.mean((model.predict(X) - y) ** 2)
        stages = " → ".join(dict.fromkeys(model.stage_curve_))  # stages in order
        print(f"seed {seed:2d}  {name:28s} final training MSE {mse:.4f}  stages: {stages}")

# %%
# The fitted functions
# --------------------
# From seed 5, plain SSE, GDC with the automatic λ₀ and GDC without its RAE stage end
# in the same local minimum, nearly the straight line y ≈ −0.46x (their lines lie on
# top of each other); GDC from λ₀ = 10 with its RAE stage fits both periods.
import matplotlib.pyplot as plt

styles = {  # plain SSE wide and pale, so that the lines drawn over it stay visible
    "plain SSE": dict(color="C0", lw=4, alpha=0.5),
    'GDC, λ₀ = "auto"': dict(color="C1", lw=1.5),
    "GDC, λ₀ = 10": dict(color="C2", lw=1.5),
    "GDC, λ₀ = 10, no RAE stage": dict(color="C3", lw=1.5, ls="--"),
}
fig, axes = plt.subplots(1, 2, figsize=(9, 4), sharey=True, layout="constrained")
for ax, seed in zip(axes, seeds):
    ax.plot(X[:, 0], y, color="black", lw=3, alpha=0.3, label="target sin(2πx)")
    for (s, name), model in fits.items():
        if s == seed:
            ax.plot(X[:, 0], model.predict(X), label=name, **styles[name])
    ax.set_xlabel("x (dimensionless)")
    ax.set_title(f"random_state={seed}")
axes[0].set_ylabel("y (dimensionless)")
fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncols=5,
           fontsize="small")

# %%
# Loss and λ against the epoch
# ----------------------------
# ``training_error_curve_`` is the plain training MSE of every epoch (of the targets
# scaled to [−1, 1], here nearly the same values), ``lambda_curve_`` the λ of the
# epoch (0 once training runs on the plain criterion, None for ``schedule="none"``)
# and ``stage_curve_`` the criterion minimized ("nrae", "rae" or "mean").
fig, axes = plt.subplots(2, 2, figsize=(9, 6.5), sharex=True, layout="constrained")
for col, seed in enumerate(seeds):
    ax_err, ax_lam = axes[:, col]
    for name in methods:
        model = fits[seed, name]
        epochs = np.arange(1, model.n_iter_ + 1)
        ax_err.plot(epochs, model.training_error_curve_, label=name, **styles[name])
        if model.lambda_curve_[0] is not None:
            lam = np.array(model.lambda_curve_, dtype=float)
            lam[lam <= 0] = np.nan  # the plain stage: nothing to draw on a log axis
            ax_lam.plot(epochs, lam, label=name, **styles[name])
    ax_err.set_yscale("log")
    ax_err.set_title(f"random_state={seed}")
    ax_lam.set_yscale("log")
    ax_lam.set_xlabel("epoch (one full-batch step each)")
axes[0, 0].set_ylabel("training MSE")
axes[1, 0].set_ylabel("λ (risk-sensitivity index)")
fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="outside lower center", ncols=4,
           fontsize="small", title="λ's line ends where a run starts its plain stage",
           title_fontsize="small")

# %%
# The stages of one GDC run, with :func:`skconvex.plotting.plot_training_history`:
# the criterion minimized (here C_λ, whose direction the RAE stage follows with steps
# of fixed length), the plain mean error, and λ, stages shaded. The RAE stage's fixed
# step length is why its error zigzags instead of settling.
from skconvex.plotting import plot_training_history

fig = plot_training_history(fits[5, "GDC, λ₀ = 10"])

# %%
# What happened
# -------------
# (CPU, one thread; the numbers printed above when this page was built.)
#
# * Seed 5: plain SSE ends at MSE 0.42, the local minimum. So do GDC from the
#   automatic λ₀ (≈ 0.47 here: its RAE stage lasts about 600 epochs, then λ drops
#   below ``lambda_min`` and the plain stage takes the same path as plain SSE) and
#   GDC from λ₀ = 10 *without* the RAE stage (NRAE for about 500 epochs, then plain).
#   GDC from λ₀ = 10 with its RAE stage ends at MSE 0.009, still in that stage after
#   5000 epochs. On this seed, what moved the run out of the local minimum is the RAE
#   stage's normalized gradient (steps of fixed length): NRAE from the same λ₀
#   without that stage did not.
# * Seed 15: plain SSE ends at MSE 0.011, slowly improving; the three GDC runs at
#   0.003–0.004.
#
# Two seeds are anecdotes. Over 20 seeds of this problem (the consistency benchmark,
# ``benchmarks/bench_consistency.py``, same settings) plain SSE solved 18/20
# (MSE < 0.01), GDC "auto" 19/20 and GDC λ₀ = 10 20/20 — differences within binomial
# noise — while the paper's λ₀ = 1e4 solved 1/20: at a very large λ, NRAE is the
# largest error alone and training stalls. On 3-bit parity plain SSE solved 20/20.
# GDC from a moderate λ₀ helped on this problem; it is no guarantee against local
# minima.

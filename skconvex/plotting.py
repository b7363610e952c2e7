"""Figures of fitted skconvex estimators (matplotlib, imported only when called)."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["plot_training_history"]

_STAGE_COLORS = {"nrae": "#fde0dd", "rae": "#e0ecf4", "mean": "#f7f7f7", "adaptive": "#e5f5e0"}
_STAGE_NAMES = {
    "nrae": "stage 1: NRAE",
    "rae": "stage 2: RAE, normalized gradient",
    "mean": "plain criterion",
    "adaptive": "ANRAT (λ learned)",
}


def plot_training_history(estimator: Any, axes=None):
    """Loss, plain training error and λ against the epoch, stages shaded.

    Parameters
    ----------
    estimator : fitted GDCClassifier or GDCRegressor
        Anything with ``loss_curve_``, ``training_error_curve_``, ``lambda_curve_`` and
        ``stage_curve_``.
    axes : sequence of two matplotlib Axes, optional
        Where to draw (errors, λ); a new figure with two rows is made otherwise.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_iris
    >>> from skconvex import GDCClassifier
    >>> from skconvex.plotting import plot_training_history
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = GDCClassifier(hidden_layer_sizes=(8,), max_iter=30, random_state=0).fit(X, y)
    >>> fig = plot_training_history(clf)
    >>> [ax.get_ylabel() for ax in fig.axes]
    ['error (training set)', 'λ (risk-sensitivity index)']
    """
    import matplotlib.pyplot as plt

    if axes is None:
        fig, axes = plt.subplots(2, 1, figsize=(7, 5.5), sharex=True, constrained_layout=True)
    else:
        fig = axes[0].figure
    ax_err, ax_lam = axes
    epochs = np.arange(1, len(estimator.loss_curve_) + 1)
    stages = list(estimator.stage_curve_)

    for ax in (ax_err, ax_lam):
        seen = set()
        start = 0
        for i in range(1, len(stages) + 1):
            if i == len(stages) or stages[i] != stages[start]:
                stage = stages[start]
                label = _STAGE_NAMES.get(stage, stage) if stage not in seen and ax is ax_err else None
                seen.add(stage)
                ax.axvspan(start + 0.5, i + 0.5, color=_STAGE_COLORS.get(stage, "#eeeeee"),
                           label=label, zorder=0)
                start = i

    ax_err.plot(epochs, estimator.loss_curve_, color="C3", label="criterion minimized")
    ax_err.plot(epochs, estimator.training_error_curve_, color="C0", label="plain mean error")
    if getattr(estimator, "validation_scores_", None):
        twin = ax_err.twinx()
        twin.plot(epochs, estimator.validation_scores_, color="C2", label="validation score")
        twin.set_ylabel("validation score")
    ax_err.set_yscale("log")
    ax_err.set_ylabel("error (training set)")
    ax_err.legend(loc="upper right", fontsize="small")

    lam = np.array([np.nan if v is None else v for v in estimator.lambda_curve_], dtype=float)
    lam[lam <= 0] = np.nan  # λ = 0 marks the plain stage: nothing to draw on a log axis
    ax_lam.plot(epochs, lam, color="C1")
    if np.isfinite(lam).any():
        ax_lam.set_yscale("log")
    ax_lam.set_ylabel("λ (risk-sensitivity index)")
    ax_lam.set_xlabel("epoch")
    ax_err.set_title(f"{type(estimator).__name__}: training history")
    return fig

"""Figures of fitted skconvex estimators (matplotlib, imported only when called)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = [
    "plot_cpna_history",
    "plot_cpna_path",
    "plot_pruning_path",
    "plot_sparsity_accuracy",
    "plot_training_history",
]

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


def plot_pruning_path(pruner: Any, ax=None):
    """Sparsity and validation score against the critical value z_c.

    One point per pruning step of a fitted :class:`~skconvex.GradualStatisticalPruning`
    (or :class:`~skconvex.StatisticalPruning`): the share of pruned connections of the
    retrained candidate (left axis) and its validation score (right axis), accepted
    steps filled, rejected ones hollow; the unpruned network's score is a dashed line
    and the kept network's z_c a vertical line.

    Parameters
    ----------
    pruner : fitted GradualStatisticalPruning or StatisticalPruning
        Anything with ``pruning_path_`` (and optionally ``best_z_`` and
        ``initial_validation_score_``).
    ax : matplotlib Axes, optional
        Where to draw the sparsity; the score goes on a twin axis.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.preprocessing import minmax_scale
    >>> from skconvex import GDCClassifier, GradualStatisticalPruning
    >>> from skconvex.plotting import plot_pruning_path
    >>> X, y = load_iris(return_X_y=True)
    >>> net = GDCClassifier(hidden_layer_sizes=(8,), max_iter=50, random_state=0)
    >>> gsp = GradualStatisticalPruning(net, z_start=1, z_max=3, z_step=1, retrain_epochs=1,
    ...                                 variance="gauss_newton", random_state=0)
    >>> fig = plot_pruning_path(gsp.fit(minmax_scale(X, (-1, 1)), y))
    >>> [a.get_ylabel() for a in fig.axes]
    ['pruned connections (%)', 'validation score']
    """
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 4), constrained_layout=True)
    else:
        fig = ax.figure
    path = pruner.pruning_path_
    z = np.asarray(path["z_crit"], dtype=float)
    accepted = np.asarray(path["accepted"], dtype=bool)
    sparsity = 100 * np.asarray(path["sparsity"], dtype=float)
    score = np.asarray(path["validation_score"], dtype=float)

    ax.plot(z, sparsity, color="C0", lw=1, label="pruned (candidate)")
    ax.scatter(z[accepted], sparsity[accepted], color="C0", zorder=3, label="accepted step")
    ax.scatter(z[~accepted], sparsity[~accepted], facecolors="none", edgecolors="C0", zorder=3,
               label="rejected step")
    ax.set_xlabel("critical value z_c")
    ax.set_ylabel("pruned connections (%)")
    ax.set_ylim(-2, 102)

    twin = ax.twinx()
    twin.plot(z, score, color="C3", marker=".", label="validation score (candidate)")
    initial = getattr(pruner, "initial_validation_score_", None)
    if initial is not None:
        twin.axhline(initial, color="C3", ls="--", lw=1, label="unpruned network")
    twin.set_ylabel("validation score")
    best = getattr(pruner, "best_z_", None)
    if best is not None:
        ax.axvline(best, color="0.4", ls=":", label=f"kept: z_c = {best:g}")
    handles = ax.get_legend_handles_labels()
    twin_handles = twin.get_legend_handles_labels()
    ax.legend(handles[0] + twin_handles[0], handles[1] + twin_handles[1], loc="best",
              fontsize="small")
    ax.set_title(f"{type(pruner).__name__}: pruning path")
    return fig


_CPNA_STAGE_COLORS = {"dense": "#f0f0f0", "prune": "#fde0dd", "sparse": "#e5f5e0"}
_CPNA_STAGE_NAMES = {
    "dense": "dense training",
    "prune": "annealing (M_e above target)",
    "sparse": "sparse training",
}


def plot_cpna_history(estimator: Any, axes=None):
    """Kept connections, ROC AUC and loss of a CPNA fit against the iteration.

    The three panels of the paper's Figure 8 (Guo & Barbu): the connections each
    layer keeps (log scale, one line per layer, M_e while a layer is annealed), the
    training and validation ROC AUC, and the training and validation cross-entropy.
    The stages of ``stage_curve_`` are shaded ("dense" pretraining, "prune", "sparse")
    and a dotted line marks the start of each pruning stage, labelled with the layers
    it prunes.

    Parameters
    ----------
    estimator : fitted CPNAClassifier
        Anything with ``connection_curve_``, ``stage_curve_``, ``loss_curve_``,
        ``training_auc_curve_``, ``validation_auc_curve_`` and
        ``validation_loss_curve_`` (the last two None without validation data: then
        only the training curves are drawn).
    axes : sequence of three matplotlib Axes, optional
        Where to draw (connections, AUC, loss); a new figure with three rows sharing
        the x-axis is made otherwise.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If the estimator has no ``connection_curve_``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skconvex import CPNAClassifier
    >>> from skconvex.datasets import make_xor
    >>> from skconvex.plotting import plot_cpna_history
    >>> X, y = make_xor(400, n_features=6, n_informative=2, random_state=0)
    >>> X2, y2 = make_xor(400, n_features=6, n_informative=2, random_state=1)
    >>> clf = CPNAClassifier(
    ...     hidden_layer_sizes=(32,), n_connections={"hidden": 8, "input": 8},
    ...     pretrain_iter=10, prune_iter=10, batch_size=100, random_state=0,
    ... ).fit(X, y, X_val=X2, y_val=y2)
    >>> fig = plot_cpna_history(clf)
    >>> [ax.get_ylabel() for ax in fig.axes]
    ['kept connections', 'ROC AUC', 'cross-entropy']
    >>> [line.get_label() for line in fig.axes[0].lines[:2]]
    ['input', 'hidden']
    """
    import matplotlib.pyplot as plt
    from matplotlib.transforms import blended_transform_factory
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(estimator, "connection_curve_")
    if axes is None:
        fig, axes = plt.subplots(3, 1, figsize=(7, 8), sharex=True, constrained_layout=True)
    else:
        fig = axes[0].figure
    ax_conn, ax_auc, ax_loss = axes
    curves = {name: list(curve) for name, curve in estimator.connection_curve_.items()}
    stages = list(estimator.stage_curve_)
    n_iter = len(stages)

    def draw(ax, values, **kwargs):
        values = np.asarray(values, dtype=float)
        return ax.plot(np.arange(1, len(values) + 1), values, **kwargs)[0]

    # The curves first, so that ``ax.lines`` starts with them.
    for i, (name, curve) in enumerate(curves.items()):
        draw(ax_conn, curve, color=f"C{i}", label=name)
    ax_conn.set_yscale("log")
    ax_conn.set_ylabel("kept connections")

    draw(ax_auc, estimator.training_auc_curve_, color="C0", label="training")
    validation_auc = getattr(estimator, "validation_auc_curve_", None)
    if validation_auc is not None:
        draw(ax_auc, validation_auc, color="C3", label="validation")
    ax_auc.set_ylabel("ROC AUC")

    training_loss = getattr(estimator, "training_loss_curve_", None)
    draw(ax_loss, estimator.loss_curve_ if training_loss is None else training_loss,
         color="C0", label="training")
    validation_loss = getattr(estimator, "validation_loss_curve_", None)
    if validation_loss is not None:
        draw(ax_loss, validation_loss, color="C3", label="validation")
    ax_loss.set_ylabel("cross-entropy")
    ax_loss.set_xlabel("iteration (epoch)")

    # Stages: shaded spans of stage_curve_, labelled once in the top panel's legend.
    spans = []
    start = 0
    for i in range(1, n_iter + 1):
        if i == n_iter or stages[i] != stages[start]:
            spans.append((stages[start], start, i))
            start = i
    for ax in axes:
        seen = set()
        for stage, lo, hi in spans:
            label = None
            if ax is ax_conn and stage not in seen:
                label = _CPNA_STAGE_NAMES.get(stage, stage)
            seen.add(stage)
            ax.axvspan(lo + 0.5, hi + 0.5, color=_CPNA_STAGE_COLORS.get(stage, "#eeeeee"),
                       label=label, zorder=0, lw=0)

    # Start of each pruning stage, a dotted line labelled with the layers it anneals.
    stages_info = getattr(estimator, "pruning_stages_", None) or []
    starts = [int(info["first_iteration"]) for info in stages_info]
    layer_groups = [list(info["layers"]) for info in stages_info]
    transform = blended_transform_factory(ax_conn.transData, ax_conn.transAxes)
    for lo, group in zip(starts, layer_groups):
        for ax in axes:
            ax.axvline(lo + 0.5, color="0.3", ls=":", lw=1, zorder=1)
        ax_conn.text(lo + 1, 0.04, "prune " + " + ".join(group), transform=transform,
                     fontsize="small", va="bottom", ha="left", color="0.2")

    ax_conn.legend(loc="upper right", fontsize="small")
    ax_auc.legend(loc="lower right", fontsize="small")
    ax_loss.legend(loc="upper right", fontsize="small")
    if n_iter:
        for ax in axes:
            ax.set_xlim(0.5, n_iter + 0.5)
    ax_conn.set_title(f"{type(estimator).__name__}: pruning history")
    return fig


def plot_cpna_path(estimator: Any, ax=None):
    """Validation and training accuracy along the feature path of ``n_connections="auto"``.

    One point per point of ``pruning_path_`` (the dense network, then each feature
    budget), against the number of features kept (log scale, dense on the left); the
    network returned is marked by a vertical line.

    Parameters
    ----------
    estimator : fitted CPNAClassifier
        Fitted with ``n_connections="auto"`` (anything with ``pruning_path_``).
    ax : matplotlib Axes, optional
        Where to draw; a new figure otherwise.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If the estimator has no path (``pruning_path_`` is None: a dict of
        ``n_connections``).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from types import SimpleNamespace
    >>> import numpy as np
    >>> from skconvex.plotting import plot_cpna_path
    >>> path = {"n_features": np.array([32, 16, 8, 4, 2, 1]),
    ...         "validation_score": np.array([0.77, 0.89, 0.92, 0.97, 0.96, 0.57]),
    ...         "training_score": np.array([1.0, 1.0, 0.99, 0.97, 0.96, 0.55]),
    ...         "selected": np.array([False, False, False, False, True, False])}
    >>> fig = plot_cpna_path(SimpleNamespace(pruning_path_=path))
    >>> [line.get_label() for line in fig.axes[0].lines]
    ['validation accuracy', 'training accuracy', 'returned: 2 features']
    """
    import matplotlib.pyplot as plt

    path = getattr(estimator, "pruning_path_", None)
    if path is None:
        raise ValueError(
            "No feature path to plot: fit CPNAClassifier with n_connections='auto' "
            "(the default); pruning_path_ is None for a dict of n_connections."
        )
    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 4), constrained_layout=True)
    else:
        fig = ax.figure
    features = np.asarray(path["n_features"], dtype=float)
    ax.plot(features, path["validation_score"], color="C3", marker="o", label="validation accuracy")
    ax.plot(features, path["training_score"], color="C0", marker=".", ls="--", label="training accuracy")
    selected = np.flatnonzero(np.asarray(path["selected"], dtype=bool))
    for i in selected:
        ax.axvline(features[i], color="0.3", ls=":", label=f"returned: {int(features[i])} features")
    ax.set_xscale("log", base=2)
    ax.invert_xaxis()  # dense → sparse, the order the path is walked
    ax.set_xlabel("features kept")
    ax.set_ylabel("accuracy")
    ax.legend(loc="best", fontsize="small")
    ax.set_title(f"{type(estimator).__name__}: feature path (n_connections='auto')")
    return fig


def _as_floats(label: Any, values: Any) -> np.ndarray:
    try:
        return np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{label!r}: cannot read the points as numbers ({exc}).") from exc


def _sparsity_score_arrays(label: Any, entry: Any) -> tuple[np.ndarray, np.ndarray]:
    """The (sparsity, score) arrays of one entry of ``plot_sparsity_accuracy``'s results."""
    if isinstance(entry, Mapping):
        for key in ("sparsity", "score"):
            if key not in entry:
                raise ValueError(f"{label!r}: the mapping has no key {key!r}.")
        sparsity = np.atleast_1d(_as_floats(label, entry["sparsity"]))
        score = np.atleast_1d(_as_floats(label, entry["score"]))
        if sparsity.ndim != 1 or score.ndim != 1:
            raise ValueError(f"{label!r}: 'sparsity' and 'score' must be one-dimensional.")
    else:
        pairs = _as_floats(label, entry)
        if pairs.size == 0:
            raise ValueError(f"{label!r}: no points.")
        if pairs.ndim != 2 or pairs.shape[1] != 2:
            raise ValueError(
                f"{label!r}: expected a mapping with keys 'sparsity' and 'score' or a "
                f"sequence of (sparsity, score) pairs, got an array of shape {pairs.shape}."
            )
        sparsity, score = pairs[:, 0], pairs[:, 1]
    if len(sparsity) != len(score):
        raise ValueError(
            f"{label!r}: {len(sparsity)} sparsity values but {len(score)} scores; "
            "they must have equal lengths."
        )
    if len(sparsity) == 0:
        raise ValueError(f"{label!r}: no points.")
    if not np.all((sparsity >= 0) & (sparsity <= 1)):  # also rejects NaN
        raise ValueError(
            f"{label!r}: sparsity must lie in [0, 1] (a share of zero weights), "
            f"got {sparsity.tolist()}."
        )
    if not np.all(np.isfinite(score)):
        raise ValueError(f"{label!r}: scores must be finite, got {score.tolist()}.")
    return sparsity, score


def plot_sparsity_accuracy(
    results: Any, *, ax=None, baseline=None, score_label="test accuracy", percent=True
):
    """Score against sparsity of sparse networks, one line per method or penalty.

    Every entry of ``results`` is a sweep (e.g. RVSM over a grid of λ for one
    penalty): its points are drawn as one line with markers, sorted by sparsity.
    A dense network's score can be drawn as a dashed horizontal line.

    Parameters
    ----------
    results : mapping of str to mapping or sequence of pairs
        Label (the legend text, e.g. ``"RVSM ℓ1"``) to the sweep's points, either a
        mapping with keys ``"sparsity"`` and ``"score"`` (array-likes of equal
        length) or a sequence of ``(sparsity, score)`` pairs. Sparsity is the share
        of zero weights, in [0, 1]; the score e.g. a test accuracy. Lines are drawn
        in the order of ``results``.
    ax : matplotlib Axes, optional
        Where to draw; a new figure is made otherwise.
    baseline : float, optional
        The score of the dense network: a dashed horizontal line labelled
        "dense network".
    score_label : str, default="test accuracy"
        The y-axis label (" (%)" is appended when ``percent``).
    percent : bool, default=True
        Draw sparsity and score (and ``baseline``) multiplied by 100, in %; False
        draws them as given (fractions).

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    TypeError
        If ``results`` is not a mapping.
    ValueError
        If ``results`` is empty, or, naming the label, if an entry cannot be read,
        its lengths differ, it has no points, a sparsity lies outside [0, 1] or a
        score is not finite.

    Notes
    -----
    From fitted :class:`~skconvex.RVSMClassifier` (or :class:`~skconvex.RVSMRegressor`)
    estimators of one penalty, ``fits``, with held-out data ``X_test, y_test``::

        results = {"RVSM ℓ0": {"sparsity": [est.sparsity_ for est in fits],
                               "score": [est.score(X_test, y_test) for est in fits]}}

    ``sparsity_`` is the share of zeros in the sparse copy u over all split weights
    (biases are not split); with ``use_sparse_weights=True`` (the default) ``score``
    evaluates that sparse network.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skconvex.plotting import plot_sparsity_accuracy
    >>> results = {
    ...     "RVSM ℓ1": {"sparsity": [0.5, 0.25, 0.75], "score": [0.97, 0.97, 0.93]},
    ...     "RVSM ℓ0": [(0.22, 0.98), (0.62, 0.97), (0.9, 0.92)],
    ... }
    >>> fig = plot_sparsity_accuracy(results, baseline=0.976)
    >>> ax = fig.axes[0]
    >>> ax.get_xlabel(), ax.get_ylabel()
    ('share of zero weights (%)', 'test accuracy (%)')
    >>> ax.lines[0].get_xdata().tolist()
    [25.0, 50.0, 75.0]
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['RVSM ℓ1', 'RVSM ℓ0', 'dense network']
    """
    import matplotlib.pyplot as plt

    if not isinstance(results, Mapping):
        raise TypeError(
            f"results must be a mapping of label to points, got {type(results).__name__}."
        )
    if not results:
        raise ValueError("results is empty: nothing to plot.")
    curves = {label: _sparsity_score_arrays(label, entry) for label, entry in results.items()}
    if baseline is not None:
        baseline = float(baseline)
        if not np.isfinite(baseline):
            raise ValueError(f"baseline must be a finite score, got {baseline!r}.")

    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 4.5), constrained_layout=True)
    else:
        fig = ax.figure
    scale = 100.0 if percent else 1.0
    for label, (sparsity, score) in curves.items():
        order = np.argsort(sparsity, kind="stable")
        ax.plot(scale * sparsity[order], scale * score[order], marker="o", label=str(label))
    if baseline is not None:
        ax.axhline(scale * baseline, color="0.3", ls="--", lw=1, label="dense network")
    ax.set_xlabel("share of zero weights (%)" if percent else "share of zero weights")
    ax.set_ylabel(f"{score_label} (%)" if percent else score_label)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="best", fontsize="small")
    return fig

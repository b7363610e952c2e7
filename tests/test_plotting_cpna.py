"""plot_cpna_history: the drawn lines are the fitted curves (Agg backend)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402

from skconvex import CPNAClassifier  # noqa: E402
from skconvex.datasets import make_xor  # noqa: E402
from skconvex.plotting import plot_cpna_history  # noqa: E402

KW = dict(
    hidden_layer_sizes=(16,), n_connections={"hidden": 4, "input": 6},
    pretrain_iter=3, prune_iter=4, annealing_rate=1.0, batch_size=100, random_state=0,
)


@pytest.fixture(scope="module")
def data():
    X, y = make_xor(200, n_features=5, n_informative=2, random_state=0)
    X_val, y_val = make_xor(100, n_features=5, n_informative=2, random_state=1)
    return X, y, X_val, y_val


@pytest.fixture(scope="module")
def validated(data):
    X, y, X_val, y_val = data
    return CPNAClassifier(**KW).fit(X, y, X_val=X_val, y_val=y_val)


@pytest.fixture(scope="module")
def unvalidated(data):
    X, y, _, _ = data
    return CPNAClassifier(**KW).fit(X, y)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _curve_lines(ax):
    """The data lines of an axis (stage boundaries are unlabelled vertical lines)."""
    return [line for line in ax.lines if not line.get_label().startswith("_")]


def test_lines_are_the_curves(validated):
    clf = validated
    fig = plot_cpna_history(clf)
    ax_conn, ax_auc, ax_loss = fig.axes
    n = clf.n_iter_
    assert n == KW["pretrain_iter"] + 2 * KW["prune_iter"]

    lines = _curve_lines(ax_conn)
    assert [line.get_label() for line in lines] == list(clf.connection_curve_)
    assert [line.get_label() for line in lines] == ["input", "hidden"]
    for line, curve in zip(lines, clf.connection_curve_.values()):
        np.testing.assert_array_equal(line.get_xdata(), np.arange(1, n + 1))
        np.testing.assert_array_equal(line.get_ydata(), curve)
    assert ax_conn.get_yscale() == "log"

    auc = _curve_lines(ax_auc)
    assert [line.get_label() for line in auc] == ["training", "validation"]
    np.testing.assert_allclose(auc[0].get_ydata(), clf.training_auc_curve_)
    np.testing.assert_allclose(auc[1].get_ydata(), clf.validation_auc_curve_)

    loss = _curve_lines(ax_loss)
    assert [line.get_label() for line in loss] == ["training", "validation"]
    np.testing.assert_allclose(loss[0].get_ydata(), clf.training_loss_curve_)
    np.testing.assert_allclose(loss[1].get_ydata(), clf.validation_loss_curve_)

    # the curves come first in ax.lines
    np.testing.assert_allclose(ax_auc.lines[0].get_ydata(), clf.training_auc_curve_)
    np.testing.assert_allclose(ax_loss.lines[1].get_ydata(), clf.validation_loss_curve_)


def test_labels_shared_x_and_stage_marks(validated):
    fig = plot_cpna_history(validated)
    ax_conn, ax_auc, ax_loss = fig.axes
    assert [ax.get_ylabel() for ax in fig.axes] == ["kept connections", "ROC AUC", "cross-entropy"]
    assert ax_loss.get_xlabel() == "iteration (epoch)"
    assert ax_conn.get_shared_x_axes().joined(ax_conn, ax_loss)
    # one shaded span per run of stage_curve_ in every panel; the stage names in the legend
    legend = [t.get_text() for t in ax_conn.get_legend().get_texts()]
    assert legend == ["input", "hidden", "dense training", "annealing (M_e above target)", "sparse training"]
    runs = 1 + sum(a != b for a, b in zip(validated.stage_curve_, validated.stage_curve_[1:]))
    for ax in fig.axes:
        assert len(ax.patches) == runs  # dense, then prune/sparse for each stage
    # a dotted line at the start of each pruning stage, labelled with its layers
    texts = [t.get_text() for t in ax_conn.texts]
    assert texts == ["prune hidden", "prune input"]
    starts = [line.get_xdata()[0] for line in ax_conn.lines[2:]]
    p, n = KW["pretrain_iter"], KW["prune_iter"]
    assert starts == [p + 0.5, p + n + 0.5]


def test_without_validation_only_training_curves(unvalidated):
    clf = unvalidated
    assert clf.validation_auc_curve_ is None and clf.validation_loss_curve_ is None
    fig = plot_cpna_history(clf)
    _, ax_auc, ax_loss = fig.axes
    auc = _curve_lines(ax_auc)
    assert [line.get_label() for line in auc] == ["training"]
    np.testing.assert_allclose(auc[0].get_ydata(), clf.training_auc_curve_)
    assert [line.get_label() for line in _curve_lines(ax_loss)] == ["training"]


def test_own_axes(validated):
    fig, axes = plt.subplots(1, 3, figsize=(12, 3))
    returned = plot_cpna_history(validated, axes=axes)
    assert returned is fig
    assert len(fig.axes) == 3
    assert [ax.get_ylabel() for ax in axes] == ["kept connections", "ROC AUC", "cross-entropy"]
    np.testing.assert_array_equal(
        _curve_lines(axes[0])[1].get_ydata(), validated.connection_curve_["hidden"]
    )


def test_unfitted_raises():
    with pytest.raises(NotFittedError):
        plot_cpna_history(CPNAClassifier())


def test_single_stage_and_dense_baseline(data):
    X, y, _, _ = data
    hidden_only = CPNAClassifier(**{**KW, "prune_layers": "hidden"}).fit(X, y)
    fig = plot_cpna_history(hidden_only)
    assert [t.get_text() for t in fig.axes[0].texts] == ["prune hidden"]
    dense = CPNAClassifier(**{**KW, "n_connections": {}}).fit(X, y)
    fig = plot_cpna_history(dense)
    assert len(fig.axes[0].texts) == 0
    assert len(fig.axes[0].patches) == 1  # "dense" only
    np.testing.assert_array_equal(
        _curve_lines(fig.axes[0])[0].get_ydata(), dense.connection_curve_["input"]
    )


def test_plot_cpna_path_draws_the_recorded_path():
    from types import SimpleNamespace

    from skconvex.plotting import plot_cpna_path

    path = {"n_features": np.array([20, 10, 5, 2, 1]),
            "validation_score": np.array([0.8, 0.9, 0.95, 0.94, 0.5]),
            "training_score": np.array([1.0, 1.0, 0.97, 0.95, 0.52]),
            "selected": np.array([False, False, False, True, False])}
    fig = plot_cpna_path(SimpleNamespace(pruning_path_=path))
    ax = fig.axes[0]
    validation, training, marker = ax.lines
    np.testing.assert_array_equal(validation.get_xdata(), path["n_features"])
    np.testing.assert_array_equal(validation.get_ydata(), path["validation_score"])
    np.testing.assert_array_equal(training.get_ydata(), path["training_score"])
    assert marker.get_xdata()[0] == 2 and ax.get_xscale() == "log" and ax.xaxis_inverted()
    plt.close(fig)
    with pytest.raises(ValueError, match="n_connections='auto'"):
        plot_cpna_path(SimpleNamespace(pruning_path_=None))

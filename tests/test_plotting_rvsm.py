"""plot_sparsity_accuracy: the drawn lines are the given sweeps (Agg backend)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from skconvex.plotting import plot_sparsity_accuracy  # noqa: E402

RESULTS = {
    "RVSM ℓ1": {"sparsity": [0.5, 0.1, 0.9], "score": [0.95, 0.97, 0.80]},
    "RVSM ℓ0": [(0.6, 0.96), (0.2, 0.975), (0.95, 0.7), (0.4, 0.97)],
}


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _data_lines(ax):
    return [line for line in ax.lines if line.get_label() != "dense network"]


def test_lines_are_the_sorted_points_in_percent():
    fig = plot_sparsity_accuracy(RESULTS)
    (ax,) = fig.axes
    l1, l0 = ax.lines
    np.testing.assert_allclose(l1.get_xdata(), [10, 50, 90])
    np.testing.assert_allclose(l1.get_ydata(), [97, 95, 80])
    np.testing.assert_allclose(l0.get_xdata(), [20, 40, 60, 95])
    np.testing.assert_allclose(l0.get_ydata(), [97.5, 97, 96, 70])
    assert [line.get_label() for line in ax.lines] == ["RVSM ℓ1", "RVSM ℓ0"]
    assert all(line.get_marker() not in (None, "None", "") for line in ax.lines)
    assert l1.get_color() != l0.get_color()
    assert ax.get_xlabel() == "share of zero weights (%)"
    assert ax.get_ylabel() == "test accuracy (%)"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["RVSM ℓ1", "RVSM ℓ0"]
    assert any(gridline.get_visible() for gridline in ax.get_xgridlines())


def test_fractions_and_score_label():
    fig = plot_sparsity_accuracy(RESULTS, percent=False, score_label="R²")
    ax = fig.axes[0]
    np.testing.assert_allclose(ax.lines[0].get_xdata(), [0.1, 0.5, 0.9])
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [0.97, 0.95, 0.80])
    assert ax.get_xlabel() == "share of zero weights"
    assert ax.get_ylabel() == "R²"


@pytest.mark.parametrize("percent, y", [(True, 97.6), (False, 0.976)])
def test_baseline_is_a_dashed_horizontal_line(percent, y):
    fig = plot_sparsity_accuracy(RESULTS, baseline=0.976, percent=percent)
    ax = fig.axes[0]
    assert len(ax.lines) == 3
    base = ax.lines[-1]
    assert base.get_label() == "dense network"
    assert base.get_linestyle() == "--"
    np.testing.assert_allclose(base.get_ydata(), [y, y])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "RVSM ℓ1", "RVSM ℓ0", "dense network",
    ]
    # the data lines are unchanged by the baseline
    scale = 100 if percent else 1
    np.testing.assert_allclose(_data_lines(ax)[0].get_xdata(), [scale * v for v in (0.1, 0.5, 0.9)])


def test_both_input_forms_draw_the_same_line():
    points = [(0.3, 0.9), (0.1, 0.95), (0.7, 0.6)]
    as_mapping = {"sparsity": [p[0] for p in points], "score": np.array([p[1] for p in points])}
    ax_pairs = plot_sparsity_accuracy({"a": points}).axes[0]
    ax_map = plot_sparsity_accuracy({"a": as_mapping}).axes[0]
    np.testing.assert_array_equal(ax_pairs.lines[0].get_xydata(), ax_map.lines[0].get_xydata())
    # tuples of pairs and a single-point mapping of scalars
    ax = plot_sparsity_accuracy({"t": ((0.5, 0.9),), "s": {"sparsity": 0.2, "score": 0.8}}).axes[0]
    np.testing.assert_allclose(ax.lines[0].get_xydata(), [[50, 90]])
    np.testing.assert_allclose(ax.lines[1].get_xydata(), [[20, 80]])


def test_draws_into_given_axes():
    fig, (left, right) = plt.subplots(1, 2)
    returned = plot_sparsity_accuracy(RESULTS, ax=right, baseline=0.9)
    assert returned is fig
    assert len(left.lines) == 0 and len(right.lines) == 3
    assert right.get_ylabel() == "test accuracy (%)"


@pytest.mark.parametrize(
    "results, match",
    [
        ({"bad": {"sparsity": [0.1, 0.2], "score": [0.9]}}, r"'bad'.*equal lengths"),
        ({"bad": {"sparsity": [0.1, 1.2], "score": [0.9, 0.8]}}, r"'bad'.*\[0, 1\]"),
        ({"bad": [(-0.1, 0.9)]}, r"'bad'.*\[0, 1\]"),
        ({"bad": [(np.nan, 0.9)]}, r"'bad'.*\[0, 1\]"),
        ({"bad": {"sparsity": [0.1], "score": [np.inf]}}, r"'bad'.*finite"),
        ({"bad": {"sparsity": [0.1]}}, r"'bad'.*'score'"),
        ({"bad": {"score": [0.1]}}, r"'bad'.*'sparsity'"),
        ({"bad": [(0.1, 0.9, 0.3)]}, r"'bad'.*pairs"),
        ({"bad": [0.1, 0.9]}, r"'bad'.*pairs"),
        ({"bad": []}, r"'bad'.*no points"),
        ({"bad": {"sparsity": [], "score": []}}, r"'bad'.*no points"),
        ({"bad": [("x", 0.9)]}, r"'bad'.*numbers"),
        ({"ok": [(0.1, 0.9)], "bad": {"sparsity": [[0.1]], "score": [[0.9]]}}, r"'bad'.*one-dim"),
        ({}, "empty"),
    ],
)
def test_invalid_results_name_the_label(results, match):
    with pytest.raises(ValueError, match=match):
        plot_sparsity_accuracy(results)
    assert not plt.get_fignums()  # nothing drawn before the error


def test_invalid_results_type_and_baseline():
    with pytest.raises(TypeError, match="mapping"):
        plot_sparsity_accuracy([(0.1, 0.9)])
    with pytest.raises(ValueError, match="baseline"):
        plot_sparsity_accuracy(RESULTS, baseline=float("nan"))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_recipe_from_fitted_rvsm_estimators():
    from sklearn.datasets import load_digits

    from skconvex import RVSMClassifier

    X, y = load_digits(return_X_y=True)
    X = X[:300] / 16
    y = y[:300]
    X_train, y_train, X_test, y_test = X[:200], y[:200], X[200:], y[200:]
    fits = [
        RVSMClassifier(hidden_layer_sizes=(8,), penalty="l0", lam=lam, max_iter=3,
                       random_state=0).fit(X_train, y_train)
        for lam in (1e-6, 1e-4)
    ]
    results = {"RVSM ℓ0": {"sparsity": [est.sparsity_ for est in fits],
                           "score": [est.score(X_test, y_test) for est in fits]}}
    ax = plot_sparsity_accuracy(results).axes[0]
    expected = sorted((100 * est.sparsity_, 100 * est.score(X_test, y_test)) for est in fits)
    np.testing.assert_allclose(ax.lines[0].get_xydata(), expected)
    assert fits[0].sparsity_ < fits[1].sparsity_

"""Tests of GDCClassifier and GDCRegressor as scikit-learn estimators.

Tiny data (30-60 samples), small networks and few epochs keep every test well under a
second or two; every fit is seeded.
"""

from __future__ import annotations

import math
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import make_blobs, make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.validation import check_is_fitted
from torch import nn

from skconvex import PAPER_RECIPE, GDCClassifier, GDCRegressor

# Most fits here stop at max_iter on purpose; tests that check warnings use
# pytest.warns, which records warnings regardless of this filter.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

SCHEDULES = ["gdc", "constant", "adaptive", "none"]
CRITERIA = ["sse", "cross_entropy", "true_class_squared"]
SMALL = dict(hidden_layer_sizes=(8,), max_iter=5, random_state=0)


@pytest.fixture(scope="module")
def clf_data():
    X, y = make_classification(
        n_samples=40, n_features=4, n_informative=3, n_redundant=0, n_classes=3,
        random_state=0,
    )
    return X, y


@pytest.fixture(scope="module")
def blobs():
    X, y = make_blobs(n_samples=60, n_features=4, centers=3, cluster_std=1.0, random_state=1)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def reg_data():
    X, y = make_regression(n_samples=30, n_features=3, noise=1.0, random_state=0)
    return X, y


# ------------------------------------------------------------- fitted attributes


@pytest.mark.parametrize("criterion", CRITERIA)
@pytest.mark.parametrize("schedule", SCHEDULES)
def test_fitted_attributes(clf_data, schedule, criterion):
    X, y = clf_data
    clf = GDCClassifier(schedule=schedule, criterion=criterion, **SMALL).fit(X, y)
    n = clf.n_iter_
    assert n == 5 and clf.stop_reason_ == "max_iter"
    for name in ("loss_curve_", "training_error_curve_", "lambda_curve_", "stage_curve_"):
        assert len(getattr(clf, name)) == n, name
    assert all(math.isfinite(v) for v in clf.loss_curve_ + clf.training_error_curve_)
    assert clf.validation_scores_ is None and clf.best_validation_score_ is None
    assert clf.best_loss_ == min(clf.training_error_curve_)
    assert clf.n_features_in_ == 4 and clf.n_outputs_ == 3
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
    assert clf.stage_ == clf.stage_curve_[-1] or schedule == "gdc"
    if schedule == "none":
        assert clf.lambda_ is None and clf.lambda_curve_ == [None] * n
        assert clf.stage_curve_ == ["mean"] * n and clf.stage_ == "mean"
        # the minimized criterion is the mean error itself
        np.testing.assert_allclose(clf.loss_curve_, clf.training_error_curve_, rtol=1e-15)
    elif schedule == "constant":
        assert clf.stage_curve_ == ["nrae"] * n
        assert len(set(clf.lambda_curve_)) == 1 and clf.lambda_ == clf.lambda_curve_[0] > 0
        # NRAE ≥ mean error (Jensen)
        assert all(c >= m - 1e-12 for c, m in zip(clf.loss_curve_, clf.training_error_curve_))
    elif schedule == "adaptive":
        assert clf.stage_curve_ == ["adaptive"] * n
        assert clf.lambda_curve_[0] == pytest.approx(8.0, rel=1e-2)
        assert len(set(clf.lambda_curve_)) == n  # λ is learned
        assert clf.lambda_ == clf.lambda_curve_[-1]
    else:
        assert set(clf.stage_curve_) <= {"nrae", "rae", "mean"}
        assert clf.lambda_ is not None and clf.lambda_ > 0


def test_lambda_init_auto_spread(clf_data):
    # "auto": λ₀·(e_M − median e_k) = 1 on the initial network's errors
    X, y = clf_data
    from skconvex.criteria import squared_errors

    clf = GDCClassifier(schedule="constant", max_iter=1, hidden_layer_sizes=(8,), random_state=0)
    clf.fit(X, y)
    lam0 = clf.lambda_
    ref = GDCClassifier(schedule="constant", max_iter=1, hidden_layer_sizes=(8,), random_state=0,
                        learning_rate_init=1e-12).fit(X, y)
    with torch.no_grad():
        codes = -np.ones((len(y), 3))
        codes[np.arange(len(y)), y] = 1
        out = ref.module_(torch.as_tensor(X, dtype=torch.float32))
        e = squared_errors(out, torch.as_tensor(codes)).numpy()
    assert ref.lambda_ == lam0
    lower_median = np.sort(e)[(len(e) - 1) // 2]
    assert lam0 * (e.max() - lower_median) == pytest.approx(1.0, rel=1e-3)


def test_early_stopping_records_validation_scores(blobs):
    X, y = blobs
    clf = GDCClassifier(schedule="none", early_stopping=True, validation_fraction=0.2,
                        n_iter_no_change=2, max_iter=30, learning_rate_init=0.05,
                        hidden_layer_sizes=(8,), random_state=0).fit(X, y)
    assert len(clf.validation_scores_) == clf.n_iter_
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    assert all(0.0 <= s <= 1.0 for s in clf.validation_scores_)


# ------------------------------------------------------------------- huge λ


@pytest.mark.parametrize("lambda_init, max_iter", [(1e9, 30), (1e30, 70)])
@pytest.mark.parametrize("criterion", ["sse", "cross_entropy"])
def test_huge_lambda_float32_finite_and_stage_progression(clf_data, lambda_init, max_iter, criterion):
    X, y = clf_data
    # lambda_tol=1 makes every epoch stagnant, so λ is divided by 10 at least every
    # other epoch whatever the loss does; lambda_min=1 leaves room for the RAE stage.
    clf = GDCClassifier(
        criterion=criterion, lambda_init=lambda_init, lambda_decay=0.1, lambda_patience=1,
        lambda_tol=1.0, lambda_min=1.0, solver="sgd", learning_rate_init=0.01,
        hidden_layer_sizes=(8,), max_iter=max_iter, random_state=0, dtype="float32",
    ).fit(X, y)
    assert clf.stop_reason_ in ("max_iter", "converged")
    assert all(math.isfinite(v) for v in clf.loss_curve_ + clf.training_error_curve_)
    assert all(v is not None and math.isfinite(v) for v in clf.lambda_curve_)
    stages = clf.stage_curve_
    assert stages[0] == "nrae" and clf.lambda_curve_[0] == lambda_init
    order = [s for i, s in enumerate(stages) if i == 0 or stages[i - 1] != s]
    assert order == ["nrae", "rae", "mean"]
    for s, lam in zip(stages, clf.lambda_curve_):
        if s == "nrae":
            assert lam >= 1.0
        elif s == "rae":
            assert 1.0 <= lam < 1e3
        else:
            assert lam == 0.0
    assert clf.stage_ == "mean" and clf.lambda_ == 0.0
    assert np.isfinite(clf.predict_proba(X)).all()
    for p in clf.module_.parameters():
        assert torch.isfinite(p).all()


# -------------------------------------------------------------- reproducibility


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_same_random_state_same_predictions(clf_data, schedule):
    X, y = clf_data
    kw = dict(schedule=schedule, hidden_layer_sizes=(8,), max_iter=4, batch_size=10)
    a = GDCClassifier(random_state=3, **kw).fit(X, y)
    b = GDCClassifier(random_state=3, **kw).fit(X, y)
    c = GDCClassifier(random_state=4, **kw).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    assert a.loss_curve_ == b.loss_curve_
    assert not np.array_equal(a.predict_proba(X), c.predict_proba(X))


def test_random_state_instance_and_global_torch_seed_untouched(clf_data):
    X, y = clf_data
    torch.manual_seed(123)
    before = torch.rand(3)
    torch.manual_seed(123)
    GDCClassifier(**SMALL).fit(X, y)
    np.testing.assert_array_equal(torch.rand(3).numpy(), before.numpy())


# ------------------------------------------------------------ labels & outputs


@pytest.mark.parametrize("criterion", CRITERIA)
@pytest.mark.parametrize(
    "labels", [np.array(["cat", "dog", "eel"]), np.array([-3, 7, 42])], ids=["str", "int"]
)
def test_labels_proba_and_decision_function(blobs, labels, criterion):
    X, y = blobs
    yl = labels[y]
    clf = GDCClassifier(criterion=criterion, hidden_layer_sizes=(8,), max_iter=40,
                        learning_rate_init=0.02, random_state=0).fit(X, yl)
    np.testing.assert_array_equal(clf.classes_, np.sort(labels))
    pred = clf.predict(X)
    assert pred.dtype == yl.dtype and set(pred) <= set(labels)
    proba = clf.predict_proba(X)
    assert proba.shape == (60, 3) and (proba >= 0).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(clf.classes_[proba.argmax(axis=1)], pred)
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X)), proba, rtol=1e-12)
    dec = clf.decision_function(X)
    assert dec.shape == (60, 3)
    np.testing.assert_array_equal(clf.classes_[dec.argmax(axis=1)], pred)
    assert clf.score(X, yl) >= 0.9  # three well separated blobs


@pytest.mark.parametrize("criterion", CRITERIA)
def test_binary_decision_function(blobs, criterion):
    X, y = blobs
    mask = y < 2
    Xb, yb = X[mask], np.array(["no", "yes"])[y[mask]]
    clf = GDCClassifier(criterion=criterion, hidden_layer_sizes=(8,), max_iter=30,
                        learning_rate_init=0.02, random_state=0).fit(Xb, yb)
    dec = clf.decision_function(Xb)
    assert dec.shape == (mask.sum(),)
    proba = clf.predict_proba(Xb)
    assert proba.shape == (mask.sum(), 2)
    pred = clf.predict(Xb)
    np.testing.assert_array_equal(np.where(dec > 0, "yes", "no"), pred)
    assert clf.score(Xb, yb) >= 0.9


def test_regressor_output_shapes(reg_data):
    X, y = reg_data
    reg = GDCRegressor(**SMALL).fit(X, y)
    assert reg.predict(X).shape == (30,)
    Y2 = np.column_stack([y, -2 * y + 5])
    reg2 = GDCRegressor(**SMALL).fit(X, Y2)
    assert reg2.predict(X).shape == (30, 2) and reg2.n_outputs_ == 2


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_regressor_predicts_in_original_units(reg_data, schedule):
    # Targets are scaled to [-1, 1] per output, so a constant shift of y leaves the
    # training unchanged and must shift the predictions by exactly the constant, up
    # to float64 rounding of numbers near 1000 (measured: 2.3e-13).
    X, y = reg_data
    kw = dict(schedule=schedule, hidden_layer_sizes=(8,), max_iter=20, random_state=0)
    a = GDCRegressor(**kw).fit(X, y)
    b = GDCRegressor(**kw).fit(X, y + 1000.0)
    np.testing.assert_allclose(b.predict(X), a.predict(X) + 1000.0, rtol=0, atol=1e-10)
    # multiplying y by 10 multiplies the predictions by 10
    c = GDCRegressor(**kw).fit(X, 10 * y)
    np.testing.assert_allclose(c.predict(X), 10 * a.predict(X), rtol=1e-12, atol=1e-10)


def test_regressor_learns(reg_data):
    X, y = reg_data
    reg = GDCRegressor(hidden_layer_sizes=(16,), max_iter=300, learning_rate_init=0.02,
                       random_state=0).fit(X, y)
    assert reg.score(X, y) > 0.9
    assert abs(reg.predict(X).mean() - y.mean()) < 0.1 * y.std()


def test_dataframe_sets_feature_names(clf_data):
    X, y = clf_data
    df = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    clf = GDCClassifier(**SMALL).fit(df, pd.Series(y))
    np.testing.assert_array_equal(clf.feature_names_in_, ["a", "b", "c", "d"])
    np.testing.assert_array_equal(clf.predict(df), GDCClassifier(**SMALL).fit(X, y).predict(X))
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        clf.predict(X)
    with pytest.raises(ValueError, match="feature names"):
        clf.predict(df[["b", "a", "c", "d"]])
    reg = GDCRegressor(**SMALL).fit(df, y.astype(float))
    np.testing.assert_array_equal(reg.feature_names_in_, ["a", "b", "c", "d"])
    assert not hasattr(GDCRegressor(**SMALL).fit(X, y.astype(float)), "feature_names_in_")


# ------------------------------------------------------------ scikit-learn tools


def test_pipeline_and_cross_val_score(blobs):
    X, y = blobs
    pipe = Pipeline([
        ("scale", StandardScaler()),
        ("clf", GDCClassifier(hidden_layer_sizes=(8,), max_iter=60, learning_rate_init=0.02,
                              random_state=0)),
    ])
    assert pipe.fit(X, y).score(X, y) >= 0.95
    scores = cross_val_score(pipe, X, y, cv=3)
    assert scores.shape == (3,) and scores.min() >= 0.8


def test_clone(clf_data):
    X, y = clf_data
    clf = GDCClassifier(lambda_init=123.0, module_params={"dropout": 0.1}, **SMALL).fit(X, y)
    new = clone(clf)
    assert new.get_params() == clf.get_params()
    assert new.module_params is not clf.module_params
    with pytest.raises(NotFittedError):
        check_is_fitted(new)
    with pytest.raises(NotFittedError):
        new.predict(X)


def test_grid_search_parallel(clf_data):
    X, y = clf_data
    grid = {"lambda_init": [10.0, 1e4], "lambda_decay": [0.5, 0.9]}
    gs = GridSearchCV(GDCClassifier(**SMALL), grid, cv=2, n_jobs=2).fit(X, y)
    assert gs.best_params_["lambda_init"] in grid["lambda_init"]
    assert gs.best_params_["lambda_decay"] in grid["lambda_decay"]
    assert len(gs.cv_results_["params"]) == 4
    assert np.isfinite(gs.cv_results_["mean_test_score"]).all()
    assert gs.best_estimator_.lambda_curve_[0] == gs.best_params_["lambda_init"]


def make_net(n_features, n_outputs, width=4):
    return nn.Sequential(nn.Linear(n_features, width), nn.Tanh(), nn.Linear(width, n_outputs))


def test_user_module_nested_params(clf_data):
    X, y = clf_data
    clf = GDCClassifier(module=make_net, criterion="cross_entropy", max_iter=3, random_state=0)
    assert "module__width" not in clf.get_params()
    clf.set_params(module__width=8)
    assert clf.module_params == {"width": 8}
    assert clf.get_params(deep=True)["module__width"] == 8
    assert "module__width" not in clf.get_params(deep=False)
    clf.fit(X, y)
    assert isinstance(clf.module_, nn.Sequential)
    assert clf.module_[0].in_features == 4 and clf.module_[0].out_features == 8
    assert clf.module_[2].out_features == 3
    assert clone(clf).module_params == {"width": 8}
    # default width when module_params is not given
    assert GDCClassifier(module=make_net, criterion="cross_entropy", max_iter=1).fit(
        X, y).module_[0].out_features == 4


def test_grid_search_over_user_module_params(clf_data):
    X, y = clf_data
    base = GDCClassifier(module=make_net, criterion="cross_entropy", max_iter=3, random_state=0)
    gs = GridSearchCV(base, {"module__width": [2, 8]}, cv=2).fit(X, y)
    width = gs.best_params_["module__width"]
    assert width in (2, 8)
    assert gs.best_estimator_.module_params == {"width": width}
    assert gs.best_estimator_.module_[0].out_features == width
    widths = [p["module__width"] for p in gs.cv_results_["params"]]
    assert widths == [2, 8]
    assert base.module_params is None  # the grid search does not touch the base


# ----------------------------------------------------------------- sample_weight


@pytest.mark.parametrize("schedule", ["gdc", "constant"])
def test_integer_sample_weight_equals_repeated_rows(schedule):
    X, y = make_classification(n_samples=30, n_features=4, n_informative=3, n_redundant=0,
                               n_classes=3, random_state=0)
    w = np.random.RandomState(0).randint(0, 4, size=30)
    for c in range(3):  # every class keeps a positive weight
        i = np.flatnonzero(y == c)[0]
        w[i] = max(w[i], 1)
    assert (w == 0).any() and (w > 1).any()
    kw = dict(schedule=schedule, normalizer="global", lambda_init=1e4, dtype="float64",
              batch_size=1000, max_iter=3, hidden_layer_sizes=(8,), random_state=0)
    weighted = GDCClassifier(**kw).fit(X, y, sample_weight=w)
    repeated = GDCClassifier(**kw).fit(np.repeat(X, w, axis=0), np.repeat(y, w))
    np.testing.assert_allclose(weighted.predict_proba(X), repeated.predict_proba(X), atol=1e-8,
                               rtol=0)
    np.testing.assert_allclose(weighted.loss_curve_, repeated.loss_curve_, rtol=1e-10)
    assert weighted.lambda_curve_ == repeated.lambda_curve_


def test_uniform_sample_weight_is_unweighted(clf_data):
    X, y = clf_data
    a = GDCClassifier(**SMALL).fit(X, y, sample_weight=np.full(40, 2.5))
    b = GDCClassifier(**SMALL).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_zero_sample_weight_is_removal_for_regressor(reg_data, schedule):
    X, y = reg_data
    y_out = y.copy()
    y_out[:4] = [1e3, -1e3, 5e2, 2e3]  # would change the target scaling if counted
    w = np.ones(30)
    w[:4] = 0.0
    kw = dict(schedule=schedule, dtype="float64", batch_size=1000, max_iter=20,
              hidden_layer_sizes=(8,), random_state=0)
    weighted = GDCRegressor(**kw).fit(X, y_out, sample_weight=w)
    removed = GDCRegressor(**kw).fit(X[4:], y[4:])
    np.testing.assert_allclose(weighted.predict(X), removed.predict(X), rtol=0, atol=1e-8)


def test_sample_weight_all_zero_rejected(clf_data):
    X, y = clf_data
    with pytest.raises(ValueError, match="at least one non-zero"):
        GDCClassifier(**SMALL).fit(X, y, sample_weight=np.zeros(40))


@pytest.mark.parametrize("schedule", ["gdc", "constant", "adaptive"])
def test_negative_sample_weight_rejected(clf_data, schedule):
    X, y = clf_data
    w = np.ones(40)
    w[0] = -1.0
    with pytest.raises(ValueError, match="[Nn]egative"):
        GDCClassifier(schedule=schedule, lambda_init=5.0, **SMALL).fit(X, y, sample_weight=w)


# --------------------------------------------------------------------- bad input


@pytest.mark.parametrize("bad, match", [(np.nan, "Input X contains NaN"), (np.inf, "infinity")])
@pytest.mark.parametrize("Est", [GDCClassifier, GDCRegressor])
def test_nan_inf_in_X(clf_data, Est, bad, match):
    X, y = clf_data
    Xb = X.copy()
    Xb[3, 2] = bad
    with pytest.raises(ValueError, match=match):
        Est(**SMALL).fit(Xb, y)
    est = Est(**SMALL).fit(X, y)
    with pytest.raises(ValueError, match=match):
        est.predict(Xb)
    if Est is GDCClassifier:
        with pytest.raises(ValueError, match=match):
            est.predict_proba(Xb)
        with pytest.raises(ValueError, match=match):
            est.decision_function(Xb.astype(np.float32))


def test_nan_in_y(reg_data):
    X, y = reg_data
    yb = y.copy()
    yb[0] = np.nan
    with pytest.raises(ValueError, match="Input y contains NaN"):
        GDCRegressor(**SMALL).fit(X, yb)


def test_wrong_n_features(clf_data):
    X, y = clf_data
    clf = GDCClassifier(**SMALL).fit(X, y)
    with pytest.raises(ValueError, match="X has 3 features, but GDCClassifier is expecting 4 features"):
        clf.predict(X[:, :3])
    reg = GDCRegressor(**SMALL).fit(X, y.astype(float))
    with pytest.raises(ValueError, match="X has 5 features, but GDCRegressor is expecting 4 features"):
        reg.predict(np.hstack([X, X[:, :1]]))


def test_predict_accepts_lists_and_integers(clf_data):
    X, y = clf_data
    clf = GDCClassifier(**SMALL).fit(X, y)
    Xi = np.round(X).astype(np.int64)
    np.testing.assert_array_equal(clf.predict(Xi), clf.predict(Xi.astype(np.float64)))
    np.testing.assert_array_equal(clf.predict(X.tolist()), clf.predict(X))


def test_one_class(clf_data):
    X, _ = clf_data
    with pytest.raises(ValueError, match="only one class"):
        GDCClassifier(**SMALL).fit(X, np.full(40, "a"))


@pytest.mark.parametrize("Est", [GDCClassifier, GDCRegressor])
def test_empty_input(clf_data, Est):
    X, y = clf_data
    with pytest.raises(ValueError, match="0 sample"):
        Est(**SMALL).fit(np.empty((0, 4)), np.empty(0))
    est = Est(**SMALL).fit(X, y)
    with pytest.raises(ValueError, match="0 sample"):
        est.predict(np.empty((0, 4)))


@pytest.mark.parametrize(
    "params, name",
    [
        ({"lambda_decay": 1.5}, "lambda_decay"),
        ({"lambda_decay": 0.0}, "lambda_decay"),
        ({"schedule": "foo"}, "schedule"),
        ({"batch_size": 0}, "batch_size"),
        ({"lambda_init": -1.0}, "lambda_init"),
        ({"lambda_patience": 0}, "lambda_patience"),
        ({"normalizer": "local"}, "normalizer"),
        ({"criterion": "hinge"}, "criterion"),
        ({"dtype": "float16"}, "dtype"),
        ({"module": "resnet"}, "module"),
        ({"max_iter": 0}, "max_iter"),
    ],
)
def test_invalid_parameters(clf_data, params, name):
    X, y = clf_data
    with pytest.raises(InvalidParameterError, match=f"The '{name}' parameter of GDCClassifier"):
        GDCClassifier(**params).fit(X, y)


def test_invalid_device_string(clf_data):
    X, y = clf_data
    with pytest.raises(ValueError, match="device"):
        GDCClassifier(device="gpu0", **SMALL).fit(X, y)


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")
def test_cuda_requested_without_cuda(clf_data):
    X, y = clf_data
    with pytest.raises(ValueError, match="CUDA"):
        GDCClassifier(device="cuda", **SMALL).fit(X, y)
    # "auto" falls back to the CPU
    clf = GDCClassifier(device="auto", **SMALL).fit(X, y)
    assert next(clf.module_.parameters()).device.type == "cpu"


def test_lenet_image_shape_mismatch(clf_data):
    X, y = clf_data
    with pytest.raises(ValueError, match="does not match image_shape"):
        GDCClassifier(module="lenet5", image_shape=(1, 28, 28), max_iter=1).fit(X, y)
    X5 = np.hstack([X, X[:, :1]])  # 5 features: not a square image
    with pytest.raises(ValueError, match="image_shape"):
        GDCClassifier(module="lenet5", max_iter=1).fit(X5, y)


# ----------------------------------------------------------------------- LeNets


@pytest.fixture(scope="module")
def images():
    rng = np.random.RandomState(0)
    X = rng.rand(40, 784).astype(np.float32)
    y = np.arange(40) % 4
    return X, y


@pytest.mark.parametrize(
    "module, criterion",
    [("lenet5", "sse"), ("lenet5_20_50_500", "sse"), ("lenet5_20_50_500", "cross_entropy")],
)
@pytest.mark.parametrize("image_shape", [None, (1, 28, 28)])
def test_lenet_backends(images, module, criterion, image_shape):
    X, y = images
    clf = GDCClassifier(module=module, criterion=criterion, image_shape=image_shape, max_iter=1,
                        batch_size=20, random_state=0).fit(X, y)
    assert clf.n_iter_ == 1 and math.isfinite(clf.loss_curve_[0])
    assert clf.predict(X).shape == (40,)
    assert set(clf.predict(X)) <= {0, 1, 2, 3}
    assert clf.predict_proba(X).shape == (40, 4)
    assert clf.decision_function(X[:7]).shape == (7, 4)
    assert clf.module_.image_shape == (1, 28, 28)


# ------------------------------------------------------------------- warm start


@pytest.mark.parametrize("schedule", ["gdc", "constant", "none"])
def test_warm_start_continues(clf_data, schedule):
    X, y = clf_data
    kw = dict(schedule=schedule, lambda_init=50.0, lambda_patience=1, lambda_tol=1.0,
              lambda_decay=0.5, lambda_min=0.0, switch_to_rae=False, hidden_layer_sizes=(8,),
              random_state=0)
    clf = GDCClassifier(warm_start=True, max_iter=3, **kw).fit(X, y)
    first_curve, first_lambda = list(clf.loss_curve_), clf.lambda_
    first_weights = [p.detach().clone() for p in clf.module_.parameters()]
    module_id = id(clf.module_)
    clf.set_params(max_iter=4).fit(X, y)
    assert clf.n_iter_ == 7
    assert len(clf.loss_curve_) == len(clf.lambda_curve_) == len(clf.stage_curve_) == 7
    assert clf.loss_curve_[:3] == first_curve
    assert id(clf.module_) == module_id  # same network, trained further
    assert any(not torch.equal(a, b) for a, b in zip(first_weights, clf.module_.parameters()))
    assert clf.lambda_curve_[3] == first_lambda  # λ resumes where it stopped
    if schedule == "gdc":
        assert first_lambda < 50.0  # it did decay in the first fit
    # the second fit starts from the trained weights, not a fresh network
    assert clf.training_error_curve_[3] < clf.training_error_curve_[0]
    cold = GDCClassifier(warm_start=False, max_iter=4, **kw).fit(X, y)
    assert cold.n_iter_ == 4
    assert cold.lambda_curve_[0] == (None if schedule == "none" else 50.0)


def test_warm_start_keeps_lambda_min_auto_of_the_first_lambda(clf_data):
    X, y = clf_data
    kw = dict(lambda_init=1000.0, lambda_decay=0.5, lambda_patience=1, lambda_tol=1.0,
              switch_to_rae=False, hidden_layer_sizes=(8,), random_state=0)
    clf = GDCClassifier(warm_start=True, max_iter=3, **kw).fit(X, y)
    assert clf.stage_ == "nrae" and clf.lambda_ >= 10.0
    clf.set_params(max_iter=20).fit(X, y)
    # lambda_min = 1000/100 = 10: no NRAE epoch may run at λ < 10
    nrae_lams = [lam for s, lam in zip(clf.stage_curve_, clf.lambda_curve_) if s == "nrae"]
    assert min(nrae_lams) >= 10.0
    assert clf.stage_ == "mean"


def test_warm_start_rejects_new_classes(clf_data):
    X, y = clf_data
    clf = GDCClassifier(warm_start=True, **SMALL).fit(X[y < 2], y[y < 2])
    with pytest.raises(ValueError, match="cannot learn new classes"):
        clf.fit(X, y)


# ---------------------------------------------------------------------- verbose


def test_verbose_progress_bar(clf_data, capfd):
    X, y = clf_data
    GDCClassifier(verbose=0, **SMALL).fit(X, y)
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    GDCClassifier(verbose=1, **SMALL).fit(X, y)
    out, err = capfd.readouterr()
    assert out == ""
    assert "epochs" in err and "5/5" in err and "100%" in err
    assert "stage=" in err


# ------------------------------------------------------------------- user modules


class NaNAfter(nn.Module):
    """Linear net whose training-mode forward returns NaN after ``after`` calls."""

    def __init__(self, n_features, n_outputs, after=3):
        super().__init__()
        self.lin = nn.Linear(n_features, n_outputs)
        self.after, self.calls = after, 0

    def forward(self, x):
        out = self.lin(x)
        if self.training:
            self.calls += 1
            if self.calls > self.after:
                out = out * float("nan")
        return out


class InterruptAt(nn.Module):
    """Linear net whose training-mode forward raises KeyboardInterrupt at call ``at``."""

    def __init__(self, n_features, n_outputs, at=4):
        super().__init__()
        self.lin = nn.Linear(n_features, n_outputs)
        self.at, self.calls = at, 0

    def forward(self, x):
        if self.training:
            self.calls += 1
            if self.calls == self.at:
                raise KeyboardInterrupt
        return self.lin(x)


@pytest.mark.parametrize("schedule", ["gdc", "none"])
def test_divergence_through_estimator(clf_data, schedule):
    X, y = clf_data
    clf = GDCClassifier(module=NaNAfter, criterion="cross_entropy", schedule=schedule,
                        batch_size=40, max_iter=20, random_state=0)
    with pytest.warns(ConvergenceWarning, match="diverged"):
        clf.fit(X, y)
    assert clf.stop_reason_ == "diverged"
    assert clf.n_iter_ == 4  # three finite epochs, NaN in the fourth
    assert math.isnan(clf.loss_curve_[-1])
    assert all(math.isfinite(v) for v in clf.loss_curve_[:3])
    assert clf.best_loss_ == min(clf.training_error_curve_[:3])
    assert np.isfinite(clf.predict_proba(X)).all()
    assert all(torch.isfinite(p).all() for p in clf.module_.parameters())


def test_interrupt_through_estimator(clf_data):
    X, y = clf_data
    clf = GDCClassifier(module=InterruptAt, criterion="cross_entropy", batch_size=40,
                        max_iter=20, random_state=0)
    try:
        with pytest.warns(UserWarning, match="interrupted"):
            clf.fit(X, y)
    except KeyboardInterrupt:  # pragma: no cover - only on a regression
        pytest.fail("KeyboardInterrupt escaped fit()")
    assert clf.stop_reason_ == "interrupted" and clf.n_iter_ == 3
    pred = clf.predict(X)
    assert pred.shape == (40,) and set(pred) <= {0, 1, 2}
    assert np.isfinite(clf.predict_proba(X)).all()


# --------------------------------------------------------------------------- CUDA


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_fit_matches_cpu_and_loads_on_cpu(clf_data, monkeypatch):
    X, y = clf_data
    kw = dict(hidden_layer_sizes=(8,), max_iter=5, random_state=0, dtype="float64",
              batch_size=1000, lambda_init=10.0, shuffle=False)
    gpu = GDCClassifier(device="cuda", **kw).fit(X, y)
    cpu = GDCClassifier(device="cpu", **kw).fit(X, y)
    assert next(gpu.module_.parameters()).device.type == "cuda"
    np.testing.assert_allclose(gpu.predict_proba(X), cpu.predict_proba(X), atol=1e-6)
    data = pickle.dumps(gpu)
    expected = gpu.predict_proba(X)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.warns(UserWarning, match="using the CPU"):
        loaded = pickle.loads(data)
    assert next(loaded.module_.parameters()).device.type == "cpu"
    np.testing.assert_allclose(loaded.predict_proba(X), expected, atol=1e-12)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_regressor_predicts(reg_data):
    X, y = reg_data
    reg = GDCRegressor(device="cuda", **SMALL).fit(X, y)
    pred = reg.predict(X)
    assert isinstance(pred, np.ndarray) and pred.shape == (30,) and np.isfinite(pred).all()


def test_no_stray_warnings_on_converged_fit(blobs):
    # a fit that converges before max_iter emits no ConvergenceWarning
    X, y = blobs
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf = GDCClassifier(schedule="none", hidden_layer_sizes=(8,), max_iter=2000, tol=1e-2,
                            n_iter_no_change=2, learning_rate_init=0.05, random_state=0).fit(X, y)
    assert clf.stop_reason_ == "converged" and clf.n_iter_ < 2000


def test_paper_recipe_pairwise_runs(clf_data):
    X, y = clf_data
    clf = GDCClassifier(**PAPER_RECIPE, hidden_layer_sizes=(8,), max_iter=2, random_state=0)
    clf.fit(X[:20], y[:20])
    assert clf.get_params()["batch_size"] == 1 and clf.normalizer == "global"
    assert clf.lambda_curve_ == [1e4, 1e4]  # patience 10: no decay in two epochs
    assert all(math.isfinite(v) for v in clf.loss_curve_)
    assert clf.stage_curve_[0] == "nrae"

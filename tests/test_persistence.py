"""Persistence of GDCClassifier / GDCRegressor: pickle, joblib, skops, deepcopy.

The pickled state must hold only CPU numpy data and plain Python values (no torch
tensors), so that models load without CUDA and skops can audit them.
"""

from __future__ import annotations

import copy
import io
import pickle
import warnings

import joblib
import numpy as np
import pytest
import skops.io as sio
import torch
from sklearn.datasets import make_classification, make_regression

import skconvex
from skconvex import GDCClassifier, GDCRegressor
from skconvex.exceptions import InconsistentVersionWarning

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

KW = dict(hidden_layer_sizes=(8,), max_iter=5, random_state=0)


@pytest.fixture(scope="module")
def clf_xy():
    return make_classification(n_samples=40, n_features=4, n_informative=3, n_redundant=0,
                               n_classes=3, random_state=0)


@pytest.fixture(scope="module")
def reg_xy():
    X, y = make_regression(n_samples=30, n_features=4, noise=1.0, random_state=0)
    return X, np.column_stack([y, y ** 2 / 100])


@pytest.fixture(scope="module", params=["classifier", "regressor", "classifier-f64-ce"])
def fitted(request, clf_xy, reg_xy):
    if request.param == "classifier":
        X, y = clf_xy
        return GDCClassifier(**KW).fit(X, np.array(["a", "b", "c"])[y]), X
    if request.param == "classifier-f64-ce":
        X, y = clf_xy
        est = GDCClassifier(criterion="cross_entropy", schedule="adaptive", dtype="float64", **KW)
        return est.fit(X, y), X
    X, y = reg_xy
    return GDCRegressor(schedule="constant", **KW).fit(X, y), X


def _outputs(est, X):
    if hasattr(est, "predict_proba"):
        return est.predict(X), est.predict_proba(X)
    return (est.predict(X),)


def _assert_same(a, b, X):
    for u, v in zip(_outputs(a, X), _outputs(b, X)):
        np.testing.assert_array_equal(u, v)


def _assert_same_fitted_attributes(a, b):
    for name in ("loss_curve_", "lambda_curve_", "stage_curve_", "n_iter_", "lambda_",
                 "stage_", "stop_reason_", "n_features_in_", "n_outputs_"):
        assert getattr(a, name) == getattr(b, name), name
    assert a.get_params() == b.get_params()
    pa, pb = next(a.module_.parameters()), next(b.module_.parameters())
    assert pa.dtype == pb.dtype and pb.device.type == "cpu"
    assert not b.module_.training


def test_pickle_round_trip(fitted):
    est, X = fitted
    new = pickle.loads(pickle.dumps(est))
    _assert_same(est, new, X)
    _assert_same_fitted_attributes(est, new)


def test_joblib_round_trip(fitted, tmp_path):
    est, X = fitted
    path = tmp_path / "model.joblib"
    joblib.dump(est, path)
    new = joblib.load(path)
    _assert_same(est, new, X)
    _assert_same_fitted_attributes(est, new)


def test_deepcopy(fitted):
    est, X = fitted
    new = copy.deepcopy(est)
    _assert_same(est, new, X)
    assert new.module_ is not est.module_
    for p, q in zip(est.module_.parameters(), new.module_.parameters()):
        assert p.data_ptr() != q.data_ptr()


_ALLOWED = (np.ndarray, np.generic, bool, int, float, str, type(None))


def _walk(value, path, found):
    if isinstance(value, torch.Tensor) or isinstance(value, torch.nn.Module):
        found.append(path)
    elif isinstance(value, dict):
        for k, v in value.items():
            assert isinstance(k, str), (path, k)
            _walk(v, f"{path}[{k!r}]", found)
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _walk(v, f"{path}[{i}]", found)
    elif isinstance(value, np.ndarray):
        assert value.dtype != object, path
    elif not isinstance(value, _ALLOWED):
        found.append(f"{path}: {type(value).__name__}")


def test_pickled_state_holds_no_torch_objects(fitted):
    est, _ = fitted
    state = est.__getstate__()
    assert "module_" not in state
    assert state["module"] == "mlp" and state["_skconvex_version"] == skconvex.__version__
    found = []
    for key, value in state.items():
        _walk(value, key, found)
    assert found == []
    arrays = state["_module_state_"]
    assert arrays and all(isinstance(v, np.ndarray) for v in arrays.values())
    assert set(arrays) == set(est.module_.state_dict())
    # the live estimator is untouched by __getstate__
    assert isinstance(est.module_, torch.nn.Module)


def test_pickle_has_no_torch_references(fitted):
    est, _ = fitted
    data = pickle.dumps(est)
    assert b"torch" not in data


def test_skops_round_trip(fitted):
    est, X = fitted
    data = sio.dumps(est)
    untrusted = sio.get_untrusted_types(data=data)
    assert untrusted, "the skconvex estimator type itself is not trusted by default"
    assert all(t.startswith("skconvex.") for t in untrusted), untrusted
    assert not any("torch" in t for t in untrusted)
    assert untrusted == [f"skconvex._gdc.{type(est).__name__}"]
    new = sio.loads(data, trusted=untrusted)
    _assert_same(est, new, X)
    _assert_same_fitted_attributes(est, new)


def test_skops_refuses_untrusted(fitted):
    est, _ = fitted
    with pytest.raises(sio.exceptions.UntrustedTypesFoundException):
        sio.loads(sio.dumps(est))


def test_inconsistent_version_warning(fitted):
    est, X = fitted
    state = est.__getstate__()
    state["_skconvex_version"] = "0.0.0"
    cls = type(est)
    new = cls.__new__(cls)
    with pytest.warns(InconsistentVersionWarning, match="from skconvex version 0.0.0 when using"):
        new.__setstate__(state)
    _assert_same(est, new, X)


def test_no_version_warning_for_same_version(fitted):
    est, _ = fitted
    data = pickle.dumps(est)
    with warnings.catch_warnings():
        warnings.simplefilter("error", InconsistentVersionWarning)
        pickle.loads(data)


def test_missing_version_warns(fitted):
    est, _ = fitted
    state = est.__getstate__()
    del state["_skconvex_version"]
    new = type(est).__new__(type(est))
    with pytest.warns(InconsistentVersionWarning, match="version None"):
        new.__setstate__(state)


@pytest.mark.parametrize("Est", [GDCClassifier, GDCRegressor])
def test_unfitted_estimator_pickles(Est):
    est = Est(lambda_init=123.0, module_params={"dropout": 0.2}, hidden_layer_sizes=(3, 2))
    new = pickle.loads(pickle.dumps(est))
    assert new.get_params() == est.get_params()
    assert not hasattr(new, "module_")
    state = est.__getstate__()
    assert "_module_state_" not in state and "_skconvex_version" in state
    buf = io.BytesIO()
    joblib.dump(est, buf)
    buf.seek(0)
    assert joblib.load(buf).get_params() == est.get_params()
    assert copy.deepcopy(est).get_params() == est.get_params()


def test_loaded_model_can_continue_with_warm_start(clf_xy):
    X, y = clf_xy
    est = GDCClassifier(**KW).fit(X, y)
    new = pickle.loads(pickle.dumps(est))
    new.set_params(warm_start=True, max_iter=2).fit(X, y)
    assert new.n_iter_ == 7 and len(new.loss_curve_) == 7
    assert new.loss_curve_[:5] == est.loss_curve_
    # the original is unaffected
    assert est.n_iter_ == 5


def test_pickle_keeps_float64_and_lenet(clf_xy):
    rng = np.random.RandomState(0)
    X = rng.rand(20, 784)
    y = np.arange(20) % 2
    est = GDCClassifier(module="lenet5", dtype="float64", max_iter=1, batch_size=20,
                        random_state=0).fit(X, y)
    new = pickle.loads(pickle.dumps(est))
    assert next(new.module_.parameters()).dtype == torch.float64
    np.testing.assert_array_equal(est.predict_proba(X), new.predict_proba(X))
    found = []
    for key, value in est.__getstate__().items():
        _walk(value, key, found)
    assert found == []

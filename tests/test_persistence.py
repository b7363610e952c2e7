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


# --- hostile files: the saved state is checked against its architecture before building -----


def _crafted(est, **module_args):
    """Fitted ``est``, changed in place: its recorded architecture says ``module_args``,
    while the arrays saved with it stay those of the small fitted network."""
    est._module_args_ = {**est._module_args_, **module_args}
    return est


@pytest.fixture
def fitted_small(clf_xy, monkeypatch):
    """A fitted 4-8-3 GDCClassifier; from then on, building any network fails the test:
    loading must refuse before it builds (allocates) one."""
    X, y = clf_xy
    est = GDCClassifier(**KW).fit(X, y)

    def build(*args, **kwargs):
        raise AssertionError("a network was built (allocated) before the state was checked")

    monkeypatch.setattr(skconvex._base, "build_module", build)
    return est


def test_crafted_skops_file_is_refused_before_anything_is_allocated(fitted_small):
    """The issue's case: _module_args_ claims 10 000 features x 10 000 hidden units (382 MiB
    of float32 weights) beside the small arrays of a 4-8-3 network."""
    est = fitted_small
    crafted = _crafted(est, n_features=10_000, params={
        **est._module_args_["params"], "hidden_layer_sizes": (10_000,)})  # fmt: skip
    crafted.n_features_in_ = 10_000
    data = sio.dumps(crafted)
    assert sio.get_untrusted_types(data=data) == ["skconvex._gdc.GDCClassifier"]
    with pytest.raises(ValueError) as info:
        sio.loads(data, trusted=["skconvex._gdc.GDCClassifier"])
    assert str(info.value) == (
        "Cannot load GDCClassifier: linears.0.weight has shape (8, 4) but the recorded "
        "architecture needs (10000, 10000). The file is corrupt or was crafted; the network "
        "was not built."
    )
    with pytest.raises(ValueError, match=r"needs \(10000, 10000\)"):
        pickle.loads(pickle.dumps(crafted))


@pytest.mark.parametrize(
    "change, match",
    [
        (dict(n_outputs=4), r"linears.1.weight has shape \(3, 8\) but .* needs \(4, 8\)"),
        (dict(n_features=5), "n_features_in_ is 4 but the recorded architecture takes 5"),
        (dict(n_features=-1), r"_module_args_\['n_features'\] must be a positive int"),
        (dict(module="no-such-module"), "the recorded architecture does not build"),
        (dict(params={"hidden_layer_sizes": (8,) * 100}), "101 layers but the state only 4"),
        (dict(params={"hidden_layer_sizes": (8, 8)}), r"missing \['linears.2.bias'"),
    ],
)
def test_state_that_does_not_fit_its_architecture_is_refused(fitted_small, change, match):
    est = fitted_small
    with pytest.raises(ValueError, match=match):
        pickle.loads(pickle.dumps(_crafted(est, **change)))


def test_state_with_bad_arrays_or_dtype_is_refused(fitted_small):
    state = fitted_small.__getstate__()
    for key, value, match in [
        ("_module_dtype_", "complex128", "unknown network dtype 'complex128'"),
        ("_module_state_", {**state["_module_state_"], "extra": np.zeros(3)},
         r"unexpected \['extra'\]"),
        ("_module_state_", {**state["_module_state_"], "linears.0.bias": "x"},
         r"_module_state_\['linears.0.bias'\] is not an array"),
    ]:  # fmt: skip
        new = GDCClassifier.__new__(GDCClassifier)
        with pytest.raises(ValueError, match=match):
            new.__setstate__({**state, key: value})


def test_pruned_network_state_still_loads(clf_xy):
    """Mask buffers are part of the architecture the state is checked against."""
    from skconvex.nn import masks

    X, y = clf_xy
    est = GDCClassifier(**KW).fit(X, y)
    masks.add_masks(est.module_)
    est.module_.linears[0].weight_mask[0] = False
    masks.apply_masks_(est.module_)
    new = pickle.loads(pickle.dumps(est))
    assert not new.module_.linears[0].weight_mask[0].any()
    _assert_same(est, new, X)

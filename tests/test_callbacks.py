"""Callbacks of the training loop, partial_fit, warm start state and dask-ml's Incremental."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from skconvex import CPNAClassifier, GDCClassifier, GDCRegressor, RVSMClassifier, RVSMRegressor
from skconvex.criteria import squared_errors
from skconvex.nn import MLP
from skconvex.training import Callback, MeanLoss, Stagnancy, train


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return (X / 16.0)[:600], y[:600]


def _problem():
    gen = torch.Generator().manual_seed(0)
    X = torch.randn(40, 3, generator=gen)
    return X, X[:, :1] * 2 - X[:, 1:2]


class _StopWhenSmall(Callback):
    """A user's callback: records the mean error per epoch, stops below a bound."""

    def on_epoch_end(self, ctx):
        ctx.history.record("seen_error", ctx.history.mean_error[-1])
        return "small_enough" if ctx.history.mean_error[-1] < 0.5 else None


def test_user_callback_records_per_epoch_and_stops_with_its_own_reason():
    X, Y = _problem()
    torch.manual_seed(0)
    history = train(MLP(3, 1, hidden_layer_sizes=(8,)), squared_errors, MeanLoss(), X, Y,
                    lambda g: torch.optim.SGD(g, lr=0.05), max_iter=500, batch_size=10,
                    callbacks=[_StopWhenSmall()])
    assert history.stop_reason == "small_enough"
    assert history.records["seen_error"] == history.mean_error
    assert history.mean_error[-1] < 0.5 <= history.mean_error[-2]


def test_step_hooks_are_dispatched_only_when_overridden():
    calls = []

    class EpochOnly(Callback):
        def on_epoch_end(self, ctx):
            calls.append(ctx.step)

    X, Y = _problem()
    hooks_before = Callback.on_step_end
    train(MLP(3, 1, hidden_layer_sizes=(4,)), squared_errors, MeanLoss(), X, Y,
          lambda g: torch.optim.SGD(g, lr=0.01), max_iter=2, batch_size=10, callbacks=[EpochOnly()])
    assert calls == [4, 8] and Callback.on_step_end is hooks_before


def test_a_callback_failing_at_train_begin_does_not_end_callbacks_that_did_not_begin():
    ended = []

    class Fails(Callback):
        def on_train_begin(self, ctx):
            raise ValueError("bad setting")

    class Ends(Callback):
        def on_train_begin(self, ctx):
            self.bar = object()

        def on_train_end(self, ctx):
            ended.append(self.bar)

    X, Y = _problem()
    with pytest.raises(ValueError, match="bad setting"):
        train(MLP(3, 1, hidden_layer_sizes=(4,)), squared_errors, MeanLoss(), X, Y,
              lambda g: torch.optim.SGD(g, lr=0.01), max_iter=2, callbacks=[Fails(), Ends()])
    assert ended == []


def test_stagnancy_absolute_and_relative():
    absolute = Stagnancy(tol=0.0, patience=1)
    assert [absolute.update(v) for v in (1.0, 2.0, 3.0)] == [False, False, True]
    relative = Stagnancy(tol=0.5, patience=2, relative=True)
    # 1.0 sets the reference; 0.8 and 0.7 are not 50 % below it: stagnant at the 2nd.
    assert [relative.update(v) for v in (1.0, 0.8, 0.7, 0.6)] == [False, False, True, False]


# ------------------------------------------------------------------ partial_fit


def test_gdc_partial_fit_continues_the_lambda_schedule(digits):
    X, y = digits
    clf = GDCClassifier(hidden_layer_sizes=(16,), lambda_init=5.0, lambda_patience=1,
                        lambda_tol=1.0, lambda_decay=0.5, random_state=0)
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        clf.partial_fit(X[:100], y[:100])
    for i in range(6):
        chunk = slice(100 * i, 100 * (i + 1))
        clf.partial_fit(X[chunk], y[chunk], classes=np.arange(10) if i == 0 else None)
        assert clf.n_iter_ == i + 1 and len(clf.lambda_curve_) == i + 1
    # patience 1 with lambda_tol=1: λ halves every second call, across calls
    assert clf.lambda_curve_[:4] == [5.0, 5.0, 2.5, 2.5]
    optimizer = clf._optimizer_
    clf.partial_fit(X[:100], y[:100])
    assert clf._optimizer_ is optimizer and optimizer.state  # Adam's moments continue
    with pytest.raises(ValueError, match="is not the same as on last call"):
        clf.partial_fit(X[:100], y[:100], classes=np.arange(3))


def test_partial_fit_of_one_chunk_equals_one_epoch_of_fit(digits):
    X, y = digits
    kw = dict(hidden_layer_sizes=(16,), random_state=0, schedule="none", shuffle=False)
    a = GDCRegressor(max_iter=1, **kw).fit(X, y.astype(float))
    b = GDCRegressor(**kw).partial_fit(X, y.astype(float))
    np.testing.assert_allclose(a.predict(X), b.predict(X), rtol=1e-6)


def test_rvsm_partial_fit_trains_w_not_the_masked_copy(digits):
    X, y = digits
    clf = RVSMClassifier(hidden_layer_sizes=(16,), lam=1e-4, random_state=0)
    clf.partial_fit(X, y, classes=np.arange(10))
    dense = {k: v.copy() for k, v in clf.dense_weights_.items()}
    clf.partial_fit(X, y)
    assert clf.n_iter_ == 2
    # w kept training from its dense values (not from u, whose zeros would stay zero)
    for name, w in clf.dense_weights_.items():
        assert (w[dense[name] != 0] != dense[name][dense[name] != 0]).any()
        assert np.count_nonzero(w) > np.count_nonzero(clf.sparse_weights_[name])
    reg = RVSMRegressor(hidden_layer_sizes=(8,), random_state=0).partial_fit(X, y.astype(float))
    assert reg.n_iter_ == 1


def test_cpna_has_no_partial_fit_and_says_why():
    assert not hasattr(CPNAClassifier(), "partial_fit")
    with pytest.raises(AttributeError, match="schedule is counted in passes over one training set"):
        CPNAClassifier().partial_fit  # noqa: B018


def test_warm_start_reuses_the_fitted_strategy_and_optimizer(digits):
    X, y = digits
    clf = GDCClassifier(hidden_layer_sizes=(16,), max_iter=3, warm_start=True, random_state=0)
    clf.fit(X, y)
    strategy, optimizer = clf._strategy_, clf._optimizer_
    clf.set_params(learning_rate_init=5e-4).fit(X, y)
    assert clf._strategy_ is strategy and clf._optimizer_ is optimizer
    assert optimizer.param_groups[0]["lr"] == 5e-4  # the new hyperparameter applies
    import pickle

    loaded = pickle.loads(pickle.dumps(clf))
    assert not hasattr(loaded, "_optimizer_")  # tied to module_ and its device
    loaded.fit(X, y)  # continues from the fitted λ and stage
    assert loaded.n_iter_ == 9


def test_dask_ml_incremental_trains_on_a_multi_chunk_dask_array(digits):
    da = pytest.importorskip("dask.array")
    dask_ml = pytest.importorskip("dask_ml.wrappers")
    X, y = digits
    Xd = da.from_array(X, chunks=(150, X.shape[1]))
    yd = da.from_array(y, chunks=150)
    kw = dict(hidden_layer_sizes=(32,), random_state=0)
    inc = dask_ml.Incremental(GDCClassifier(**kw), shuffle_blocks=False)
    import dask

    with dask.config.set(scheduler="synchronous"):
        for _ in range(3):
            inc.partial_fit(Xd, yd, classes=np.arange(10))
    est = inc.estimator_
    assert Xd.numblocks[0] == 4 and est.n_iter_ == 12  # one call per chunk, 3 passes
    by_hand = GDCClassifier(**kw)
    for _ in range(3):
        for i in range(0, 600, 150):
            by_hand.partial_fit(X[i : i + 150], y[i : i + 150], classes=np.arange(10))
    np.testing.assert_array_equal(est.predict_proba(X), by_hand.predict_proba(X))
    assert est.loss_curve_ == by_hand.loss_curve_


def test_partial_fit_on_memmap_chunks_shares_their_memory(tmp_path, recwarn):
    from skconvex._device import to_tensor

    rng = np.random.default_rng(0)
    np.save(tmp_path / "X.npy", rng.standard_normal((300, 5)).astype(np.float32))
    X = np.load(tmp_path / "X.npy", mmap_mode="r")
    t = to_tensor(X[:100], torch.float32, torch.device("cpu"))
    assert t.data_ptr() == X[:100].ctypes.data  # no copy of a read-only chunk
    y = X[:, 0] * 2.0
    reg = GDCRegressor(hidden_layer_sizes=(8,), random_state=0)
    for start in range(0, 300, 100):
        reg.partial_fit(X[start : start + 100], y[start : start + 100])
    assert reg.n_iter_ == 3 and not [w for w in recwarn if "not writable" in str(w.message)]

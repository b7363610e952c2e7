"""RVSM: the splitting strategy in the loop and the two estimators."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

from skconvex import RVSMClassifier, RVSMRegressor
from skconvex.datasets import make_no_overlap_regression
from skconvex.nn import masks
from skconvex.theory import angle
from skconvex.thresholds import threshold


@pytest.fixture(autouse=True)
def quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


@pytest.fixture(scope="module")
def no_overlap():
    return make_no_overlap_regression(2000, n_patches=4, patch_size=8, random_state=0, return_coef=True)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:600] / 16, y[:600]


@pytest.mark.parametrize("penalty", ["l0", "l1", "tl1"])
def test_u_is_the_threshold_of_w_and_predictions_use_u(digits, penalty):
    X, y = digits
    clf = RVSMClassifier(penalty=penalty, lam=1e-4, hidden_layer_sizes=(32,), max_iter=10, random_state=0)
    clf.fit(X, y)
    for name, w in clf.dense_weights_.items():
        expected = threshold(torch.from_numpy(w), penalty, 1e-4, 1e-2, 1.0).numpy()
        np.testing.assert_array_equal(clf.sparse_weights_[name], expected)
        weight = dict(clf.module_.named_parameters())[name].detach().numpy()
        np.testing.assert_array_equal(weight, clf.sparse_weights_[name])
    module_masks = masks.get_masks(clf.module_)
    for name, u in clf.sparse_weights_.items():
        np.testing.assert_array_equal(module_masks[name].numpy(), u != 0)
    zeros = sum(int((u == 0).sum()) for u in clf.sparse_weights_.values())
    total = sum(u.size for u in clf.sparse_weights_.values())
    assert clf.sparsity_ == pytest.approx(zeros / total) and clf.sparsity_ > 0
    assert len(clf.lagrangian_curve_) == clf.n_iter_ and np.all(np.isfinite(clf.lagrangian_curve_))


def test_dense_predictions_with_use_sparse_weights_false(digits):
    X, y = digits
    kw = dict(lam=1e-4, hidden_layer_sizes=(32,), max_iter=5, random_state=0)
    dense = RVSMClassifier(use_sparse_weights=False, **kw).fit(X, y)
    for name, w in dense.dense_weights_.items():
        np.testing.assert_array_equal(dict(dense.module_.named_parameters())[name].detach().numpy(), w)
    assert masks.get_masks(dense.module_) == {}
    sparse = RVSMClassifier(use_sparse_weights=True, **kw).fit(X, y)
    assert dense.sparsity_ == sparse.sparsity_


def test_larger_lambda_gives_a_sparser_u(digits):
    X, y = digits
    kw = dict(penalty="l1", hidden_layer_sizes=(32,), max_iter=10, random_state=0)
    small = RVSMClassifier(lam=1e-5, **kw).fit(X, y)
    large = RVSMClassifier(lam=1e-3, **kw).fit(X, y)
    assert large.sparsity_ > small.sparsity_


def test_lagrangian_is_f_plus_penalty_plus_coupling(digits):
    X, y = digits
    clf = RVSMClassifier(penalty="l1", lam=1e-3, hidden_layer_sizes=(16,), max_iter=3, random_state=0).fit(X, y)
    coupling = sum(((clf.dense_weights_[n] - u) ** 2).sum() for n, u in clf.sparse_weights_.items())
    l1 = sum(np.abs(u).sum() for u in clf.sparse_weights_.values())
    expected = clf.training_error_curve_[-1] + 1e-3 * l1 + 0.5 * 1e-2 * coupling
    assert clf.lagrangian_curve_[-1] == pytest.approx(expected, rel=1e-5)


def test_recovers_the_no_overlap_filter(no_overlap):
    X, y, w_star = no_overlap
    reg = RVSMRegressor(
        architecture="no_overlap_cnn", patch_size=8, penalty="l0", lam=1e-4, max_iter=40, random_state=0
    ).fit(X, y, w_true=w_star)
    w = reg.dense_weights_["conv.weight"][0]
    u = reg.sparse_weights_["conv.weight"][0]
    assert angle(w, w_star) < 0.1 and reg.angle_curve_[-1] == pytest.approx(angle(w, w_star))
    assert reg.angle_curve_[-1] < reg.angle_curve_[0]
    # u zeroes exactly the entries below the ℓ0 threshold sqrt(2λ/β) ≈ 0.14.
    np.testing.assert_array_equal(u == 0, np.abs(w) <= np.sqrt(2e-4 / 1e-2))
    assert (u == 0).any() and reg.score(X, y) > 0.95


def test_regressor_keeps_raw_targets(no_overlap):
    X, y, _ = no_overlap
    reg = RVSMRegressor(architecture="no_overlap_cnn", patch_size=8, max_iter=2, random_state=0).fit(X, y)
    assert reg._y_center.tolist() == [0.0] and reg._y_half_range.tolist() == [1.0]


def test_w_true_needs_the_no_overlap_network(digits):
    X, y = digits
    with pytest.raises(ValueError, match="no_overlap_cnn"):
        RVSMRegressor(max_iter=1).fit(X, y.astype(float), w_true=np.ones(8))


def test_same_random_state_same_model_and_pickle(digits):
    X, y = digits
    kw = dict(lam=1e-4, hidden_layer_sizes=(16,), max_iter=3, random_state=0)
    a = RVSMClassifier(**kw).fit(X, y)
    b = RVSMClassifier(**kw).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    loaded = pickle.loads(pickle.dumps(a))
    np.testing.assert_array_equal(loaded.predict_proba(X), a.predict_proba(X))


def _reference_splitting(X, Y, w0, b0, *, admm, lam, beta, lr, steps, penalty="l1", reset=False):
    """Algorithm 1 / eq. 10 by hand: full-batch plain gradient steps on a linear model."""
    w, b = w0.clone().requires_grad_(True), b0.clone().requires_grad_(True)
    u = threshold(w.detach(), penalty, lam, beta, 1.0)
    z = torch.zeros_like(w)
    for step in range(steps):
        if reset and step > 0:  # one step per epoch: w = u before every epoch but the first
            with torch.no_grad():
                w.copy_(u)
        f = (((X @ w.T + b) - Y) ** 2).sum(1).mean()
        coupling = 0.5 * beta * ((w - u) ** 2).sum() + (z * (w - u)).sum()
        gw, gb = torch.autograd.grad(f + coupling, (w, b))
        with torch.no_grad():
            w -= lr * gw
            b -= lr * gb
            if admm:
                u = threshold(w + z / beta, penalty, lam, beta, 1.0)
                z = z + beta * (w - u)
            else:
                u = threshold(w.detach(), penalty, lam, beta, 1.0)
    return w.detach(), u, z


@pytest.mark.parametrize("reset", [False, True])
@pytest.mark.parametrize("admm", [False, True])
def test_splitting_steps_match_the_equations(admm, reset):
    from skconvex.training import ADMMSplitting, RelaxedSplitting, train

    gen = torch.Generator().manual_seed(0)
    X = torch.randn(40, 5, generator=gen, dtype=torch.float64)
    Y = X @ torch.tensor([[1.0, 0.0, -0.5, 0.0, 0.05]], dtype=torch.float64).T
    module = torch.nn.Linear(5, 1).double()
    w0, b0 = module.weight.detach().clone(), module.bias.detach().clone()
    strategy = (ADMMSplitting if admm else RelaxedSplitting)("l1", lam=0.02, beta=0.5, reset_to_sparse=reset)
    train(
        module, lambda out, t: ((out - t) ** 2).sum(1), strategy, X, Y,
        lambda groups: torch.optim.SGD(groups, lr=0.05), max_iter=7, batch_size=40,
        shuffle=False, callbacks=[],
    )
    w, u, z = _reference_splitting(X, Y, w0, b0, admm=admm, lam=0.02, beta=0.5, lr=0.05, steps=7, reset=reset)
    torch.testing.assert_close(module.weight.detach(), w, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(strategy.u[0], u, rtol=1e-12, atol=1e-12)
    if admm:
        torch.testing.assert_close(strategy.z[0], z, rtol=1e-12, atol=1e-12)


def test_admm_closes_the_gap_between_w_and_u(digits):
    X, y = digits
    kw = dict(penalty="l1", lam=1e-4, hidden_layer_sizes=(32,), max_iter=30, random_state=0)
    rvsm = RVSMClassifier(**kw).fit(X, y)
    admm = RVSMClassifier(method="admm", **kw).fit(X, y)
    assert not hasattr(rvsm, "dual_weights_")
    for name, u in admm.sparse_weights_.items():
        # After u = soft(w + z/β, λ/β) and z += β(w − u), z is a subgradient of λ‖u‖₁:
        # λ·sign(u) where u ≠ 0 and within [−λ, λ] where u = 0.
        z = admm.dual_weights_[name]
        np.testing.assert_allclose(z[u != 0], 1e-4 * np.sign(u[u != 0]), rtol=1e-4)
        assert np.all(np.abs(z[u == 0]) <= 1e-4 * (1 + 1e-4))
    assert set(admm.stage_curve_) == {"admm"}

    def gap(est):
        return sum(((est.dense_weights_[n] - u) ** 2).sum() for n, u in est.sparse_weights_.items()) ** 0.5

    # The multiplier pulls w onto u; RVSM keeps a gap (§3.3 of the paper).
    assert gap(admm) < 0.5 * gap(rvsm)


def test_reset_to_sparse_gives_a_sparser_u(digits):
    X, y = digits
    kw = dict(penalty="l0", lam=1e-5, hidden_layer_sizes=(32,), max_iter=10, random_state=0)
    plain = RVSMClassifier(**kw).fit(X, y)
    reset = RVSMClassifier(reset_to_sparse=True, **kw).fit(X, y)
    assert reset.sparsity_ > plain.sparsity_

"""Statistical pruning: z-statistics against hand computations, SP and GSP semantics."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV

from skconvex import GDCClassifier, GDCRegressor, GradualStatisticalPruning, StatisticalPruning
from skconvex.nn import MLP, masks
from skconvex.pruning import z_statistics
from skconvex.pruning._statistical import MIN_VALIDATION_ROWS, _hash_holdout

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

SMALL = dict(hidden_layer_sizes=(12,), max_iter=60, learning_rate_init=0.01, random_state=0)


def _blobs(n=90, n_features=4, n_classes=3, seed=0):
    rng = np.random.RandomState(seed)
    centers = rng.uniform(-1, 1, size=(n_classes, n_features))
    y = np.arange(n) % n_classes
    X = centers[y] + 0.25 * rng.randn(n, n_features)
    return X, y


def _regression(n=80, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.uniform(-1, 1, size=(n, 3))
    y = np.sin(2 * X[:, 0]) + X[:, 1] * X[:, 2] + 0.05 * rng.randn(n)
    return X, y


# ------------------------------------------------------------- z-statistics
def _tiny_net():
    """MLP 2-3-2, tanh hidden, identity output, fixed float64 weights."""
    net = MLP(2, 2, hidden_layer_sizes=(3,), activation="tanh").double()
    with torch.no_grad():
        net.linears[0].weight.copy_(torch.tensor([[0.5, -0.3], [0.2, 0.8], [-0.7, 0.1]]))
        net.linears[0].bias.copy_(torch.tensor([0.1, -0.2, 0.05]))
        net.linears[1].weight.copy_(torch.tensor([[0.6, -0.4, 0.3], [-0.2, 0.9, 0.5]]))
        net.linears[1].bias.copy_(torch.tensor([0.0, 0.1]))
    X = np.array([[0.2, -0.5], [1.0, 0.3], [-0.4, 0.9], [0.7, -0.8]])
    T = np.array([[1.0, -1.0], [-1.0, 1.0], [1.0, 1.0], [-1.0, -1.0]])
    return net, X, T


def _hand_z(net, X, T, variance):
    """Eqs. 23–26 written out with numpy for the 2-3-2 tanh network."""
    W1 = net.linears[0].weight.detach().numpy()
    b1 = net.linears[0].bias.detach().numpy()
    W2 = net.linears[1].weight.detach().numpy()
    b2 = net.linears[1].bias.detach().numpy()
    K = len(X)
    H = np.tanh(X @ W1.T + b1)
    F = H @ W2.T + b2
    R = T - F
    P = (R**2).sum() / K  # eq. 25: Q / K
    dW2 = -2.0 / K * R.T @ H  # eq. 26
    dW1 = -2.0 / K * ((R @ W2) * (1 - H**2)).T @ X
    if variance == "paper":
        return {
            "linears.0.weight": np.abs(W1) / np.sqrt(P / dW1**2),
            "linears.1.weight": np.abs(W2) / np.sqrt(P / dW2**2),
        }
    # Σ_k Σ_o (∂F_ko/∂w)²: ∂F_ko/∂W2_oj = H_kj; ∂F_ko/∂W1_jl = W2_oj (1 − H_kj²) X_kl
    D2 = np.tile((H**2).sum(axis=0), (2, 1))
    D1 = (W2**2).sum(axis=0)[:, None] * ((1 - H**2) ** 2).T @ X**2
    sigma2 = P / 2  # two outputs
    return {
        "linears.0.weight": np.abs(W1) / np.sqrt(sigma2 / D1),
        "linears.1.weight": np.abs(W2) / np.sqrt(sigma2 / D2),
    }


@pytest.mark.parametrize("variance", ["paper", "gauss_newton"])
def test_z_statistics_equal_hand_computation(variance):
    net, X, T = _tiny_net()
    z = z_statistics(net, torch.from_numpy(X), torch.from_numpy(T), variance=variance)
    expected = _hand_z(net, X, T, variance)
    assert set(z) == set(expected)  # weights only: biases are not tested by default
    for name in expected:
        np.testing.assert_allclose(z[name].numpy(), expected[name], rtol=1e-12)


def test_z_statistics_batches_weights_and_biases():
    net, X, T = _tiny_net()
    Xt, Tt = torch.from_numpy(X), torch.from_numpy(T)
    whole = z_statistics(net, Xt, Tt, variance="gauss_newton", include_bias=True)
    assert "linears.0.bias" in whole and "linears.1.bias" in whole
    for variance in ("paper", "gauss_newton"):
        ref = z_statistics(net, Xt, Tt, variance=variance)
        batched = z_statistics(net, Xt, Tt, variance=variance, batch_size=1)
        for name in ref:
            np.testing.assert_allclose(batched[name].numpy(), ref[name].numpy(), rtol=1e-12)
    # A weight of 2 is the row written twice.
    w = torch.tensor([2.0, 1.0, 1.0, 3.0], dtype=torch.float64)
    idx = torch.tensor([0, 0, 1, 2, 3, 3, 3])
    for variance in ("paper", "gauss_newton"):
        weighted = z_statistics(net, Xt, Tt, variance=variance, sample_weight=w)
        repeated = z_statistics(net, Xt[idx], Tt[idx], variance=variance)
        for name in weighted:
            np.testing.assert_allclose(weighted[name].numpy(), repeated[name].numpy(), rtol=1e-12)


def test_gauss_newton_z_is_the_wald_statistic_of_least_squares():
    # A linear model with orthogonal columns: (JᵀJ) is diagonal, so the diagonal
    # Gauss–Newton z is exactly |ŵ| / sqrt(σ̂² (XᵀX)⁻¹_ii) of least squares.
    X = np.array([[1.0, 1.0], [1.0, -1.0], [-1.0, 1.0], [-1.0, -1.0]]) * [1.0, 2.0]
    y = np.array([1.3, 0.2, -0.4, -1.6])
    w_hat = np.linalg.lstsq(X, y, rcond=None)[0]
    net = torch.nn.Linear(2, 1, bias=False).double()
    with torch.no_grad():
        net.weight.copy_(torch.from_numpy(w_hat[None]))
    z = z_statistics(net, torch.from_numpy(X), torch.from_numpy(y[:, None]), variance="gauss_newton")
    sigma2 = ((y - X @ w_hat) ** 2).mean()
    wald = np.abs(w_hat) / np.sqrt(sigma2 * np.diag(np.linalg.inv(X.T @ X)))
    np.testing.assert_allclose(z["weight"].numpy().ravel(), wald, rtol=1e-12)
    # The paper's statistic is proportional to ∂P/∂w, which vanishes at the fit.
    z_paper = z_statistics(net, torch.from_numpy(X), torch.from_numpy(y[:, None]))
    assert float(z_paper["weight"].abs().max()) < 1e-12


def test_exact_fit_prunes_nothing_and_warns():
    net = torch.nn.Linear(1, 1, bias=False).double()
    with torch.no_grad():
        net.weight.fill_(2.0)
    X = torch.tensor([[1.0], [-3.0]], dtype=torch.float64)
    with pytest.warns(RuntimeWarning, match="fitted exactly"):
        z = z_statistics(net, X, 2 * X)
    assert float(z["weight"]) == np.inf


def test_z_statistics_reject_bad_variance_and_modules_without_layers():
    net, X, T = _tiny_net()
    with pytest.raises(ValueError, match="variance"):
        z_statistics(net, torch.from_numpy(X), torch.from_numpy(T), variance="fisher")
    with pytest.raises(ValueError, match="no Linear or Conv"):
        z_statistics(torch.nn.Tanh(), torch.from_numpy(X), torch.from_numpy(T))


# ----------------------------------------------------- StatisticalPruning
def _pruned_entries_are_zero(estimator):
    module = estimator.module_
    found = False
    for param, mask in masks.masked_parameters(module):
        found = True
        assert torch.all(param[~mask] == 0)
    assert found


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_sp_pruned_weights_stay_zero_through_retraining(solver):
    X, y = _blobs()
    sp = StatisticalPruning(
        GDCClassifier(**SMALL), z_crit=1.0, variance="gauss_newton", retrain_epochs=5,
        retrain_solver=solver, retrain_learning_rate=0.05, random_state=0,
    ).fit(X, y)
    assert 0.1 < sp.sparsity_ < 0.9
    _pruned_entries_are_zero(sp.estimator_)
    # masks_ are the estimator's masks, and the pruned entries are what SP reports.
    live = masks.get_masks(sp.estimator_.module_)
    assert set(sp.masks_) == set(live) == {"linears.0.weight", "linears.1.weight"}
    n_pruned = sum(int((~m).sum()) for m in sp.masks_.values())
    n_total = sum(m.size for m in sp.masks_.values())
    assert sp.sparsity_ == pytest.approx(n_pruned / n_total)
    # ... and retraining moved the kept weights (lr 0.05, 5 epochs).
    assert sp.pruning_path_["training_loss"][0] > 0
    # warm_start refits of the pruned estimator keep them at zero too.
    inner = sp.estimator_
    before = {n: m.clone() for n, m in masks.get_masks(inner.module_).items()}
    inner.set_params(warm_start=True, max_iter=5, solver="sgd", momentum=0.9)
    inner.fit(X, y)
    _pruned_entries_are_zero(inner)
    after = masks.get_masks(inner.module_)
    assert all(torch.equal(before[n], after[n]) for n in before)


def test_sp_path_attributes_and_monotone_sparsity_in_z():
    X, y = _regression()
    base = GDCRegressor(**SMALL).fit(X, y)
    sparsities = []
    for z in (0.5, 2.0, 8.0):
        sp = StatisticalPruning(base, z_crit=z, variance="gauss_newton", prefit=True,
                                retrain_epochs=0).fit(X, y)
        assert sp.best_z_ == z
        assert sp.pruning_path_["z_crit"].tolist() == [z]
        assert np.isnan(sp.pruning_path_["validation_score"][0])
        sparsities.append(sp.sparsity_)
    assert sparsities[0] < sparsities[1] < sparsities[2]
    assert not hasattr(sp, "decision_function") and not hasattr(sp, "predict_proba")


def test_prefit_leaves_the_given_estimator_untouched():
    X, y = _blobs()
    fitted = GDCClassifier(**SMALL).fit(X, y)
    state = {k: v.clone() for k, v in fitted.module_.state_dict().items()}
    pred = fitted.predict_proba(X)
    sp = StatisticalPruning(fitted, z_crit=2.0, variance="gauss_newton", prefit=True,
                            retrain_epochs=2, retrain_learning_rate=0.05).fit(X, y)
    assert sp.estimator_ is not fitted and sp.sparsity_ > 0
    assert fitted.module_.state_dict().keys() == state.keys()  # no mask buffers added
    assert all(torch.equal(fitted.module_.state_dict()[k], v) for k, v in state.items())
    np.testing.assert_array_equal(fitted.predict_proba(X), pred)
    with pytest.raises(Exception, match="not fitted"):
        StatisticalPruning(GDCClassifier(), prefit=True).fit(X, y)


def test_pickle_round_trip_keeps_masks_and_predictions():
    X, y = _blobs()
    sp = StatisticalPruning(GDCClassifier(**SMALL), z_crit=1.5, variance="gauss_newton",
                            retrain_epochs=2, random_state=0).fit(X, y)
    loaded = pickle.loads(pickle.dumps(sp))
    np.testing.assert_array_equal(loaded.predict_proba(X), sp.predict_proba(X))
    _pruned_entries_are_zero(loaded.estimator_)
    for name, mask in masks.get_masks(loaded.estimator_.module_).items():
        np.testing.assert_array_equal(mask.numpy(), sp.masks_[name])
    # Training the reloaded estimator further keeps the pruned weights at zero.
    inner = loaded.estimator_.set_params(warm_start=True, max_iter=3)
    inner.fit(X, y)
    _pruned_entries_are_zero(inner)


def test_delegation_and_errors():
    X, y = _blobs()
    labels = np.array(["a", "b", "c"])[y]
    sp = StatisticalPruning(GDCClassifier(**SMALL), z_crit=0.5, variance="gauss_newton",
                            retrain_epochs=1).fit(X, labels)
    assert sp.classes_.tolist() == ["a", "b", "c"]
    assert sp.n_features_in_ == X.shape[1]
    np.testing.assert_array_equal(sp.predict(X), sp.estimator_.predict(X))
    np.testing.assert_array_equal(sp.decision_function(X), sp.estimator_.decision_function(X))
    assert sp.score(X, labels) == sp.estimator_.score(X, labels)
    with pytest.raises(TypeError, match="prunes skconvex estimators"):
        StatisticalPruning(LogisticRegression()).fit(X, y)


def test_lenet5_convolutions_are_pruned_and_c3_table_is_not_counted():
    rng = np.random.RandomState(0)
    X = rng.rand(40, 1, 28, 28)
    y = np.arange(40) % 2
    net = GDCClassifier(module="lenet5", max_iter=2, batch_size=20, random_state=0).fit(X, y)
    # 40 random images carry little signal: z is of order 0.01 in every layer.
    sp = StatisticalPruning(net, z_crit=0.01, variance="gauss_newton", retrain_epochs=1,
                            prefit=True, random_state=0).fit(X, y)
    layers = sp.layer_sparsity_
    assert set(layers) == {"c1.weight", "c3.weight", "c5.weight", "f6.weight", "output.weight"}
    assert all(0 < s < 1 for s in layers.values())
    c3 = sp.estimator_.module_.c3
    table = c3.connection_mask.bool()
    assert torch.all(~c3.weight_mask[~table])  # disconnected maps stay disconnected
    kept = int(c3.weight_mask.sum())
    assert layers["c3.weight"] == pytest.approx(1 - kept / (60 * 25))
    _pruned_entries_are_zero(sp.estimator_)


# --------------------------------------------- GradualStatisticalPruning
def test_gsp_follows_algorithm_3():
    X, y = _blobs(n=150, seed=1)
    gsp = GradualStatisticalPruning(
        GDCClassifier(**SMALL), z_start=0.5, z_max=4.0, z_step=0.5, retrain_epochs=3,
        retrain_learning_rate=0.05, variance="gauss_newton", validation_fraction=0.3,
        random_state=0,
    ).fit(X, y)
    path = gsp.pruning_path_
    assert path["z_crit"].tolist() == [0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0]
    # A candidate replaces the kept network only when strictly better on validation.
    best = gsp.initial_validation_score_
    for score, accepted in zip(path["validation_score"], path["accepted"]):
        assert accepted == (score > best)
        best = max(best, score)
    assert gsp.best_validation_score_ == best
    if path["accepted"].any():
        last = np.flatnonzero(path["accepted"])[-1]
        assert gsp.best_z_ == path["z_crit"][last]
        assert gsp.sparsity_ == pytest.approx(path["sparsity"][last])
    else:
        assert gsp.best_z_ is None and gsp.sparsity_ == 0.0
    _pruned_entries_are_zero(gsp.estimator_)


def test_gsp_accept_not_worse_prunes_on_ties():
    X, y = _blobs(n=150, seed=1)
    common = dict(z_start=0.5, z_max=3.0, z_step=0.5, retrain_epochs=2,
                  retrain_learning_rate=0.05, variance="gauss_newton", validation_fraction=0.3,
                  random_state=0)
    strict = GradualStatisticalPruning(GDCClassifier(**SMALL), **common).fit(X, y)
    loose = GradualStatisticalPruning(GDCClassifier(**SMALL), accept="not_worse", **common).fit(X, y)
    best = loose.initial_validation_score_
    for score, accepted in zip(loose.pruning_path_["validation_score"], loose.pruning_path_["accepted"]):
        assert accepted == (score >= best)
        best = max(best, score) if accepted else best
    assert loose.best_validation_score_ >= strict.initial_validation_score_


def test_gsp_target_score_stops_and_validation_data_can_be_passed():
    X, y = _blobs(n=150, seed=1)
    X_val, y_val = _blobs(n=60, seed=2)
    common = dict(z_start=0.5, z_max=3.0, z_step=0.5, retrain_epochs=2, variance="gauss_newton",
                  random_state=0)
    gsp = GradualStatisticalPruning(GDCClassifier(**SMALL), target_score=0.0, **common)
    gsp.fit(X, y, X_val=X_val, y_val=y_val)
    assert len(gsp.pruning_path_["z_crit"]) == 0  # the unpruned net already meets it
    assert gsp.best_z_ is None and gsp.sparsity_ == 0.0
    full = GradualStatisticalPruning(GDCClassifier(**SMALL), **common).fit(
        X, y, X_val=X_val, y_val=y_val
    )
    assert len(full.pruning_path_["z_crit"]) == 6
    # With X_val given, all of X trains the inner estimator.
    alone = GDCClassifier(**SMALL).fit(X, y)
    inner = GradualStatisticalPruning(GDCClassifier(**SMALL), prefit=False, **common)
    inner.fit(X, y, X_val=X_val, y_val=y_val)
    assert inner.initial_validation_score_ == alone.score(X_val, y_val)
    with pytest.raises(ValueError, match="both X_val and y_val"):
        gsp.fit(X, y, X_val=X_val)


def test_gsp_split_is_stratified_and_reproducible():
    X, y = _blobs(n=120)
    make = lambda: GradualStatisticalPruning(  # noqa: E731
        GDCClassifier(**SMALL), z_start=1.0, z_max=2.0, z_step=1.0, retrain_epochs=2,
        variance="gauss_newton", random_state=3,
    )
    a, b = make().fit(X, y), make().fit(X, y)
    for key in a.pruning_path_:
        np.testing.assert_array_equal(a.pruning_path_[key], b.pruning_path_[key])
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    # Every class keeps ceil(0.1 · 40) = 4 of its 40 rows for validation.
    held = _hash_holdout(X, y, None, 0.1, salt=5, stratify=True)
    assert np.bincount(y[held]).tolist() == [4, 4, 4]



def test_holdout_is_a_function_of_the_data():
    # Order, repetition and weights do not change which rows are held out.
    X, y = _blobs(n=60)
    held = _hash_holdout(X, y, None, 0.2, salt=1, stratify=True)
    perm = np.random.RandomState(0).permutation(len(y))
    np.testing.assert_array_equal(_hash_holdout(X[perm], y[perm], None, 0.2, 1, True), held[perm])
    w = np.arange(len(y)) % 4  # weights 0..3: removed, once, twice, three times
    weighted = _hash_holdout(X, y, w.astype(float), 0.2, salt=1, stratify=True)
    repeated = _hash_holdout(X.repeat(w, axis=0), y.repeat(w), None, 0.2, salt=1, stratify=True)
    np.testing.assert_array_equal(repeated, weighted.repeat(w))
    # Copies of a row land on the same side; another salt gives another split.
    doubled = _hash_holdout(np.vstack([X, X]), np.hstack([y, y]), None, 0.2, 1, True)
    np.testing.assert_array_equal(doubled[:60], doubled[60:])
    np.testing.assert_array_equal(doubled[:60], held)  # the same distinct rows: the same split
    assert not np.array_equal(_hash_holdout(X, y, None, 0.2, salt=2, stratify=True), held)


def test_holdout_small_data_rule():
    # Each class keeps at least one row for training; below MIN_VALIDATION_ROWS
    # distinct held-out rows there is no hold-out (None).
    assert MIN_VALIDATION_ROWS == 2
    X, y = _blobs(n=6, n_classes=3)  # two rows per class: one held out of each
    held = _hash_holdout(X, y, None, 0.1, salt=0, stratify=True)
    assert np.bincount(y[held]).tolist() == [1, 1, 1]
    assert _hash_holdout(X[:3], y[:3], None, 0.5, salt=0, stratify=True) is None  # one row per class
    Xr, yr = _regression(n=11)
    assert _hash_holdout(Xr, yr, None, 0.1, salt=0, stratify=False).sum() == 2  # ceil(1.1)
    assert _hash_holdout(Xr[:10], yr[:10], None, 0.1, salt=0, stratify=False) is None


def test_gsp_small_data_warns_and_scores_on_the_training_data():
    Xr, yr = _regression(n=10)
    common = dict(z_start=1.0, z_max=2.0, z_step=1.0, retrain_epochs=1, random_state=0)
    with pytest.warns(UserWarning, match="fewer than 2 distinct rows.*training data"):
        small = GradualStatisticalPruning(GDCRegressor(**SMALL), **common).fit(Xr, yr)
    same = GradualStatisticalPruning(GDCRegressor(**SMALL), validation_fraction=None, **common)
    same.fit(Xr, yr)
    assert small.initial_validation_score_ == same.initial_validation_score_
    np.testing.assert_array_equal(small.predict(Xr), same.predict(Xr))
    Xr, yr = _regression(n=11)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        GradualStatisticalPruning(GDCRegressor(**SMALL), **common).fit(Xr, yr)
    assert not any("distinct rows" in str(w.message) for w in record)


BAD_INPUTS = {
    "nan": (lambda X, y: (np.where(np.eye(*X.shape) > 0, np.nan, X), y), "Input X contains NaN"),
    "inf": (lambda X, y: (np.where(np.eye(*X.shape) > 0, np.inf, X), y), "Input X contains infinity"),
    "y=None": (lambda X, y: (X, None), "requires y to be passed, but the target y is None"),
    "complex": (lambda X, y: (X + 1j, y), "Complex data not supported"),
    "one label": (lambda X, y: (X, np.zeros_like(y)), "only one class"),
    "continuous": (lambda X, y: (X, X[:, 0]), "Unknown label type"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
@pytest.mark.parametrize("n", [3, 60])
def test_gsp_validates_before_the_split(case, n):
    # With the default hold-out: 3 rows could not be split at all, and 60 rows split
    # fine; either way the error is scikit-learn's and nothing is fitted.
    corrupt, message = BAD_INPUTS[case]
    X, y = corrupt(*_blobs(n=n))
    gsp = GradualStatisticalPruning(GDCClassifier(**SMALL), random_state=0)
    with pytest.raises(ValueError, match=message):
        gsp.fit(X, y)
    assert not hasattr(gsp, "estimator_")


def test_random_state_seeds_an_unseeded_inner_estimator():
    X, y = _blobs()
    unseeded = dict(SMALL, random_state=None)
    a = StatisticalPruning(GDCClassifier(**unseeded), retrain_epochs=2, random_state=0).fit(X, y)
    b = StatisticalPruning(GDCClassifier(**unseeded), retrain_epochs=2, random_state=0).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert isinstance(a.estimator_.random_state, int)
    assert a.estimator.random_state is None  # the parameter itself is not changed
    # An inner random_state the user set is kept.
    c = StatisticalPruning(GDCClassifier(**SMALL), retrain_epochs=2, random_state=1).fit(X, y)
    assert c.estimator_.random_state == 0

def test_grid_search_tunes_lambda_and_z_together():
    X, y = _blobs(n=90)
    gsp = GradualStatisticalPruning(
        GDCClassifier(hidden_layer_sizes=(8,), max_iter=20, learning_rate_init=0.01, random_state=0),
        z_start=0.5, z_max=1.5, retrain_epochs=1, variance="gauss_newton", random_state=0,
    )
    grid = {"z_step": [0.5, 1.0], "estimator__lambda_init": [10.0, 100.0]}
    search = GridSearchCV(gsp, grid, cv=2).fit(X, y)
    assert len(search.cv_results_["params"]) == 4
    assert search.best_params_["z_step"] in (0.5, 1.0)
    assert search.best_estimator_.estimator_.get_params()["lambda_init"] in (10.0, 100.0)
    assert search.score(X, y) == search.best_estimator_.score(X, y)
    assert clone(gsp).get_params()["estimator__lambda_init"] == "auto"


def test_gsp_regressor_and_interrupt_keeps_best(monkeypatch):
    X, y = _regression()
    gsp = GradualStatisticalPruning(GDCRegressor(**SMALL), z_start=0.5, z_max=2.0, z_step=0.5,
                                    retrain_epochs=2, variance="gauss_newton", random_state=0)
    gsp.fit(X, y)
    assert gsp.best_validation_score_ >= gsp.initial_validation_score_
    assert gsp.predict(X).shape == (len(X),)

    # Ctrl-C during the third retraining: the estimator stays usable, with the path so far.
    calls = {"n": 0}
    original = GDCRegressor._retrain

    def interrupted(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return original(self, *args, **kwargs)

    monkeypatch.setattr(GDCRegressor, "_retrain", interrupted)
    with pytest.warns(UserWarning, match="interrupted after 2 of 4"):
        gsp.fit(X, y)
    assert len(gsp.pruning_path_["z_crit"]) == 2
    assert np.isfinite(gsp.predict(X)).all()


def test_meta_estimators_ignore_convergence_noise():
    # The inner fit's ConvergenceWarning surfaces unchanged (nothing is swallowed).
    X, y = _blobs()
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        StatisticalPruning(GDCClassifier(hidden_layer_sizes=(4,), max_iter=2, random_state=0),
                           retrain_epochs=0, variance="gauss_newton").fit(X, y)
    assert any(issubclass(w.category, ConvergenceWarning) for w in record)


class _SharedLayer(torch.nn.Module):
    """One Linear called twice in a forward pass (weight sharing)."""

    def __init__(self):
        super().__init__()
        self.inner = torch.nn.Linear(4, 4)
        self.out = torch.nn.Linear(4, 2)

    def forward(self, x):
        return self.out(torch.tanh(self.inner(torch.tanh(self.inner(x)))))


@pytest.mark.parametrize(
    "make, n_features",
    [
        (lambda: MLP(20, 3, (7, 5), activation="tanh"), 20),
        (lambda: __import__("skconvex").nn.LeNet5(), 784),
        (
            lambda: torch.nn.Sequential(
                torch.nn.Unflatten(1, (2, 10)), torch.nn.Conv1d(2, 3, 3, padding=1, stride=2),
                torch.nn.Flatten(), torch.nn.Linear(15, 2),
            ),
            20,
        ),
        (_SharedLayer, 4),
    ],
    ids=["mlp", "lenet5", "conv1d", "shared-layer"],
)
def test_gauss_newton_diagonal_equals_per_sample_autograd(make, n_features):
    from skconvex.pruning.zstatistics import gauss_newton_diagonal

    torch.manual_seed(0)
    net = make().double().eval()
    X = torch.rand(5, n_features, dtype=torch.float64)
    w = torch.rand(5, dtype=torch.float64)
    params = masks.prunable_parameters(net, include_bias=True)
    softmax = lambda out: torch.softmax(out, dim=1)  # noqa: E731
    D = gauss_newton_diagonal(net, X, params, transform=softmax, sample_weight=w, batch_size=2)
    expected = {n: torch.zeros_like(p) for n, p in params.items()}
    for k in range(len(X)):
        out = softmax(net(X[k : k + 1]))[0]
        for o in range(out.numel()):
            grads = torch.autograd.grad(out[o], list(params.values()), retain_graph=True)
            for name, g in zip(params, grads):
                expected[name] += w[k] * g**2
    for name in params:
        torch.testing.assert_close(D[name], expected[name], rtol=1e-10, atol=0)


class _InplaceReLU(torch.nn.Module):
    """A user module that overwrites a layer's output in place."""

    def __init__(self):
        super().__init__()
        self.a = torch.nn.Linear(3, 4)
        self.b = torch.nn.Linear(4, 2)

    def forward(self, x):
        return self.b(torch.relu_(self.a(x)))


def test_gauss_newton_survives_in_place_ops_downstream_of_a_layer():
    from skconvex.pruning.zstatistics import gauss_newton_diagonal

    torch.manual_seed(0)
    net = _InplaceReLU().double().eval()
    X = torch.randn(6, 3, dtype=torch.float64)
    params = masks.prunable_parameters(net)
    D = gauss_newton_diagonal(net, X, params)
    expected = {n: torch.zeros_like(p) for n, p in params.items()}
    for k in range(len(X)):
        out = net(X[k : k + 1])[0]
        for o in range(out.numel()):
            for name, g in zip(params, torch.autograd.grad(out[o], list(params.values()), retain_graph=True)):
                expected[name] += g**2
    for name in params:
        torch.testing.assert_close(D[name], expected[name], rtol=1e-10, atol=0)


def test_non_finite_outputs_are_an_error():
    net, X, T = _tiny_net()
    X = X.copy()
    X[0, 0] = np.nan
    with pytest.raises(ValueError, match="not finite"):
        z_statistics(net, torch.from_numpy(X), torch.from_numpy(T))


def test_prefit_does_not_touch_the_global_torch_generator():
    X, y = _blobs()
    fitted = GDCClassifier(**SMALL).fit(X, y)
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    StatisticalPruning(fitted, prefit=True, retrain_epochs=0, variance="gauss_newton").fit(X, y)
    torch.testing.assert_close(torch.rand(3), expected)


def test_float_buffers_named_like_masks_are_not_masks():
    layer = torch.nn.Linear(2, 2)
    layer.register_buffer("weight_mask", torch.full((2, 2), 0.5))  # a user's soft mask
    assert masks.masked_parameters(layer) == [] and masks.get_masks(layer) == {}


def test_compact_keeps_folded_constants_in_masked_biases():
    torch.manual_seed(0)
    net = MLP(3, 2, hidden_layer_sizes=(3,), activation="tanh").double()
    masks.add_masks(net, include_bias=True)
    keep = torch.ones(3, 3, dtype=torch.bool)
    keep[0] = False  # unit 0 becomes a constant tanh(b_0)
    bias_keep = torch.tensor([True, False])  # output 1's bias is pruned
    masks.prune_(net, {"linears.0.weight": keep, "linears.1.bias": bias_keep})
    small, _ = masks.compact(net)
    x = torch.randn(4, 3, dtype=torch.float64)
    before = net.eval()(x)
    torch.testing.assert_close(small(x), before)
    masks.apply_masks_(small)  # what any retraining does: the function must not change
    torch.testing.assert_close(small(x), before)
    assert small.linears[1].bias_mask.tolist() == [True, True]


# ------------------------------------------- digits: the defaults prune (issue 16)
@pytest.fixture(scope="module")
def digits():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    return train_test_split(X / 8.0 - 1.0, y, test_size=0.25, stratify=y, random_state=0)


def _digits_net(**params):
    return GDCClassifier(hidden_layer_sizes=(64,), max_iter=15, random_state=0, **params)


def test_sp_defaults_prune_digits_without_losing_accuracy(digits):
    X_tr, X_te, y_tr, y_te = digits
    dense = _digits_net().fit(X_tr, y_tr)
    sp = StatisticalPruning(_digits_net(), random_state=0).fit(X_tr, y_tr)
    # Measured: 41.9 % of the weights pruned at z_c = 1.5; held-out accuracy 0.8911 -> 0.9022.
    assert sp.sparsity_ > 0.4
    assert sp.score(X_te, y_te) >= dense.score(X_te, y_te)


def test_gsp_defaults_prune_digits_without_losing_validation_accuracy(digits):
    X_tr, X_te, y_tr, y_te = digits
    gsp = GradualStatisticalPruning(_digits_net(), retrain_epochs=3, random_state=0).fit(X_tr, y_tr)
    unpruned = clone(gsp).set_params(z_max=0.0).fit(X_tr, y_tr)  # empty grid: same split, no pruning
    assert len(unpruned.pruning_path_["z_crit"]) == 0
    assert unpruned.initial_validation_score_ == gsp.initial_validation_score_
    # Measured: 41.9 % pruned at z_c = 1.3, validation accuracy 0.836 -> 0.886.
    assert gsp.sparsity_ > 0.35
    assert gsp.best_validation_score_ > gsp.initial_validation_score_
    assert gsp.score(X_te, y_te) >= unpruned.score(X_te, y_te)


def test_grid_search_over_z_and_lambda_returns_a_pruned_model(digits):
    X_tr, X_te, y_tr, y_te = digits
    search = GridSearchCV(
        StatisticalPruning(_digits_net(), random_state=0),
        {"z_crit": [1.0, 2.0], "estimator__lambda_init": ["auto", 10.0]}, cv=3,
    ).fit(X_tr, y_tr)
    best = search.best_estimator_
    # Measured: λ₀ "auto" and z_c = 1 win (CV accuracy 0.836; λ₀ = 10 has not decayed
    # in 15 epochs: 0.37), 31.0 % pruned, held-out accuracy 0.9067.
    assert search.best_params_ == {"estimator__lambda_init": "auto", "z_crit": 1.0}
    assert best.sparsity_ > 0.3
    assert best.score(X_te, y_te) > 0.89
    assert search.score(X_te, y_te) == best.score(X_te, y_te)

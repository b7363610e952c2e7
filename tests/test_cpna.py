"""CPNA: make_xor, the FSA schedule, unit normalization, the pruning strategy, the estimator."""

from __future__ import annotations

import math
import pickle
import warnings

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from skconvex import CPNAClassifier
from skconvex.datasets import make_xor
from skconvex.nn import MLP, masks
from skconvex.nn.units import active_units, input_support, normalize_units_, prune_dead_units_
from skconvex.training import ConnectionPruning, MeanLoss, fsa_count, fsa_schedule, train
from skconvex.criteria import cross_entropy_errors

FAST = dict(hidden_layer_sizes=(32,), pretrain_iter=10, prune_iter=10, batch_size=64, random_state=0)


@pytest.fixture(scope="module")
def xor():
    X, y, informative = make_xor(600, n_features=6, n_informative=2, random_state=0, return_informative=True)
    return X, y, informative


# ----------------------------------------------------------------- make_xor
def test_make_xor_rule_and_informative_columns():
    X, y, informative = make_xor(500, n_features=8, n_informative=3, random_state=1, return_informative=True)
    assert X.shape == (500, 8) and y.shape == (500,)
    assert X.min() >= -1 and X.max() <= 1
    assert len(informative) == 3 and np.all(np.diff(informative) > 0)
    np.testing.assert_array_equal(y, (X[:, informative].prod(axis=1) > 0).astype(int))
    assert set(np.unique(y)) == {0, 1}


def test_make_xor_unshuffled_uses_first_columns_and_is_reproducible():
    X, y, informative = make_xor(50, 5, 2, shuffle=False, random_state=3, return_informative=True)
    np.testing.assert_array_equal(informative, [0, 1])
    X2, y2 = make_xor(50, 5, 2, shuffle=False, random_state=3)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)


def test_make_xor_marginals_carry_no_signal():
    # The point of XOR: no single informative feature predicts y.
    X, y, informative = make_xor(20000, 4, 2, random_state=0, return_informative=True)
    for j in informative:
        assert abs(np.corrcoef(X[:, j], y)[0, 1]) < 0.03
    assert abs(y.mean() - 0.5) < 0.02


def test_make_xor_rejects_more_informative_than_features():
    with pytest.raises(ValueError, match="n_informative=4 must be at most n_features=3"):
        make_xor(10, 3, 4)


# ------------------------------------------------------------- FSA schedule
def test_fsa_schedule_matches_the_worked_example():
    # ALGORITHM-NOTES: M = 5000, k = 100, μ = 100, N = 300.
    schedule = fsa_schedule(5000, 100, 300, annealing_rate=100)
    assert (schedule[0], schedule[9], schedule[99]) == (3020, 696, 124)


@pytest.mark.parametrize("M, k, N, mu", [(5000, 100, 300, 100), (61440, 24, 51, 3.0), (17, 16, 4, 100), (2048, 12, 1, 100)])
def test_fsa_schedule_is_monotone_integral_and_hits_k_exactly(M, k, N, mu):
    schedule = fsa_schedule(M, k, N, mu)
    assert schedule.dtype == np.int64 and len(schedule) == N
    assert np.all(np.diff(schedule) <= 0) and schedule[0] <= M
    assert np.all(schedule >= k)
    e = np.arange(1, N + 1)
    np.testing.assert_array_equal(schedule[e >= N / 2], k)
    # The formula itself, truncated.
    expected = np.floor(k + (M - k) * np.maximum(0, (N - 2 * e) / (2 * e * mu + N)))
    np.testing.assert_array_equal(schedule, expected)


def test_fsa_schedule_never_grows_a_layer_below_its_target():
    assert fsa_schedule(10, 20, 5).tolist() == [10] * 5
    assert fsa_count(0, 100, 10, 8) == 100


@pytest.mark.parametrize("args, message", [((10, 2, 0), "n_iter"), ((10, 2, 5, 0.0), "annealing_rate")])
def test_fsa_schedule_validates(args, message):
    with pytest.raises(ValueError, match=message):
        fsa_schedule(*args)


# ----------------------------------------------------------- normalization
@pytest.mark.parametrize("dtype, tol", [(torch.float64, 1e-12), (torch.float32, 1e-6)])
def test_normalization_leaves_predictions_unchanged(dtype, tol):
    torch.manual_seed(0)
    net = MLP(5, 3, hidden_layer_sizes=(7, 6), activation="relu").to(dtype).eval()
    with torch.no_grad():
        for layer in net.linears:
            layer.weight.mul_(torch.rand_like(layer.weight) * 4)  # unequal norms
    masks.add_masks(net)
    masks.prune_(net, {"linears.0.weight": torch.rand(7, 5) > 0.3})
    x = torch.randn(64, 5, dtype=dtype)
    before = net(x)
    scales = normalize_units_(net)
    torch.testing.assert_close(net(x), before, atol=tol, rtol=tol)
    for layer in net.linears[:-1]:
        norms = torch.linalg.vector_norm(layer.weight, dim=1)
        has_input = layer.weight_mask.any(dim=1)
        torch.testing.assert_close(norms[has_input], torch.ones_like(norms[has_input]))
    assert [len(c) for c in scales] == [7, 6]
    masked = net.linears[0].weight[~net.linears[0].weight_mask]
    assert bool((masked == 0).all())


def test_normalizing_a_fitted_cpna_keeps_its_probabilities(xor):
    X, y, _ = xor
    clf = CPNAClassifier(n_connections={"hidden": 6}, normalize=False, **FAST).fit(X, y)
    before = clf.predict_proba(X)
    normalize_units_(clf.module_)
    np.testing.assert_allclose(clf.predict_proba(X), before, atol=1e-6, rtol=0)


def test_normalization_skips_units_without_incoming_weights():
    torch.manual_seed(0)
    net = MLP(3, 2, hidden_layer_sizes=(4,), activation="relu")
    masks.add_masks(net)
    keep = torch.ones(4, 3, dtype=torch.bool)
    keep[2] = False
    masks.prune_(net, {"linears.0.weight": keep})
    bias_before = net.linears[0].bias[2].item()
    out_before = net.linears[1].weight[:, 2].clone()
    scales = normalize_units_(net)
    assert scales[0][2].item() == 1.0
    assert net.linears[0].bias[2].item() == bias_before
    torch.testing.assert_close(net.linears[1].weight[:, 2], out_before)


# ---------------------------------------------------------- units, top-k
def test_keep_largest_exact_count_ties_and_mask():
    scores = torch.tensor([[1.0, 3.0, 3.0], [3.0, 0.5, 2.0]])
    keep = masks.keep_largest(scores, 2)
    assert keep.tolist() == [[False, True, True], [False, False, False]]
    mask = torch.tensor([[True, False, True], [True, True, True]])
    assert masks.keep_largest(scores, 2, mask).tolist() == [[False, False, True], [True, False, False]]
    assert int(masks.keep_largest(scores, 10, mask).sum()) == 5
    assert int(masks.keep_largest(scores, 0).sum()) == 0


def test_dead_units_lose_incoming_connections_through_layers():
    torch.manual_seed(0)
    net = MLP(4, 2, hidden_layer_sizes=(3, 3), activation="relu").eval()
    masks.add_masks(net)
    x = torch.randn(20, 4)
    keep2 = torch.ones(2, 3, dtype=torch.bool)
    keep2[:, 1] = False  # unit 1 of layer 2 has no outgoing connection
    keep1 = torch.ones(3, 3, dtype=torch.bool)
    keep1[:, 0] = False  # unit 0 of layer 1 has no outgoing connection either
    masks.prune_(net, {"linears.2.weight": keep2, "linears.1.weight": keep1})
    before = net(x)
    removed = prune_dead_units_(net)
    torch.testing.assert_close(net(x), before)
    assert not net.linears[1].weight_mask[1].any()  # incoming of the dead layer-2 unit
    assert not net.linears[0].weight_mask[0].any()  # then incoming of layer-1 unit 0
    assert removed == 2 + 4  # row 1 of linears.1 (minus the entry already gone), row 0 of linears.0
    assert [a.tolist() for a in active_units(net)] == [[False, True, True], [True, False, True]]
    assert input_support(net).tolist() == [True, True, True, True]


# ----------------------------------------------------------------- strategy
def _train_with(strategy, seed=0, n=200):
    torch.manual_seed(seed)
    X = torch.randn(n, 6)
    Y = (X[:, 0] * X[:, 1] > 0).long()
    net = MLP(6, 2, hidden_layer_sizes=(16,), activation="relu")
    masks.add_masks(net)
    snapshots = []
    original = strategy.start_epoch

    def recording(epoch, module, optimizer):
        changed = original(epoch, module, optimizer)
        snapshots.append({k: v.clone() for k, v in masks.get_masks(module).items()})
        return changed

    strategy.start_epoch = recording
    train(net, cross_entropy_errors, strategy, X, Y,
          lambda groups: torch.optim.Adam(groups, lr=0.01), max_iter=strategy.n_iter, batch_size=50,
          generator=torch.Generator().manual_seed(0))
    return net, snapshots


def test_strategy_follows_the_schedule_and_masks_only_shrink():
    strategy = ConnectionPruning([[(1, 6)], [(0, 10)]], pretrain_iter=3, prune_iter=8, annealing_rate=2.0)
    net, snapshots = _train_with(strategy)
    hidden = strategy.connection_curve[1]
    assert hidden[:3] == [32] * 3
    np.testing.assert_array_equal(hidden[3:11], fsa_schedule(32, 6, 8, 2.0))
    assert hidden[-1] == 6
    assert strategy.connection_curve[0][-1] == 10
    for earlier, later in zip(snapshots, snapshots[1:]):
        for name in earlier:
            assert not bool((later[name] & ~earlier[name]).any()), "a mask grew"
    assert strategy.stage == "sparse" or strategy.n_iter == len(snapshots)


def test_strategy_clears_optimizer_state_of_removed_weights():
    torch.manual_seed(0)
    net = MLP(4, 2, hidden_layer_sizes=(8,), activation="relu")
    masks.add_masks(net)
    optimizer = torch.optim.Adam(net.parameters(), lr=0.01)
    net(torch.randn(10, 4)).sum().backward()
    optimizer.step()
    strategy = ConnectionPruning([[(1, 4)]], pretrain_iter=0, prune_iter=2)
    assert strategy.start_epoch(0, net, optimizer)
    state = optimizer.state[net.linears[1].weight]
    removed = ~net.linears[1].weight_mask
    assert int(net.linears[1].weight_mask.sum()) == 4
    assert bool((state["exp_avg"][removed] == 0).all()) and bool((state["exp_avg_sq"][removed] == 0).all())


def test_node_pruning_keeps_whole_units():
    torch.manual_seed(0)
    net = MLP(5, 3, hidden_layer_sizes=(10,), activation="relu")
    masks.add_masks(net)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    strategy = ConnectionPruning([[(1, 4)], [(0, 2)]], pretrain_iter=0, prune_iter=1, prune="nodes")
    strategy.start_epoch(0, net, optimizer)
    assert int(net.linears[1].weight_mask.any(dim=0).sum()) == 4
    assert int(net.linears[1].weight_mask.sum()) == 12  # 4 units × 3 outputs
    assert int(net.linears[0].weight_mask.any(dim=1).sum()) == 4  # dead units lost their inputs
    strategy.start_epoch(1, net, optimizer)
    assert int(input_support(net).sum()) == 2


def test_pruning_resets_best_weight_tracking(monkeypatch):
    # An interrupt during pruning must not restore a denser network.
    strategy = ConnectionPruning([[(1, 4)]], pretrain_iter=2, prune_iter=6)
    original = strategy.start_epoch

    def interrupt(epoch, module, optimizer):
        changed = original(epoch, module, optimizer)
        if epoch == 5:
            raise KeyboardInterrupt
        return changed

    strategy.start_epoch = interrupt
    torch.manual_seed(0)
    X, Y = torch.randn(100, 6), torch.randint(0, 2, (100,))
    net = MLP(6, 2, hidden_layer_sizes=(16,), activation="relu")
    masks.add_masks(net)
    history = train(net, cross_entropy_errors, strategy, X, Y,
                    lambda groups: torch.optim.Adam(groups, lr=0.01), max_iter=strategy.n_iter)
    assert history.stop_reason == "interrupted"
    kept = int(net.linears[1].weight_mask.sum())
    assert kept == strategy.connection_curve[1][-1] < 32
    assert bool((net.linears[1].weight[~net.linears[1].weight_mask] == 0).all())


def test_constant_units_are_folded_into_the_next_bias():
    from skconvex.nn.units import fold_constant_units_

    torch.manual_seed(0)
    net = MLP(3, 2, hidden_layer_sizes=(4, 3), activation="relu").eval()
    with torch.no_grad():
        net.linears[0].bias.fill_(0.5)
    masks.add_masks(net)
    keep = torch.ones(4, 3, dtype=torch.bool)
    keep[1] = False  # unit 1 of layer 1: no inputs, outputs relu(0.5)
    masks.prune_(net, {"linears.0.weight": keep})
    x = torch.randn(10, 3)
    before = net(x)
    assert fold_constant_units_(net) == 3
    torch.testing.assert_close(net(x), before)
    assert not net.linears[1].weight_mask[:, 1].any()
    assert prune_dead_units_(net) == 0  # its inputs were already gone
    assert [a.tolist() for a in active_units(net)][0] == [True, False, True, True]


def test_a_network_without_inputs_warns(xor):
    X, y, _ = xor
    no_inputs = {"linears.0.weight": np.zeros((32, X.shape[1]), dtype=bool)}
    with pytest.warns(UserWarning, match="pruned every input connection"):
        clf = CPNAClassifier(n_connections={}, initial_masks=no_inputs, **FAST).fit(X, y)
    assert not clf.support_.any()
    assert clf.n_connections_["hidden"] == 0  # the constant units were folded into the output bias
    assert len(np.unique(clf.predict_proba(X)[:, 1])) == 1


def test_input_first_order_still_selects_features(xor):
    X, y, _ = xor
    clf = CPNAClassifier(n_connections={"input": 8, "hidden": 8}, prune_layers=["input", "hidden"], **FAST).fit(X, y)
    assert clf.support_.any() and clf.n_connections_["hidden"] == 8


def test_mean_loss_strategy_has_a_no_op_start_epoch():
    assert MeanLoss().start_epoch(0, None, None) is False


# ---------------------------------------------------------------- estimator
def test_cpna_reaches_targets_exactly_and_reports_units(xor):
    X, y, informative = xor
    clf = CPNAClassifier(n_connections={"hidden": 6, "input": 8}, **FAST).fit(X, y)
    assert clf.n_connections_ == {"input": 8, "hidden": 6}
    assert clf.n_iter_ == 10 + 2 * 10 == len(clf.loss_curve_) == len(clf.stage_curve_)
    hidden_curve = clf.connection_curve_["hidden"]
    assert hidden_curve[:10] == [64] * 10
    np.testing.assert_array_equal(hidden_curve[10:20], fsa_schedule(64, 6, 10, 100))
    annealing = fsa_schedule(64, 6, 10, 100) > 6
    expected = ["dense"] * 10 + ["prune" if a else "sparse" for a in annealing]
    assert clf.stage_curve_[:20] == expected
    assert clf.stage_curve_[20] == "prune" and clf.stage_curve_[-1] == "sparse"
    assert clf.pruning_stages_ == [
        {"layers": ["hidden"], "first_iteration": 10}, {"layers": ["input"], "first_iteration": 20}
    ]
    assert len(clf.training_loss_curve_) == clf.n_iter_
    active = int(clf.masks_["linears.1.weight"].any(axis=0).sum())
    assert clf.n_active_hidden_ == [active] and active <= 6
    np.testing.assert_array_equal(clf.support_, clf.masks_["linears.0.weight"].any(axis=0))
    assert clf.sparsity_ == pytest.approx(1 - 14 / (6 * 32 + 32 * 2))
    for name, mask in clf.masks_.items():
        weight = dict(clf.module_.named_parameters())[name].detach().numpy()
        assert np.all(weight[~mask] == 0)


def test_cpna_selects_the_informative_xor_features(xor):
    X, y, informative = xor
    clf = CPNAClassifier(
        hidden_layer_sizes=(64,), n_connections={"hidden": 8, "input": 8},
        pretrain_iter=80, prune_iter=80, batch_size=100, learning_rate_init=0.01, random_state=0,
    ).fit(X, y)
    np.testing.assert_array_equal(clf.get_support(indices=True), informative)
    assert clf.score(X, y) > 0.9


def test_transform_keeps_exactly_the_supported_features(xor):
    X, y, _ = xor
    clf = CPNAClassifier(n_connections={"input": 4}, prune="nodes", **FAST).fit(X, y)
    support = clf.get_support()
    assert support.sum() == 4
    np.testing.assert_array_equal(clf.transform(X), X[:, support])
    names = np.array([f"f{i}" for i in range(X.shape[1])], dtype=object)
    np.testing.assert_array_equal(clf.get_feature_names_out(names), names[support])
    np.testing.assert_array_equal(clf.inverse_transform(clf.transform(X))[:, ~support], 0)


def test_feature_names_from_a_dataframe(xor):
    pd = pytest.importorskip("pandas")
    X, y, _ = xor
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    clf = CPNAClassifier(n_connections={"input": 3}, prune="nodes", **FAST).fit(frame, y)
    assert list(clf.get_feature_names_out()) == [f"x{i}" for i in np.flatnonzero(clf.support_)]


def test_pipeline_with_a_downstream_classifier(xor):
    X, y, _ = xor
    pipe = make_pipeline(CPNAClassifier(n_connections={"input": 3}, prune="nodes", **FAST), LogisticRegression())
    pipe.fit(X, y)
    assert pipe[-1].coef_.shape == (1, 3)
    assert pipe.predict(X).shape == (len(X),)


def test_predict_proba_binary_and_multiclass_with_string_labels():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(150, 4))
    y = np.array(["a", "b", "c"])[np.argmax(X[:, :3], axis=1)]
    clf = CPNAClassifier(n_connections={"hidden": 24}, **dict(FAST, learning_rate_init=0.01)).fit(X, y)
    proba = clf.predict_proba(X)
    assert proba.shape == (150, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(axis=1)])
    assert clf.score(X, y) > 0.8
    assert len(clf.training_auc_curve_) == clf.n_iter_ and 0.5 < clf.training_auc_curve_[-1] <= 1


def test_same_random_state_same_model(xor):
    X, y, _ = xor
    a = CPNAClassifier(n_connections={"hidden": 6, "input": 8}, **FAST).fit(X, y)
    b = CPNAClassifier(n_connections={"hidden": 6, "input": 8}, **FAST).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    for name in a.masks_:
        np.testing.assert_array_equal(a.masks_[name], b.masks_[name])


def test_cpa_does_not_normalize(xor):
    X, y, _ = xor
    cpa = CPNAClassifier(n_connections={"hidden": 6}, normalize=False, **FAST).fit(X, y)
    cpna = CPNAClassifier(n_connections={"hidden": 6}, normalize=True, **FAST).fit(X, y)
    norms = lambda clf: torch.linalg.vector_norm(clf.module_.linears[0].weight.detach(), dim=1)  # noqa: E731
    alive = cpna.module_.linears[0].weight_mask.any(dim=1)
    # CPNA normalized before the last iteration, then took one epoch of Adam steps.
    assert float((norms(cpna)[alive] - 1).abs().max()) < 0.2
    assert float((norms(cpa) - 1).abs().max()) > 0.2


def test_validation_curves(xor):
    X, y, _ = xor
    clf = CPNAClassifier(n_connections={"hidden": 6}, **FAST).fit(X[:400], y[:400], X_val=X[400:], y_val=y[400:])
    n = clf.n_iter_
    assert len(clf.validation_auc_curve_) == len(clf.validation_accuracy_curve_) == len(clf.validation_loss_curve_) == n
    proba = clf.predict_proba(X[400:])
    from sklearn.metrics import log_loss, roc_auc_score

    assert clf.validation_auc_curve_[-1] == pytest.approx(roc_auc_score(y[400:], proba[:, 1]), abs=1e-6)
    assert clf.validation_loss_curve_[-1] == pytest.approx(log_loss(y[400:], proba), abs=1e-5)
    assert clf.validation_accuracy_curve_[-1] == pytest.approx(clf.score(X[400:], y[400:]))

    held = CPNAClassifier(n_connections={"hidden": 6}, validation_fraction=0.25, **FAST).fit(X, y)
    assert len(held.validation_auc_curve_) == held.n_iter_
    plain = CPNAClassifier(n_connections={"hidden": 6}, **FAST).fit(X, y)
    assert plain.validation_auc_curve_ is None and plain.validation_loss_curve_ is None


def test_dense_baseline_and_subnetwork_retraining(xor):
    X, y, _ = xor
    cpna = CPNAClassifier(n_connections={"hidden": 6, "input": 8}, **FAST).fit(X, y)
    retrain = dict(FAST, pretrain_iter=15)
    original = CPNAClassifier(n_connections={}, initial_masks=cpna.masks_, **retrain).fit(X, y)
    for name, mask in cpna.masks_.items():
        np.testing.assert_array_equal(original.masks_[name], mask)
    assert original.stage_curve_ == ["dense"] * 15
    dense = CPNAClassifier(n_connections={}, **retrain).fit(X, y)
    assert dense.sparsity_ == 0 and dense.support_.all()
    # Same random_state: the subnetwork starts from the original initial weights.
    first = CPNAClassifier(n_connections={}, initial_masks=cpna.masks_, **dict(retrain, pretrain_iter=1))
    init = CPNAClassifier(n_connections={}, **dict(retrain, pretrain_iter=1))
    torch.manual_seed(123)
    w_masked = first.fit(X, y).module_.linears[0].weight.detach()
    w_dense = init.fit(X, y).module_.linears[0].weight.detach()
    assert bool((w_masked[first.module_.linears[0].weight_mask] != 0).all())
    assert w_masked.shape == w_dense.shape


def test_pickle_keeps_masks_and_predictions(xor):
    X, y, _ = xor
    clf = CPNAClassifier(n_connections={"hidden": 6, "input": 8}, **FAST).fit(X, y)
    loaded = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    for name, mask in masks.get_masks(loaded.module_).items():
        np.testing.assert_array_equal(mask.numpy(), clf.masks_[name])
    np.testing.assert_array_equal(loaded.transform(X), clf.transform(X))


def test_multi_layer_network_names_and_order(xor):
    X, y, _ = xor
    clf = CPNAClassifier(
        n_connections={"hidden": 6, 1: 40, "input": 10}, **dict(FAST, hidden_layer_sizes=(16, 12))
    ).fit(X, y)
    assert set(clf.connection_curve_) == {"input", "layer1", "hidden"}
    assert clf.n_connections_["hidden"] == 6
    assert clf.n_connections_["layer1"] <= 40 and clf.n_connections_["input"] <= 10
    assert len(clf.n_active_hidden_) == 2
    # "auto": hidden first (iterations 10-19), then layer1, then input.
    curve = clf.connection_curve_
    assert curve["hidden"][19] == 6 and curve["layer1"][19] == curve["layer1"][10]


def test_fraction_targets_and_all_at_once(xor):
    X, y, _ = xor
    clf = CPNAClassifier(n_connections={"hidden": 0.25, "input": 0.5}, prune_layers="all", **FAST).fit(X, y)
    assert clf.n_connections_["hidden"] == 16
    assert clf.n_connections_["input"] <= 96
    assert clf.n_iter_ == 10 + 10  # one stage


@pytest.mark.parametrize(
    "params, message",
    [
        (dict(n_connections={"output": 3}), "Unknown layer 'output'"),
        (dict(n_connections={"hidden": 0}), "must be an int ≥ 1 or a float in"),
        (dict(n_connections={"hidden": 1.5}), "must be an int ≥ 1 or a float in"),
        (dict(n_connections={"hidden": 3}, prune_layers="input"), "have no target"),
        (dict(n_connections={"hidden": 3}, prune_layers=["hidden", "hidden"]), "more than once"),
        (dict(n_connections={}, pretrain_iter=0), "Nothing to train"),
        (dict(hidden_layer_sizes=()), "at least one hidden layer"),
        (dict(initial_masks={"linears.7.weight": np.ones((2, 2), bool)}), "not weights of this network"),
    ],
)
def test_bad_parameters_are_named(xor, params, message):
    X, y, _ = xor
    with pytest.raises(ValueError, match=message):
        CPNAClassifier(**{**FAST, **params}).fit(X, y)


def test_fixed_schedule_raises_no_convergence_warning(xor):
    X, y, _ = xor
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        CPNAClassifier(n_connections={"hidden": 6}, **FAST).fit(X, y)


def test_normalization_guard_bounds_the_bias_of_a_nearly_constant_unit():
    torch.manual_seed(0)
    net = MLP(3, 2, hidden_layer_sizes=(2,), activation="relu").double().eval()
    with torch.no_grad():
        net.linears[0].weight[0] = torch.tensor([1e-6, 0.0, 0.0])
        net.linears[0].bias[0] = -5.0
    x = torch.randn(20, 3, dtype=torch.float64)
    before = net(x)
    scales = normalize_units_(net)
    assert scales[0][0].item() == pytest.approx(5.0 / 1e3)
    assert net.linears[0].bias[0].item() == pytest.approx(-1e3)
    torch.testing.assert_close(net(x), before)


@pytest.mark.parametrize("guard", [True, False])
def test_long_schedule_with_never_active_units_stays_finite(monkeypatch, guard):
    # Review finding: normalizing every iteration under L2 grew the bias of units that
    # are never active (their incoming weights shrink, the bias does not) until it
    # overflowed and the fit stopped as "diverged". The guard bounds |b| by 1e3.
    import functools

    import skconvex.training.cpna as cpna_module

    if not guard:
        monkeypatch.setattr(
            cpna_module, "normalize_units_", functools.partial(normalize_units_, max_bias_ratio=math.inf)
        )
    X, y = make_xor(600, n_features=10, n_informative=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = CPNAClassifier(
            hidden_layer_sizes=(64,), n_connections={"input": 40}, pretrain_iter=20, prune_iter=100,
            batch_size=20, learning_rate_init=1e-2, random_state=0,
        ).fit(X, y)
    biggest = float(clf.module_.linears[0].bias.detach().abs().max())
    if guard:
        assert clf.stop_reason_ == "max_iter" and biggest <= 1e3 + 1
    else:
        assert clf.stop_reason_ == "diverged" or biggest > 1e6


# ------------------------------------------------- n_connections="auto" (default)
@pytest.fixture(scope="module")
def xor32():
    """2-D XOR among 32 features (30 irrelevant), and the default CPNA fitted on it."""
    X, y, informative = make_xor(1600, n_features=32, n_informative=2, random_state=0,
                                 return_informative=True)
    return X[:600], y[:600], X[600:], y[600:], informative


def test_default_cpna_heads_a_pipeline_and_keeps_the_informative_features(xor32):
    from sklearn.neighbors import KNeighborsClassifier

    X, y, X_test, y_test, informative = xor32
    pipe = make_pipeline(CPNAClassifier(random_state=0), KNeighborsClassifier()).fit(X, y)
    support = pipe[0].get_support(indices=True)
    # Both informative features kept, at most 2 of the 30 irrelevant ones (here: 2).
    assert set(informative) <= set(support) and len(support) <= 4
    assert pipe[0].n_connections == "auto"
    # The selection is what makes XOR learnable for k-NN: on all 32 features it guesses.
    assert pipe.score(X_test, y_test) >= 0.85
    assert KNeighborsClassifier().fit(X, y).score(X_test, y_test) < 0.65


def test_auto_path_records_and_selects_the_sparsest_within_one_standard_error(xor32):
    X, y, X_val, y_val, informative = xor32
    clf = CPNAClassifier(random_state=0).fit(X, y, X_val=X_val[:500], y_val=y_val[:500])
    path = clf.pruning_path_
    assert path["n_features"].tolist()[:3] == [32, 16, 8]
    assert path["iteration"].tolist() == [100 * (i + 1) for i in range(len(path["iteration"]))]
    assert path["selected"].sum() == 1
    best = path["validation_score"].max()
    bound = best - np.sqrt(best * (1 - best) / 500)
    chosen = int(np.flatnonzero(path["selected"])[0])
    assert chosen == int(np.flatnonzero(path["validation_score"] >= bound)[-1])
    assert path["n_features"][chosen] == clf.support_.sum() <= 4
    assert set(informative) <= set(clf.get_support(indices=True))
    # The returned network is the recorded one: its validation accuracy is the path's.
    assert clf.score(X_val[:500], y_val[:500]) == pytest.approx(path["validation_score"][chosen])
    assert clf.n_connections_["input"] == path["n_connections"][chosen]


def test_auto_budgets_and_row_hash_split():
    from skconvex._cpna import _row_hash_split, auto_budgets

    assert auto_budgets(32) == [16, 8, 4, 2, 1] and auto_budgets(6) == [3, 1] and auto_budgets(1) == []
    X = np.random.default_rng(0).normal(size=(400, 3))
    held = _row_hash_split(X, 0.2)
    assert 50 < held.sum() < 110
    # A repeated row lands on the side of its original: weights and repeats agree.
    repeated = np.vstack([X, X[:50]])
    np.testing.assert_array_equal(_row_hash_split(repeated, 0.2), np.r_[held, held[:50]])


def test_auto_weights_equal_repeated_rows(xor):
    X, y, _ = xor
    X, y = X[:200], y[:200]
    weight = np.r_[np.full(100, 2.0), np.ones(100)]
    params = dict(hidden_layer_sizes=(16,), pretrain_iter=5, prune_iter=4, batch_size=400,
                  shuffle=False, random_state=0, dtype="float64")
    weighted = CPNAClassifier(**params).fit(X, y, sample_weight=weight)
    repeated = CPNAClassifier(**params).fit(np.vstack([X, X[:100]]), np.r_[y, y[:100]])
    np.testing.assert_array_equal(weighted.pruning_path_["n_features"], repeated.pruning_path_["n_features"])
    np.testing.assert_allclose(weighted.predict_proba(X), repeated.predict_proba(X), atol=1e-8)


def test_auto_on_small_data_warns_and_keeps_the_dense_network(xor):
    X, y, _ = xor
    with pytest.warns(UserWarning, match="needs at least 10 held-out"):
        clf = CPNAClassifier(hidden_layer_sizes=(8,), pretrain_iter=3, random_state=0).fit(X[:30], y[:30])
    assert clf.support_.all() and clf.sparsity_ == 0
    assert clf.pruning_path_["n_features"].tolist() == [6]
    assert clf.pruning_path_["selected"].tolist() == [True]


def test_auto_without_validation_data_is_an_error(xor):
    X, y, _ = xor
    with pytest.raises(ValueError, match="chooses the input budget on validation data"):
        CPNAClassifier(validation_fraction=None, **FAST).fit(X, y)


def test_auc_equals_scikit_learns_with_ties_weights_and_classes():
    from sklearn.metrics import roc_auc_score

    from skconvex._cpna import _auc

    rng = np.random.default_rng(0)
    for n_classes in (2, 3, 4):
        y = np.tile(np.arange(n_classes), 15)
        proba = rng.integers(0, 4, size=(len(y), n_classes)) + 0.5  # many ties
        proba /= proba.sum(axis=1, keepdims=True)
        weight = rng.integers(1, 4, size=len(y)).astype(float)
        for w in (None, weight):
            expected = (
                roc_auc_score(y, proba[:, 1], sample_weight=w) if n_classes == 2
                else roc_auc_score(y, proba, multi_class="ovr", sample_weight=w)
            )
            assert _auc(y, proba, w) == pytest.approx(expected, abs=1e-12)
    assert np.isnan(_auc(np.zeros(4, int), np.full((4, 2), 0.5), None))


def test_table1_hidden_column_is_the_separate_cpna_hidden_fit():
    from sklearn.metrics import roc_auc_score

    from skconvex.experiments.cpna import _XOR, _xor_data, _xor_task

    cfg = _XOR["3D-XOR p=60"]
    s = dict(n_train=200, batch_size=100, pretrain_iter=2, prune_iter=2)
    record = _xor_task("3D-XOR p=60", 0, cfg, 40, s)
    Xtr, ytr, Xte, yte = _xor_data(cfg, 0, 200)
    hidden = CPNAClassifier(
        hidden_layer_sizes=(40,), n_connections={"hidden": cfg["hidden"], "input": cfg["input"]},
        prune_layers="hidden", pretrain_iter=2, prune_iter=2, random_state=0, batch_size=100,
    ).fit(Xtr, ytr)
    assert record["CPNA(hidden)"] == pytest.approx(roc_auc_score(yte, hidden.predict_proba(Xte)[:, 1]))

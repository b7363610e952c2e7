"""Tests of the pruning masks (:mod:`skconvex.nn.masks`) and of their enforcement.

Covers the mask primitive itself (add/prune/sparsity/compact), the training loop's
guarantee that pruned entries stay exactly zero whatever the optimizer's state, and
persistence of masked modules and pruned estimators (deepcopy, pickle, clone).

Everything runs on tiny float64 networks with seeded generators, so the numbers
asserted here are exact (or known to float rounding).
"""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted
from torch import nn
from torch.nn.utils import prune as torch_prune

from skconvex import GDCClassifier, criteria
from skconvex.nn import MLP, LeNet5, masks
from skconvex.training import MeanLoss, param_groups, train

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

F64 = torch.float64
GDC_KW = dict(hidden_layer_sizes=(8,), max_iter=5, random_state=0, dtype="float64")


# --------------------------------------------------------------------------- helpers


def _mlp(n_in=3, n_out=2, hidden=(4,), activation="tanh", seed=0):
    torch.manual_seed(seed)
    return MLP(n_in, n_out, hidden_layer_sizes=hidden, activation=activation).to(F64)


def _xy(n=24, d=3, k=2, seed=0):
    rng = np.random.RandomState(seed)
    X = torch.from_numpy(rng.randn(n, d))
    Y = torch.from_numpy(rng.randn(n, k))
    return X, Y


def _clf_data(n=40, d=4, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, d)
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5).astype(int)  # classes 0, 1, 2
    return X, y


def _checkerboard(shape):
    """A keep mask with every other entry (in flat order) pruned."""
    return (torch.arange(int(np.prod(shape))) % 2 == 0).reshape(shape)


def _state(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def _assert_same_state(a, b):
    assert a.keys() == b.keys()
    for k in a:
        assert a[k].dtype == b[k].dtype, k
        assert torch.equal(a[k], b[k]), k


def _pruned_entries(module):
    """All masked-out entries of all masked parameters, concatenated."""
    return torch.cat([p.detach()[~m] for p, m in masks.masked_parameters(module)])


def _sgd(momentum=0.9, lr=0.05):
    return lambda groups: torch.optim.SGD(groups, lr=lr, momentum=momentum)


def _adam(lr=0.05):
    return lambda groups: torch.optim.Adam(groups, lr=lr)


# ------------------------------------------------------------------------ add_masks


def test_add_masks_covers_linear_and_conv_weights_only():
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Conv1d(2, 3, 2), nn.Tanh(), nn.Flatten(), nn.Linear(6, 4), nn.Tanh(), nn.Linear(4, 1)
    ).to(F64)
    before = _state(net)
    out = masks.add_masks(net)

    assert list(out) == ["0.weight", "3.weight", "5.weight"]
    params = dict(net.named_parameters())
    for name, mask in out.items():
        assert mask.dtype == torch.bool
        assert mask.shape == params[name].shape
        assert bool(mask.all())
    buffers = [name for name, _ in net.named_buffers()]
    assert buffers == ["0.weight_mask", "3.weight_mask", "5.weight_mask"]
    assert not any(hasattr(net[i], "bias_mask") for i in (0, 3, 5))
    # The masks are the registered buffers themselves, and they live in state_dict.
    assert out["3.weight"] is net[3].weight_mask
    assert set(net.state_dict()) == set(before) | set(buffers)
    # All-True masks leave the parameters untouched.
    for k, v in before.items():
        assert torch.equal(net.state_dict()[k], v)
    assert masks.prunable_parameters(net).keys() == out.keys()


def test_add_masks_include_bias():
    net = _mlp()
    out = masks.add_masks(net, include_bias=True)
    assert list(out) == ["linears.0.weight", "linears.0.bias", "linears.1.weight", "linears.1.bias"]
    assert net.linears[0].bias_mask.shape == (4,)
    assert net.linears[1].bias_mask.dtype == torch.bool
    assert all(bool(m.all()) for m in out.values())
    assert list(masks.prunable_parameters(net, include_bias=True)) == list(out)


def test_add_masks_is_idempotent_and_keeps_existing_masks():
    net = _mlp()
    first = masks.add_masks(net)
    keep = _checkerboard((4, 3))
    masks.prune_(net, {"linears.0.weight": keep})
    again = masks.add_masks(net)
    assert list(again) == list(first)
    assert again["linears.0.weight"] is first["linears.0.weight"]
    assert torch.equal(net.linears[0].weight_mask, keep)
    assert bool(net.linears[1].weight_mask.all())
    # Adding bias masks later adds them and leaves the weight masks alone.
    third = masks.add_masks(net, include_bias=True)
    assert len(third) == 4
    assert torch.equal(third["linears.0.weight"], keep)
    assert [n for n, _ in net.named_buffers()] == [
        "linears.0.weight_mask", "linears.0.bias_mask",
        "linears.1.weight_mask", "linears.1.bias_mask",
    ]  # fmt: skip


def test_add_masks_lenet5_starts_with_the_connection_table():
    torch.manual_seed(0)
    net = LeNet5()
    out = masks.add_masks(net)
    assert list(out) == ["c1.weight", "c3.weight", "c5.weight", "f6.weight", "output.weight"]
    # Subsamplings hold "weight" parameters but are not Linear/Conv: no mask.
    assert not hasattr(net.s2, "weight_mask")
    c3 = net.c3
    assert c3.weight_mask.dtype == torch.bool
    assert torch.equal(c3.weight_mask, c3.connection_mask != 0)
    assert int(c3.weight_mask.sum()) == 60 * 25
    assert bool(torch.all(c3.weight[~c3.weight_mask] == 0))
    # Structural zeros are not pruned connections.
    assert masks.sparsity(net) == 0.0
    assert masks.layer_sparsity(net) == {name: 0.0 for name in out}


def test_lenet5_sparsity_counts_only_connected_weights():
    torch.manual_seed(0)
    net = LeNet5()
    masks.add_masks(net)
    # C3 map 0 reads S2 maps (0, 1, 2): pruning its kernel on map 3, a structural
    # zero, changes nothing.
    keep = torch.ones_like(net.c3.weight, dtype=torch.bool)
    keep[0, 3] = False
    masks.prune_(net, {"c3.weight": keep})
    assert masks.sparsity(net) == 0.0
    assert int(net.c3.weight_mask.sum()) == 1500

    keep = torch.ones_like(net.c3.weight, dtype=torch.bool)
    keep[0, 0] = False  # one connected 5x5 kernel
    assert float(net.c3.weight[0, 0].detach().abs().sum()) > 0
    masks.prune_(net, {"c3.weight": keep})
    assert int(net.c3.weight_mask.sum()) == 1500 - 25
    assert bool(torch.all(net.c3.weight[0, 0] == 0))
    sp = masks.layer_sparsity(net)
    assert sp["c3.weight"] == pytest.approx(25 / (60 * 25), rel=1e-12, abs=0)
    assert sp["c1.weight"] == sp["c5.weight"] == sp["f6.weight"] == sp["output.weight"] == 0.0
    # Denominator: c1 6*25, c3 60 connected kernels of 25, c5 120*16*25, f6 84*120, out 10*84.
    connectable = 150 + 1500 + 48000 + 10080 + 840
    assert masks.sparsity(net) == pytest.approx(25 / connectable, rel=1e-12, abs=0)


# --------------------------------------------------------------------------- prune_


def test_prune_zeroes_entries_and_masks_only_shrink():
    net = _mlp()
    masks.add_masks(net)
    w0 = net.linears[0].weight.detach().clone()
    partial = torch.tensor(
        [[1, 0, 1], [1, 1, 1], [0, 0, 1], [1, 1, 0]], dtype=torch.bool
    )
    masks.prune_(net, {"linears.0.weight": partial})
    assert torch.equal(net.linears[0].weight_mask, partial)
    assert bool(torch.all(net.linears[0].weight[~partial] == 0))
    assert torch.equal(net.linears[0].weight[partial], w0[partial])

    # An all-True keep does not revive anything.
    masks.prune_(net, {"linears.0.weight": torch.ones(4, 3, dtype=torch.bool)})
    assert torch.equal(net.linears[0].weight_mask, partial)
    # A second keep is ANDed in: the union of both prunings.
    other = torch.ones(4, 3, dtype=torch.bool)
    other[0, 0] = other[0, 1] = False  # (0, 1) was already pruned
    masks.prune_(net, {"linears.0.weight": other})
    expected = partial & other
    assert torch.equal(net.linears[0].weight_mask, expected)
    assert int(expected.sum()) == 7
    assert bool(torch.all(net.linears[0].weight[~expected] == 0))
    # Non-bool keep tensors are cast to bool (nonzero = keep).
    soft_keep = torch.tensor([[1.0, 0.0, 2.0, 1.0], [0.5, 1.0, 1.0, 0.0]])
    masks.prune_(net, {"linears.1.weight": soft_keep})
    assert net.linears[1].weight_mask.tolist() == [
        [True, False, True, True], [True, True, True, False],
    ]
    assert net.linears[1].weight[0, 1] == 0 and net.linears[1].weight[1, 3] == 0


def test_prune_rejects_unknown_names_and_wrong_shapes():
    net = _mlp()
    with pytest.raises(KeyError, match="add_masks"):
        masks.prune_(net, {"linears.0.weight": torch.ones(4, 3, dtype=torch.bool)})  # no masks yet
    masks.add_masks(net)
    before = _state(net)
    with pytest.raises(KeyError, match="no_such.weight"):
        masks.prune_(net, {"no_such.weight": torch.ones(4, 3, dtype=torch.bool)})
    with pytest.raises(KeyError, match="linears.0.bias"):  # bias masks only with include_bias
        masks.prune_(net, {"linears.0.bias": torch.zeros(4, dtype=torch.bool)})
    with pytest.raises(ValueError, match=r"\(4, 3\)"):
        masks.prune_(net, {"linears.0.weight": torch.zeros(3, 4, dtype=torch.bool)})
    with pytest.raises(ValueError, match="shape"):
        masks.prune_(net, {"linears.1.weight": torch.zeros(8, dtype=torch.bool)})
    _assert_same_state(_state(net), before)


def test_prune_failing_on_a_later_name_leaves_the_module_consistent():
    net = _mlp()
    masks.add_masks(net)
    keep = {
        "linears.0.weight": torch.zeros(4, 3, dtype=torch.bool),
        "linears.0.bias": torch.ones(4, dtype=torch.bool),  # no mask: KeyError
    }
    with pytest.raises(KeyError):
        masks.prune_(net, keep)
    # All or nothing: the valid keep was not applied either.
    assert masks.sparsity(net) == 0.0
    assert bool(net.linears[0].weight_mask.all())


def test_sparsity_exact_fractions_on_a_tiny_mlp():
    net = _mlp()
    assert masks.sparsity(net) == 0.0  # no masks at all
    assert masks.layer_sparsity(net) == {}
    masks.add_masks(net)
    assert masks.sparsity(net) == 0.0

    k0 = torch.ones(4, 3, dtype=torch.bool)
    k0[0, :] = False  # 3 of 12
    k1 = torch.ones(2, 4, dtype=torch.bool)
    k1[:, 0] = False  # 2 of 8
    masks.prune_(net, {"linears.0.weight": k0, "linears.1.weight": k1})
    assert masks.layer_sparsity(net) == {"linears.0.weight": 0.25, "linears.1.weight": 0.25}
    assert masks.sparsity(net) == 0.25  # 5 of 20

    k0[1, :] = False  # 6 of 12
    masks.prune_(net, {"linears.0.weight": k0})
    assert masks.layer_sparsity(net) == {"linears.0.weight": 0.5, "linears.1.weight": 0.25}
    assert masks.sparsity(net) == 0.4  # 8 of 20

    # Bias masks enter the counts once added: 8 of 20 + 6 entries.
    masks.add_masks(net, include_bias=True)
    masks.prune_(net, {"linears.1.bias": torch.tensor([False, True])})
    assert masks.layer_sparsity(net)["linears.1.bias"] == 0.5
    assert masks.layer_sparsity(net)["linears.0.bias"] == 0.0
    assert masks.sparsity(net) == pytest.approx(9 / 26, rel=1e-15)
    assert net.linears[1].bias[0] == 0


def test_masked_parameters_pairs_parameters_with_their_buffers():
    net = _mlp(hidden=(4, 3))
    assert masks.masked_parameters(net) == []
    masks.add_masks(net)
    pairs = masks.masked_parameters(net)
    assert len(pairs) == 3
    for (param, mask), layer in zip(pairs, net.linears):
        assert param is layer.weight
        assert mask is layer.weight_mask
    assert list(masks.get_masks(net)) == [f"linears.{i}.weight" for i in range(3)]


def test_apply_masks_and_mask_gradients():
    net = _mlp()
    masks.add_masks(net)
    masks.prune_(net, {"linears.0.weight": _checkerboard((4, 3))})
    m = net.linears[0].weight_mask
    with torch.no_grad():
        net.linears[0].weight.add_(1.0)  # revive everything behind the mask's back
    assert bool(torch.all(net.linears[0].weight[~m] == 1.0))
    masks.apply_masks_(net)
    assert bool(torch.all(net.linears[0].weight[~m] == 0))

    X, Y = _xy()
    criteria.squared_errors(net(X), Y).mean().backward()
    g = net.linears[0].weight.grad
    assert bool(torch.all(g[~m] != 0))  # tanh net: every entry has a gradient
    kept_grad = g[m].clone()
    masks.mask_gradients_(net)
    assert bool(torch.all(net.linears[0].weight.grad[~m] == 0))
    assert torch.equal(net.linears[0].weight.grad[m], kept_grad)
    # A parameter without gradient is skipped.
    net.linears[1].weight.grad = None
    masks.mask_gradients_(net)
    assert net.linears[1].weight.grad is None


# -------------------------------------------------------------- loop enforcement


@pytest.mark.parametrize("factory", [_sgd(0.9), _adam()], ids=["sgd-momentum", "adam"])
@pytest.mark.parametrize("weight_decay", [0.0, 0.01])
def test_train_keeps_pruned_entries_zero(factory, weight_decay):
    X, Y = _xy()
    net = _mlp()
    dense = copy.deepcopy(net)  # same start, no masks: the control
    masks.add_masks(net)
    # Every hidden unit keeps an input and an output, so every kept weight has a gradient.
    k0 = _checkerboard((4, 3))
    k1 = torch.tensor([[1, 0, 1, 0], [0, 1, 0, 1]], dtype=torch.bool)
    masks.prune_(net, {"linears.0.weight": k0, "linears.1.weight": k1})
    start = _state(net)

    def run(module):
        decay = [module.linears[0].weight, module.linears[1].weight]
        optimizer = factory(param_groups(module, decay_params=decay, weight_decay=weight_decay))
        return train(module, criteria.squared_errors, MeanLoss(), X, Y, optimizer,
                     max_iter=4, batch_size=6, generator=torch.Generator().manual_seed(0))

    history = run(net)
    assert history.n_iter == 4
    for i, keep in enumerate((k0, k1)):
        layer, w0 = net.linears[i], start[f"linears.{i}.weight"]
        assert torch.equal(layer.weight_mask, keep)
        assert bool(torch.all(layer.weight[~keep] == 0.0))
        assert bool(torch.all(layer.weight[keep] != w0[keep]))  # every kept weight moved
    assert masks.sparsity(net) == 0.5
    # Without masks the same training moves those entries: the test is not vacuous.
    run(dense)
    assert bool(torch.all(dense.linears[0].weight[~k0] != 0))


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_gdc_warm_start_refit_keeps_pruned_weights_zero(solver):
    X, y = _clf_data()
    est = GDCClassifier(solver=solver, momentum=0.9, warm_start=True, **GDC_KW).fit(X, y)
    module = est.module_
    masks.add_masks(module)
    keep = {
        name: p.detach().abs() > p.detach().abs().median()
        for name, p in masks.prunable_parameters(module).items()
    }
    masks.prune_(module, keep)
    before = {name: p.detach().clone() for name, p in module.named_parameters()}
    sp = masks.sparsity(module)
    assert sp == 0.5  # torch.median is the lower middle: exactly half is kept

    est.fit(X, y)
    assert est.module_ is module  # warm start trains the same module
    assert est.n_iter_ == 10
    assert masks.sparsity(module) == sp
    for name, p in masks.prunable_parameters(module).items():
        assert torch.equal(masks.get_masks(module)[name], keep[name])
        assert bool(torch.all(p[~keep[name]] == 0.0)), name
        assert bool(torch.all(p[keep[name]] != before[name][keep[name]])), name
    assert np.isfinite(est.predict_proba(X)).all()


def test_pruning_after_adam_steps_manual_loop():
    """Adam's moments remember the pruned entries; the loop's two calls neutralize them."""
    X, Y = _xy()
    net = _mlp()
    masks.add_masks(net)
    opt = torch.optim.Adam(net.parameters(), lr=0.05)

    def step(mask_grads=True, apply=True):
        opt.zero_grad(set_to_none=True)
        criteria.squared_errors(net(X), Y).mean().backward()
        if mask_grads:
            masks.mask_gradients_(net)
        opt.step()
        if apply:
            masks.apply_masks_(net)

    for _ in range(3):
        step()
    keep = _checkerboard((4, 3))
    masks.prune_(net, {"linears.0.weight": keep})
    w = net.linears[0].weight
    state = opt.state[w]
    assert bool(torch.all(state["exp_avg"][~keep] != 0))  # momentum for pruned entries
    assert bool(torch.all(w[~keep] == 0))

    # Control on a copy: masking the gradient alone is not enough, Adam revives them.
    ghost_net = copy.deepcopy(net)
    ghost_opt = torch.optim.Adam(ghost_net.parameters(), lr=0.05)
    ghost_opt.load_state_dict(opt.state_dict())
    ghost_opt.zero_grad()
    criteria.squared_errors(ghost_net(X), Y).mean().backward()
    masks.mask_gradients_(ghost_net)
    ghost_opt.step()
    assert bool(torch.all(ghost_net.linears[0].weight[~keep] != 0))

    # The loop's recipe: mask the gradients after backward, the entries after step.
    kept_before = w[keep].detach().clone()
    for _ in range(3):
        step()
    assert bool(torch.all(w[~keep] == 0.0))
    assert bool(torch.all(w[keep] != kept_before))
    assert bool(torch.all(state["exp_avg"][~keep] != 0))  # still remembered...

    # ...until clear_optimizer_state_ wipes the masked entries of every moment.
    exp_avg_kept = state["exp_avg"][keep].clone()
    exp_avg_sq_kept = state["exp_avg_sq"][keep].clone()
    step_count = state["step"].clone()
    masks.clear_optimizer_state_(opt, net)
    assert bool(torch.all(state["exp_avg"][~keep] == 0))
    assert bool(torch.all(state["exp_avg_sq"][~keep] == 0))
    assert torch.equal(state["exp_avg"][keep], exp_avg_kept)
    assert torch.equal(state["exp_avg_sq"][keep], exp_avg_sq_kept)
    assert torch.equal(state["step"], step_count)  # scalar state left alone
    # With clean moments, masking the gradients alone keeps the entries at zero.
    for _ in range(3):
        step(apply=False)
    assert bool(torch.all(w[~keep] == 0.0))


def test_clear_optimizer_state_sgd_momentum_buffer():
    X, Y = _xy()
    net = _mlp()
    masks.add_masks(net)
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    for _ in range(2):
        opt.zero_grad()
        criteria.squared_errors(net(X), Y).mean().backward()
        opt.step()
    keep = _checkerboard((2, 4))
    masks.prune_(net, {"linears.1.weight": keep})
    buf = opt.state[net.linears[1].weight]["momentum_buffer"]
    assert bool(torch.all(buf[~keep] != 0))
    kept = buf[keep].clone()
    other = opt.state[net.linears[0].weight]["momentum_buffer"].clone()
    masks.clear_optimizer_state_(opt, net)
    assert bool(torch.all(buf[~keep] == 0))
    assert torch.equal(buf[keep], kept)
    # Unpruned (all-True mask) and unmasked (bias) parameters keep their buffers.
    assert torch.equal(opt.state[net.linears[0].weight]["momentum_buffer"], other)
    w = net.linears[1].weight
    for _ in range(2):
        opt.zero_grad()
        criteria.squared_errors(net(X), Y).mean().backward()
        masks.mask_gradients_(net)
        opt.step()
    assert bool(torch.all(w[~keep] == 0.0))


# ------------------------------------------------------------------ persistence


def _pruned_mlp():
    net = _mlp(hidden=(5,))
    masks.add_masks(net, include_bias=True)
    masks.prune_(net, {
        "linears.0.weight": _checkerboard((5, 3)),
        "linears.0.bias": torch.tensor([True, False, True, True, False]),
        "linears.1.weight": _checkerboard((2, 5)),
    })
    return net


def _pruned_lenet():
    torch.manual_seed(0)
    net = LeNet5()
    masks.add_masks(net)
    masks.prune_(net, {
        "c3.weight": _checkerboard(net.c3.weight.shape),
        "f6.weight": _checkerboard(net.f6.weight.shape),
    })
    return net.eval()


@pytest.mark.parametrize("make, n_features", [(_pruned_mlp, 3), (_pruned_lenet, 784)],
                         ids=["mlp", "lenet5"])
@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_masked_module_survives_deepcopy_and_pickle(make, n_features, how):
    net = make()
    dtype = next(net.parameters()).dtype
    X = torch.from_numpy(np.random.RandomState(0).randn(4, n_features)).to(dtype)
    expected = net(X).detach()
    before = masks.get_masks(net)
    sp = masks.sparsity(net)

    twin = copy.deepcopy(net) if how == "deepcopy" else pickle.loads(pickle.dumps(net))
    twin_masks = masks.get_masks(twin)
    assert list(twin_masks) == list(before)
    for name in before:
        assert torch.equal(twin_masks[name], before[name])
        assert twin_masks[name] is not before[name]
    assert masks.sparsity(twin) == sp
    assert torch.equal(twin(X).detach(), expected)
    _assert_same_state(_state(twin), _state(net))
    # The copy is independent: pruning it leaves the original alone.
    name = next(iter(twin_masks))
    masks.prune_(twin, {name: torch.zeros_like(twin_masks[name])})
    assert torch.equal(masks.get_masks(net)[name], before[name])
    assert masks.sparsity(net) == sp


def test_torch_prune_module_cannot_be_deepcopied():
    # The contrast that motivates plain mask buffers: torch.nn.utils.prune turns
    # ``weight`` into a non-leaf tensor, and such a module cannot be deep-copied
    # (best-weight snapshots, sklearn.clone). A masked module can.
    torch.manual_seed(0)
    layer = nn.Linear(3, 2)
    torch_prune.l1_unstructured(layer, "weight", amount=0.5)
    with pytest.raises(RuntimeError, match="deepcopy"):
        copy.deepcopy(layer)
    ours = nn.Linear(3, 2)
    masks.add_masks(ours)
    masks.prune_(ours, {"weight": ours.weight.detach().abs() > ours.weight.detach().abs().median()})
    assert torch.equal(copy.deepcopy(ours).weight_mask, ours.weight_mask)


@pytest.fixture
def pruned_clf():
    X, y = _clf_data()
    est = GDCClassifier(solver="adam", warm_start=True, **GDC_KW).fit(X, y)
    masks.add_masks(est.module_)
    keep = {
        name: p.detach().abs() > p.detach().abs().median()
        for name, p in masks.prunable_parameters(est.module_).items()
    }
    masks.prune_(est.module_, keep)
    return est, keep, X, y


def test_pruned_estimator_survives_pickle(pruned_clf):
    est, keep, X, y = pruned_clf
    state = est.__getstate__()
    assert "module_" not in state
    assert state["_module_state_"]["linears.0.weight_mask"].dtype == np.bool_

    loaded = pickle.loads(pickle.dumps(est))
    module = loaded.module_
    assert module is not est.module_
    loaded_masks = masks.get_masks(module)
    assert list(loaded_masks) == list(keep)
    for name, p in masks.prunable_parameters(module).items():
        assert loaded_masks[name].dtype == torch.bool
        assert torch.equal(loaded_masks[name], keep[name])
        assert bool(torch.all(p[~keep[name]] == 0.0))
    assert masks.sparsity(module) == masks.sparsity(est.module_)
    _assert_same_state(_state(module), _state(est.module_))
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))
    np.testing.assert_array_equal(loaded.predict_proba(X), est.predict_proba(X))

    # The reloaded estimator keeps its masks through a warm-start refit.
    loaded.fit(X, y)
    for name, p in masks.prunable_parameters(loaded.module_).items():
        assert bool(torch.all(p[~keep[name]] == 0.0))


def test_pruned_estimator_clone_and_deepcopy(pruned_clf):
    est, keep, X, _ = pruned_clf
    fresh = clone(est)
    assert not hasattr(fresh, "module_")
    with pytest.raises(NotFittedError):
        check_is_fitted(fresh, "module_")
    assert fresh.get_params() == est.get_params()
    # clone leaves the original alone.
    assert list(masks.get_masks(est.module_)) == list(keep)

    twin = copy.deepcopy(est)
    assert torch.equal(twin.module_.linears[0].weight_mask, keep["linears.0.weight"])
    np.testing.assert_array_equal(twin.predict_proba(X), est.predict_proba(X))


def test_register_mask_buffers_lets_a_fresh_module_load_a_masked_state():
    net = _pruned_mlp()
    state = net.state_dict()
    fresh = _mlp(hidden=(5,), seed=1)
    with pytest.raises(RuntimeError, match="Unexpected key"):
        fresh.load_state_dict(state)

    fresh = _mlp(hidden=(5,), seed=1)
    names = [*state.keys(), "linears.7.weight_mask", "linears.0.running_mask"]  # ignored
    masks.register_mask_buffers(fresh, names)
    assert [n for n, _ in fresh.named_buffers()] == [
        "linears.0.weight_mask", "linears.0.bias_mask",
        "linears.1.weight_mask", "linears.1.bias_mask",
    ]  # fmt: skip
    assert all(bool(m.all()) for m in masks.get_masks(fresh).values())
    fresh.load_state_dict(state)
    for name, mask in masks.get_masks(net).items():
        assert torch.equal(masks.get_masks(fresh)[name], mask)
    _assert_same_state(_state(fresh), _state(net))
    # Calling it again (masks already there) changes nothing.
    masks.register_mask_buffers(fresh, state.keys())
    _assert_same_state(_state(fresh), _state(net))

    lenet = _pruned_lenet()
    fresh_lenet = LeNet5()
    masks.register_mask_buffers(fresh_lenet, lenet.state_dict().keys())
    fresh_lenet.load_state_dict(lenet.state_dict())
    assert torch.equal(fresh_lenet.c3.weight_mask, lenet.c3.weight_mask)
    assert int(fresh_lenet.c3.weight_mask.sum()) == 750


# ---------------------------------------------------------------------- compact


def test_compact_removes_constant_dead_and_cascaded_units():
    torch.manual_seed(0)
    net = MLP(5, 3, hidden_layer_sizes=(6, 4), activation="tanh").to(F64)
    masks.add_masks(net)
    k0 = torch.ones(6, 5, dtype=torch.bool)
    k0[0] = False            # layer-1 unit 0: no input, outputs tanh(b) (folded)
    k0[3, 1] = k0[5, 4] = False  # scattered pruning, carried to the copy
    k1 = torch.ones(4, 6, dtype=torch.bool)
    k1[:, 1] = False         # layer-1 unit 1: no outgoing connection
    k1[:3, 2] = False        # layer-1 unit 2 feeds only layer-2 unit 3...
    k1[0, 1:] = False        # layer-2 unit 0 is fed only by the constant unit 0
    k1[2, 4] = False
    k2 = torch.ones(3, 4, dtype=torch.bool)
    k2[:, 3] = False         # ...which feeds nothing: unit 2 dies in a second pass
    k2[1, 1] = False
    masks.prune_(net, {"linears.0.weight": k0, "linears.1.weight": k1, "linears.2.weight": k2})
    before = _state(net)
    net_flops = masks.flops(net)

    small, kept = masks.compact(net)

    assert [k.tolist() for k in kept] == [[3, 4, 5], [1, 2]]
    assert [tuple(layer.weight.shape) for layer in small.linears] == [(3, 5), (2, 3), (3, 2)]
    assert [tuple(layer.bias.shape) for layer in small.linears] == [(3,), (2,), (3,)]
    assert not small.training
    assert masks.flops(net) == net_flops == 30 + 24 + 12
    assert masks.flops(small) == 15 + 6 + 6 < net_flops

    # Same function, to float64 rounding of the folded biases.
    X = torch.from_numpy(np.random.RandomState(0).randn(16, 5))
    with torch.no_grad():
        assert torch.allclose(small(X), net.eval()(X), atol=1e-12, rtol=0)

    # Surviving weights and masks are the old ones, restricted to the kept units.
    r0, r1 = kept
    w = [layer.weight.detach() for layer in net.linears]
    b = [layer.bias.detach() for layer in net.linears]
    exp_masks = [k0[r0], k1[r1][:, r0], k2[:, r1]]
    exp_weights = [w[0][r0], w[1][r1][:, r0], w[2][:, r1]]
    for layer, m, ew in zip(small.linears, exp_masks, exp_weights):
        assert torch.equal(layer.weight_mask, m)
        assert torch.equal(layer.weight.detach(), ew)
        assert bool(torch.all(layer.weight[~m] == 0))
    assert torch.equal(small.linears[0].bias.detach(), b[0][r0])
    # Folds: unit 0 of layer 1 into layer 2's biases, then unit 0 of layer 2 into
    # the output biases (units 1 and 2 of layer 1 and unit 3 of layer 2 fold nothing).
    c1 = torch.tanh(b[0][0])
    b1 = b[1] + w[1][:, 0] * c1
    assert torch.allclose(small.linears[1].bias.detach(), b1[r1], atol=1e-15, rtol=0)
    b2 = b[2] + w[2][:, 0] * torch.tanh(b1[0])
    assert torch.allclose(small.linears[2].bias.detach(), b2, atol=1e-15, rtol=0)
    assert not torch.allclose(b2, b[2])  # the fold matters

    # The original is unchanged; the copy has masks (it can be pruned further).
    _assert_same_state(_state(net), before)
    assert [tuple(layer.weight.shape) for layer in net.linears] == [(6, 5), (4, 6), (3, 4)]
    assert masks.sparsity(small) == pytest.approx(4 / 27, rel=1e-12)  # kept 13 + 5 + 5 of 27
    masks.prune_(small, {"linears.1.weight": torch.zeros(2, 3, dtype=torch.bool)})
    assert bool(torch.all(small.linears[1].weight == 0))
    assert torch.equal(net.linears[1].weight_mask, k1)


def test_compact_layer_that_loses_every_unit_keeps_width_one():
    torch.manual_seed(0)
    net = MLP(5, 3, hidden_layer_sizes=(6, 4), activation="tanh").to(F64)
    masks.add_masks(net)
    masks.prune_(net, {"linears.0.weight": torch.zeros(6, 5, dtype=torch.bool)})
    small, kept = masks.compact(net)
    assert [k.tolist() for k in kept] == [[0], [0]]
    assert [tuple(layer.weight.shape) for layer in small.linears] == [(1, 5), (1, 1), (3, 1)]
    assert all(not bool(layer.weight_mask.any()) for layer in small.linears)
    assert all(bool(torch.all(layer.weight == 0)) for layer in small.linears)
    assert masks.flops(small) == 5 + 1 + 3
    X = torch.from_numpy(np.random.RandomState(1).randn(8, 5))
    with torch.no_grad():
        out = small(X)
        assert torch.allclose(out, net.eval()(X), atol=1e-12, rtol=0)
    # The network is a constant now: every row is the folded output bias.
    assert torch.equal(out, small.linears[2].bias.detach().expand(8, 3))


def test_compact_carries_bias_masks_and_folds_pruned_biases():
    torch.manual_seed(0)
    net = MLP(3, 2, hidden_layer_sizes=(4,), activation="logistic").to(F64)
    masks.add_masks(net, include_bias=True)
    k0 = torch.ones(4, 3, dtype=torch.bool)
    k0[2] = False  # unit 2 has no input and its bias is pruned: outputs sigmoid(0) = 0.5
    masks.prune_(net, {"linears.0.weight": k0, "linears.0.bias": torch.tensor([1, 0, 0, 1]).bool()})
    small, kept = masks.compact(net)
    assert kept[0].tolist() == [0, 1, 3]
    assert small.linears[0].bias_mask.tolist() == [True, False, True]
    assert small.linears[1].bias_mask.tolist() == [True, True]
    assert small.linears[0].bias[1] == 0
    expected_b = net.linears[1].bias.detach() + 0.5 * net.linears[1].weight.detach()[:, 2]
    assert torch.allclose(small.linears[1].bias.detach(), expected_b, atol=1e-15, rtol=0)
    X = torch.from_numpy(np.random.RandomState(2).randn(6, 3))
    with torch.no_grad():
        assert torch.allclose(small(X), net.eval()(X), atol=1e-12, rtol=0)


def test_compact_without_pruning_keeps_every_unit():
    net = _mlp(hidden=(4, 3))
    masks.add_masks(net)
    small, kept = masks.compact(net)
    assert [k.tolist() for k in kept] == [[0, 1, 2, 3], [0, 1, 2]]
    _assert_same_state(_state(small), _state(net))
    assert masks.flops(small) == masks.flops(net) == 12 + 12 + 6


def test_compact_rejects_non_mlps_and_unmasked_mlps():
    torch.manual_seed(0)
    lenet = LeNet5()
    masks.add_masks(lenet)
    with pytest.raises(TypeError, match="LeNet5"):
        masks.compact(lenet)
    with pytest.raises(ValueError, match="add_masks"):
        masks.compact(_mlp())
    # Masks on some layers only are not enough either.
    net = _mlp()
    masks.add_masks(net.linears[0])
    assert hasattr(net.linears[0], "weight_mask")
    with pytest.raises(ValueError, match="every weight"):
        masks.compact(net)

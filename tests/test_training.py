"""Tests of the training loop and the strategies, without scikit-learn estimators.

Everything runs on tiny float64 problems with hand-set weights or seeded generators,
so that the numbers asserted here are exact or known to rounding.
"""

from __future__ import annotations

import copy
import math

import pytest
import torch
from torch import nn

from skconvex import criteria
from skconvex.training import (
    BestWeights,
    Convergence,
    EarlyStopping,
    LearningRateSteps,
    ValidationScore,
    param_groups,
    AdaptiveLambda,
    ConstantNRAE,
    GradualDeconvexification,
    MeanLoss,
    auto_lambda,
    per_sample_errors,
    train,
)
from skconvex.training.callbacks import snapshot
from skconvex.training.strategies import AUTO_LAMBDA_MIN_RATIO

F64 = torch.float64


# --------------------------------------------------------------------------- helpers


def _linear(weight, bias, dtype=F64):
    """nn.Linear(len(weight), 1) with the given weights."""
    m = nn.Linear(len(weight), 1).to(dtype)
    with torch.no_grad():
        m.weight.copy_(torch.tensor([weight], dtype=dtype))
        m.bias.fill_(bias)
    return m


def _data(k=8, d=2, seed=0, dtype=F64):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(k, d, generator=g, dtype=dtype)
    Y = torch.randn(k, 1, generator=g, dtype=dtype)
    return X, Y


def _sgd(lr=0.1, momentum=0.0):
    return lambda groups: torch.optim.SGD(groups, lr=lr, momentum=momentum)


def _flat(module):
    return torch.cat([p.detach().reshape(-1) for p in module.parameters()])


def _spy(cls, module, *args, **kwargs):
    """An instance of ``cls`` that records, at every end_epoch, the error cache and the
    module's weights (which are then the end-of-epoch weights)."""

    class Spied(cls):
        def end_epoch(self, loss, errors):
            self.losses.append(loss)
            self.caches.append(errors.clone())
            self.snapshots.append(snapshot(self.spied_module))
            super().end_epoch(loss, errors)

    s = Spied(*args, **kwargs)
    s.spied_module, s.losses, s.caches, s.snapshots = module, [], [], []
    return s


def _state_equal(module, state):
    current = module.state_dict()
    return all(torch.equal(current[k], v) for k, v in state.items())


class Flaky(nn.Module):
    """Linear(2, 1) whose training-mode forward counts calls, returns NaN from call
    ``nan_from`` on, or raises KeyboardInterrupt at call ``interrupt_at``."""

    def __init__(self, nan_from=None, interrupt_at=None):
        super().__init__()
        self.lin = _linear([0.3, -0.2], 0.1)
        self.nan_from, self.interrupt_at, self.calls = nan_from, interrupt_at, 0

    def forward(self, x):
        out = self.lin(x)
        if self.training:
            self.calls += 1
            if self.interrupt_at is not None and self.calls == self.interrupt_at:
                raise KeyboardInterrupt
            if self.nan_from is not None and self.calls >= self.nan_from:
                out = out * float("nan")
        return out


def _train_guarded(*args, **kwargs):
    """train(), failing the test (not the whole session) if a KeyboardInterrupt escapes."""
    try:
        return train(*args, **kwargs)
    except KeyboardInterrupt:  # pragma: no cover - only on a regression
        pytest.fail("KeyboardInterrupt escaped train()")


E3 = torch.tensor([0.1, 0.2, 0.3], dtype=F64)


def _decay_epochs(strategy, losses, errors=E3):
    """1-based epochs at whose end λ was multiplied by the decay."""
    epochs, lam = [], strategy._lam
    for epoch, loss in enumerate(losses, start=1):
        strategy.end_epoch(float(loss), errors)
        if strategy._lam != lam:
            assert strategy._lam == pytest.approx(lam * strategy.lambda_decay, rel=1e-15)
            epochs.append(epoch)
            lam = strategy._lam
    return epochs


def _gdc(**kw):
    params = dict(
        lambda_init=1.0, lambda_decay=0.5, lambda_tol=1e-3, lambda_patience=3,
        lambda_min=0.0, switch_to_rae=False,
    )
    params.update(kw)
    s = GradualDeconvexification(**params)
    s.start(E3.clone(), None)
    return s


# --------------------------------------------------------------------- λ schedule

def test_gdc_lambda_decays_exactly_on_stagnancy():
    # patience 3, tol 1e-3. The first loss after start() / after a decay is the
    # reference (it is the first loss at the current λ).
    fast_then_stall = [10.0, 9.0, 8.0, 8.0, 7.999, 7.998]  # stagnant at 4, 5, 6
    stall_again = [7.998, 7.998, 7.998, 7.998]  # 7 = reference, stagnant 8, 9, 10
    # Slow steady decrease: 0.04 % per epoch, below tol each epoch but 0.12 % over
    # three epochs, so the reference moves every 3rd epoch and λ must NOT decay.
    slow = [7.99 * (1 - 4e-4) ** j for j in range(10)]  # epochs 11..20
    stall_end = [slow[-1]] * 3  # epochs 21..23, reference at epoch 20 (j = 9)
    losses = fast_then_stall + stall_again + slow + stall_end
    s = _gdc()
    assert _decay_epochs(s, losses) == [6, 10, 23]
    assert s._lam == pytest.approx(0.125)


def test_gdc_lambda_does_not_decay_while_loss_decreases_fast():
    s = _gdc()
    assert _decay_epochs(s, [10.0 * 0.5**j for j in range(20)]) == []
    assert s.lam == 1.0


def test_gdc_lambda_decays_every_patience_epochs_on_a_flat_loss():
    # A flat loss is stagnant whatever the reference convention: λ decays at least
    # once per (patience + 1) epochs and never more often than once per patience.
    s = _gdc(lambda_patience=3)
    epochs = _decay_epochs(s, [5.0] * 24)
    gaps = [b - a for a, b in zip([0] + epochs, epochs)]
    assert len(epochs) >= 24 // 4
    assert all(3 <= g <= 4 for g in gaps), epochs


def test_gdc_lambda_decay_one_keeps_lambda():
    s = _gdc(lambda_decay=1.0, lambda_patience=1)
    _decay_epochs(s, [5.0] * 10)
    assert s.lam == 1.0 and s.stage == "nrae"


# ------------------------------------------------------------------ stage switches

# e_M = 2, K = 4: λ_c = (ln F_max(float64) - ln 4) / 2
E_SWITCH = torch.tensor([0.5, 2.0, 1.0, 0.25], dtype=F64)
LAMBDA_C = (math.log(torch.finfo(F64).max) - math.log(4)) / 2.0


def test_lambda_critical_known_value():
    assert criteria.lambda_critical(2.0, 4, F64) == pytest.approx(LAMBDA_C, rel=1e-15)
    assert LAMBDA_C == pytest.approx(354.19821, abs=1e-5)


@pytest.mark.parametrize("normalized_step", [True, False])
def test_gdc_stage_follows_lambda_critical_and_lambda_min(normalized_step):
    s = GradualDeconvexification(
        lambda_init=1000.0, lambda_decay=0.5, lambda_patience=1, lambda_tol=1.0,
        normalized_step=normalized_step,
    )
    s.start(E_SWITCH.clone(), None)
    assert s.lambda_min == pytest.approx(1000.0 * AUTO_LAMBDA_MIN_RATIO) == 10.0
    seen = []
    for _ in range(40):
        raw = s._lam
        if s.stage == "mean":
            expected = "mean"
        else:
            expected = "rae" if raw < LAMBDA_C else "nrae"
        if raw < 10.0:
            expected = "mean"
        assert s.stage == expected, (raw, s.stage)
        assert s.normalize_gradient is (normalized_step and expected == "rae")
        assert s.final is (expected == "mean")
        assert s.early_stopping_allowed is (expected != "nrae")
        assert s.lam == (0.0 if expected == "mean" else raw)
        seen.append(s.stage)
        s.end_epoch(1.0, E_SWITCH)  # flat loss: λ decays on stagnancy
    # the stages come in order nrae -> rae -> mean and all three are visited
    order = [st for i, st in enumerate(seen) if i == 0 or seen[i - 1] != st]
    assert order == ["nrae", "rae", "mean"]
    # λ sequence 1000, 500 (nrae), 250, 125, ..., 15.625 (rae), 7.8125 -> mean
    assert seen.count("nrae") >= 2 and seen.count("rae") >= 5


def test_gdc_switch_is_strict_at_lambda_critical():
    at = GradualDeconvexification(lambda_init=LAMBDA_C, lambda_min=0.0)
    at.start(E_SWITCH.clone(), None)
    assert at.stage == "nrae"  # λ = λ_c is not < λ_c
    below = GradualDeconvexification(lambda_init=math.nextafter(LAMBDA_C, 0.0), lambda_min=0.0)
    below.start(E_SWITCH.clone(), None)
    assert below.stage == "rae"
    no_switch = GradualDeconvexification(lambda_init=1.0, lambda_min=0.0, switch_to_rae=False)
    no_switch.start(E_SWITCH.clone(), None)
    assert no_switch.stage == "nrae"


def test_gdc_switch_uses_weighted_k_and_ignores_zero_weight_errors():
    # weights sum to 10 (K in λ_c); the zero-weight sample with error 50 is not e_M.
    errors = torch.tensor([0.5, 2.0, 1.0, 50.0], dtype=F64)
    weights = torch.tensor([3.0, 3.0, 4.0, 0.0], dtype=F64)
    lam_c = (math.log(torch.finfo(F64).max) - math.log(10.0)) / 2.0
    at = GradualDeconvexification(lambda_init=lam_c, lambda_min=0.0)
    at.start(errors.clone(), weights)
    assert at.stage == "nrae"
    below = GradualDeconvexification(lambda_init=math.nextafter(lam_c, 0.0), lambda_min=0.0)
    below.start(errors.clone(), weights)
    assert below.stage == "rae"


def test_gdc_lambda_min_auto_with_auto_lambda_init():
    s = GradualDeconvexification(lambda_init="auto")
    s.start(E_SWITCH.clone(), None)
    lam0 = auto_lambda(E_SWITCH)
    assert s.lam == lam0
    assert s.lambda_min == pytest.approx(lam0 / 100.0, rel=1e-15)


def test_gdc_mean_stage_loss_is_plain_mean():
    s = GradualDeconvexification(lambda_init=1.0, lambda_min=2.0)
    s.start(E_SWITCH.clone(), None)
    assert s.stage == "mean" and s.lam == 0.0
    assert s.epoch_loss(E_SWITCH, None) == pytest.approx(float(E_SWITCH.mean()), rel=1e-15)
    before = s._lam
    for _ in range(5):
        s.end_epoch(1.0, E_SWITCH)
    assert s.stage == "mean" and s._lam == before  # no more decays in the final stage


# ------------------------------------------------------------------- auto lambda


def test_auto_lambda_spread_is_one():
    e = torch.tensor([0.2, 0.9, 0.4, 3.0, 1.5], dtype=F64)
    lam = auto_lambda(e)
    assert lam * (3.0 - 0.9) == pytest.approx(1.0, rel=1e-15)


def test_auto_lambda_even_count_uses_lower_median():
    e = torch.tensor([1.0, 2.0, 3.0, 10.0], dtype=F64)
    assert auto_lambda(e) == pytest.approx(1.0 / 8.0, rel=1e-15)


def test_auto_lambda_fallbacks():
    assert auto_lambda(torch.full((4,), 0.5, dtype=F64)) == pytest.approx(2.0)
    assert auto_lambda(torch.zeros(4, dtype=F64)) == 1.0


@pytest.mark.parametrize("seed", range(6))
def test_auto_lambda_weighted_equals_repeated(seed):
    g = torch.Generator().manual_seed(seed)
    e = torch.rand(7, generator=g, dtype=F64) * 3
    w = torch.randint(0, 4, (7,), generator=g)
    w[int(e.argmax())] = 0  # the largest error must be ignored when its weight is 0
    w[0] = max(int(w[0]), 1)
    repeated = e.repeat_interleave(w)
    assert auto_lambda(e, w.to(F64)) == pytest.approx(auto_lambda(repeated), rel=1e-14)


# ------------------------------------------------------------ batch vs global


def _one_epoch(strategy, model, X, Y, batch_size, lr=0.1):
    return train(
        model, criteria.squared_errors, strategy, X, Y, _sgd(lr), max_iter=1,
        batch_size=batch_size, shuffle=False,
    )


@pytest.mark.parametrize("lam", [0.5, 5.0, 1e4])
def test_full_batch_global_step_equals_batch_step(lam):
    X, Y = _data(k=8)
    torch.manual_seed(0)
    base = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1)).to(F64)
    a, b = copy.deepcopy(base), copy.deepcopy(base)
    _one_epoch(ConstantNRAE(lam, normalizer="batch"), a, X, Y, batch_size=8)
    _one_epoch(ConstantNRAE(lam, normalizer="global"), b, X, Y, batch_size=8)
    assert not torch.equal(_flat(a), _flat(base))
    torch.testing.assert_close(_flat(a), _flat(b), rtol=1e-13, atol=1e-15)


def _grads(model, loss):
    model.zero_grad(set_to_none=True)
    loss.backward()
    return torch.cat([p.grad.reshape(-1) for p in model.parameters()])


def test_pairwise_batch_nrae_gradient_is_squared_error_gradient():
    X, Y = _data(k=5)
    model = _linear([0.7, -0.4], 0.2)
    s = ConstantNRAE(1e4, normalizer="batch")
    s.start(per_sample_errors(model, criteria.squared_errors, X, Y), None)
    idx = torch.tensor([3])
    g_nrae = _grads(model, s.batch_loss(criteria.squared_errors(model(X[idx]), Y[idx]), idx, None))
    g_sq = _grads(model, criteria.squared_errors(model(X[idx]), Y[idx]).sum())
    torch.testing.assert_close(g_nrae, g_sq, rtol=1e-14, atol=0)


@pytest.mark.parametrize("lam", [0.3, 3.0])
def test_pairwise_global_gradient_matches_hand_formula(lam):
    # f(x) = a x + b, e_k = (y_k - f(x_k))^2, ∇_a e = -2 (y - f) x, ∇_b e = -2 (y - f)
    xs = [0.5, -1.0, 2.0, 0.25]
    ys = [1.0, 0.0, -1.0, 2.0]
    a, b = 0.8, -0.3
    X = torch.tensor(xs, dtype=F64).reshape(-1, 1)
    Y = torch.tensor(ys, dtype=F64).reshape(-1, 1)
    model = _linear([a], b)
    cache = per_sample_errors(model, criteria.squared_errors, X, Y)
    s = ConstantNRAE(lam, normalizer="global")
    s.start(cache, None)
    k = 2
    idx = torch.tensor([k])
    e = criteria.squared_errors(model(X[idx]), Y[idx])
    cache[idx] = e.detach()  # what the loop does before batch_loss
    grad = _grads(model, s.batch_loss(e, idx, None))

    errs = [(y - (a * x + b)) ** 2 for x, y in zip(xs, ys)]
    K = len(xs)
    weight = K * math.exp(lam * errs[k]) / sum(math.exp(lam * ej) for ej in errs)
    r = ys[k] - (a * xs[k] + b)
    expected = torch.tensor([weight * -2 * r * xs[k], weight * -2 * r], dtype=F64)
    torch.testing.assert_close(grad, expected, rtol=1e-13, atol=0)
    assert weight != pytest.approx(1.0, abs=0.1)  # λ matters here, unlike batch


def test_pairwise_global_epoch_matches_manual_loop():
    X, Y = _data(k=5, d=2, seed=3)
    lam, lr = 2.0, 0.05
    model = _linear([0.1, 0.2], 0.0)
    _one_epoch(ConstantNRAE(lam, normalizer="global"), model, X, Y, batch_size=1, lr=lr)

    w = torch.tensor([0.1, 0.2], dtype=F64)
    b = torch.tensor(0.0, dtype=F64)
    cache = ((Y[:, 0] - (X @ w + b)) ** 2).clone()
    for k in range(5):
        r = Y[k, 0] - (X[k] @ w + b)
        cache[k] = r * r
        weight = 5 * torch.exp(lam * cache[k] - torch.logsumexp(lam * cache, 0))
        w = w - lr * weight * (-2 * r * X[k])
        b = b - lr * weight * (-2 * r)
    torch.testing.assert_close(model.weight.detach()[0], w, rtol=1e-13, atol=1e-15)
    torch.testing.assert_close(model.bias.detach()[0], b, rtol=1e-13, atol=1e-15)


# -------------------------------------------------------------- stage-2 step


@pytest.mark.parametrize("batch_size", [8, 2])
def test_rae_stage_normalized_sgd_step_has_length_lr(batch_size):
    X, Y = _data(k=8)
    torch.manual_seed(1)
    model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1)).to(F64)
    lr = 0.01
    steps = []

    class Recorder(torch.optim.SGD):
        def step(self, closure=None):
            before = torch.cat([p.detach().reshape(-1).clone() for g in self.param_groups for p in g["params"]])
            out = super().step(closure)
            after = torch.cat([p.detach().reshape(-1) for g in self.param_groups for p in g["params"]])
            steps.append(float(torch.linalg.vector_norm(after - before)))
            return out

    s = GradualDeconvexification(lambda_init=1.0, lambda_min=0.0, lambda_patience=100)
    hist = train(
        model, criteria.squared_errors, s, X, Y,
        lambda groups: Recorder(groups, lr=lr, momentum=0.0),
        max_iter=2, batch_size=batch_size, shuffle=False,
    )
    assert hist.stage == ["rae", "rae"]
    assert len(steps) == 2 * (8 // batch_size)
    for length in steps:
        assert length == pytest.approx(lr, rel=1e-12)


def test_rae_stage_without_normalized_step_takes_gradient_step():
    X, Y = _data(k=8)
    model = _linear([0.5, 0.5], 0.0)
    before = _flat(model)
    s = GradualDeconvexification(
        lambda_init=1.0, lambda_min=0.0, lambda_patience=100, normalized_step=False
    )
    ref = copy.deepcopy(model)
    c = criteria.nrae(criteria.squared_errors(ref(X), Y), 1.0)
    g = _grads(ref, c)
    hist = _one_epoch(s, model, X, Y, batch_size=8, lr=0.01)
    assert hist.stage == ["rae"]
    torch.testing.assert_close(before - _flat(model), 0.01 * g, rtol=1e-12, atol=1e-15)
    assert float(torch.linalg.vector_norm(0.01 * g)) != pytest.approx(0.01, rel=1e-3)


# ------------------------------------------------------------------------ the loop


def test_history_lengths_and_mean_loss_is_cache_mean():
    X, Y = _data(k=8)
    model = _linear([0.5, -0.5], 0.3)
    init_errors = per_sample_errors(model, criteria.squared_errors, X, Y)
    s = _spy(MeanLoss, model)
    hist = train(model, criteria.squared_errors, s, X, Y, _sgd(0.05), max_iter=6,
                 batch_size=8, shuffle=False)
    assert hist.n_iter == 6 and hist.stop_reason == "max_iter"
    for name in ("loss", "mean_error", "lam", "stage"):
        assert len(getattr(hist, name)) == 6
    assert hist.validation_scores == []
    assert hist.lam == [None] * 6 and hist.stage == ["mean"] * 6
    for loss, mean_error, cache in zip(hist.loss, hist.mean_error, s.caches):
        assert loss == pytest.approx(float(cache.mean()), rel=1e-15)
        assert mean_error == pytest.approx(float(cache.mean()), rel=1e-15)
    # full batch: epoch 0's cache holds the initial errors, epoch e's the errors of
    # the weights at the end of epoch e - 1
    torch.testing.assert_close(s.caches[0], init_errors, rtol=1e-15, atol=0)
    probe = copy.deepcopy(model)
    for e in range(1, 6):
        probe.load_state_dict(s.snapshots[e - 1])
        torch.testing.assert_close(
            s.caches[e], per_sample_errors(probe, criteria.squared_errors, X, Y), rtol=1e-14, atol=0
        )
    assert hist.loss[-1] < hist.loss[0]
    assert not model.training  # left in evaluation mode


def test_minibatch_cache_holds_errors_seen_during_the_epoch():
    X, Y = _data(k=6)
    model = _linear([0.5, -0.5], 0.3)
    s = _spy(MeanLoss, model)
    probe = copy.deepcopy(model)
    train(model, criteria.squared_errors, s, X, Y, _sgd(0.1), max_iter=1, batch_size=2,
          shuffle=False)
    # batches (0, 1), (2, 3), (4, 5): batch j is seen with the weights after j steps
    opt = torch.optim.SGD(probe.parameters(), lr=0.1)
    expected = torch.empty(6, dtype=F64)
    for start in (0, 2, 4):
        e = criteria.squared_errors(probe(X[start:start + 2]), Y[start:start + 2])
        expected[start:start + 2] = e.detach()
        opt.zero_grad()
        e.mean().backward()
        opt.step()
    torch.testing.assert_close(s.caches[0], expected, rtol=1e-14, atol=0)


def test_nan_guard_stops_and_restores_best_weights():
    X, Y = _data(k=8)
    model = Flaky(nan_from=3)  # full batch: epochs 0, 1 finite, NaN from epoch 2 on
    s = _spy(MeanLoss, model)
    hist = _train_guarded(model, criteria.squared_errors, s, X, Y, _sgd(0.05), max_iter=10,
                          batch_size=8, shuffle=False)
    assert hist.stop_reason == "diverged"
    assert hist.n_iter == 3
    assert math.isnan(hist.loss[2]) and all(math.isfinite(v) for v in hist.loss[:2])
    assert len(s.snapshots) == 2  # end_epoch is not called for the diverged epoch
    best = max(range(2), key=lambda i: -hist.mean_error[i])
    assert hist.best_epoch == best
    assert _state_equal(model, s.snapshots[best])
    assert all(bool(torch.isfinite(p).all()) for p in model.parameters())


def test_nan_in_first_epoch_restores_initial_weights():
    X, Y = _data(k=8)
    model = Flaky(nan_from=1)
    initial = snapshot(model)
    hist = _train_guarded(model, criteria.squared_errors, MeanLoss(), X, Y, _sgd(0.05),
                          max_iter=5, batch_size=8)
    assert hist.stop_reason == "diverged" and hist.n_iter == 1 and hist.best_epoch == -1
    assert _state_equal(model, initial)


def test_keyboard_interrupt_keeps_best_weights():
    X, Y = _data(k=8)
    model = Flaky(interrupt_at=4)  # epochs 0, 1, 2 complete; interrupted in epoch 3
    s = _spy(MeanLoss, model)
    hist = _train_guarded(model, criteria.squared_errors, s, X, Y, _sgd(0.05), max_iter=10,
                          batch_size=8, shuffle=False)
    assert hist.stop_reason == "interrupted"
    assert hist.n_iter == 3 and len(s.snapshots) == 3
    best = max(range(3), key=lambda i: -hist.mean_error[i])
    assert hist.best_epoch == best
    assert _state_equal(model, s.snapshots[best])
    assert not model.training


def test_early_stopping_restores_best_validation_weights():
    X, Y = _data(k=8)
    model = _linear([0.5, -0.5], 0.3)
    scores = iter([0.1, 0.5, 0.3, 0.2, 0.2, 0.9, 0.9])
    s = _spy(MeanLoss, model)
    hist = train(model, criteria.squared_errors, s, X, Y, _sgd(0.05), max_iter=20,
                 batch_size=8, shuffle=False,
                 callbacks=[ValidationScore(lambda m: next(scores)),
                            EarlyStopping(tol=0.0, n_iter_no_change=2), BestWeights(restore=True)])
    # best at epoch 1; epochs 2, 3, 4 without improvement > n_iter_no_change = 2
    assert hist.stop_reason == "early_stopping"
    assert hist.n_iter == 5
    assert hist.validation_scores == [0.1, 0.5, 0.3, 0.2, 0.2]
    assert hist.best_epoch == 1 and hist.best_score == 0.5
    assert _state_equal(model, s.snapshots[1])
    assert not _state_equal(model, s.snapshots[4])


class Recording(nn.Module):
    """Linear(1, 1) recording the inputs of its training-mode forward calls."""

    def __init__(self):
        super().__init__()
        self.lin = _linear([0.1], 0.0)
        self.seen = []

    def forward(self, x):
        if self.training:
            self.seen.append(x[:, 0].detach().clone())
        return self.lin(x)


def _shuffled_run(seed, k=10, batch_size=3, epochs=3):
    X = torch.arange(k, dtype=F64).reshape(-1, 1) / k
    Y = torch.sin(X)
    model = Recording()
    gen = torch.Generator().manual_seed(seed) if seed is not None else None
    train(model, criteria.squared_errors, MeanLoss(), X, Y, _sgd(0.1), max_iter=epochs,
          batch_size=batch_size, shuffle=True, generator=gen)
    order = (torch.cat(model.seen) * k).round().long()
    return order.reshape(epochs, k), _flat(model)


def test_shuffling_is_reproducible_with_the_generator_seed():
    order_a, w_a = _shuffled_run(seed=7)
    order_b, w_b = _shuffled_run(seed=7)
    order_c, w_c = _shuffled_run(seed=8)
    assert torch.equal(order_a, order_b) and torch.equal(w_a, w_b)
    assert not torch.equal(order_a, order_c) and not torch.equal(w_a, w_c)
    g = torch.Generator().manual_seed(7)
    for epoch in range(3):
        assert torch.equal(order_a[epoch], torch.randperm(10, generator=g))


def test_no_shuffle_visits_samples_in_order():
    X = torch.arange(6, dtype=F64).reshape(-1, 1)
    model = Recording()
    train(model, criteria.squared_errors, MeanLoss(), X, X * 0, _sgd(0.0001), max_iter=2,
          batch_size=4, shuffle=False)
    assert [t.tolist() for t in model.seen] == [[0, 1, 2, 3], [4, 5], [0, 1, 2, 3], [4, 5]]


class SizeRecorder(nn.Module):
    """Linear(1, 1) recording the batch size of grad-enabled training forward calls."""

    def __init__(self, w=0.0, b=0.0):
        super().__init__()
        self.lin = _linear([w], b)
        self.grad_sizes = []

    def forward(self, x):
        if self.training and torch.is_grad_enabled():
            self.grad_sizes.append(x.shape[0])
        return self.lin(x)


def test_fast_gradient_backpropagates_only_weighted_samples_and_fills_cache():
    # f = 0 at start, errors y^2 = 0, 1, 4, 9, 9 (two tied worst samples).
    X = torch.tensor([[0.0], [1.0], [2.0], [3.0], [3.0]], dtype=F64)
    Y = X.clone()
    model = SizeRecorder()
    s = _spy(GradualDeconvexification, model, lambda_init=1e9, fast_gradient=True,
             lambda_min=0.0, lambda_patience=100)
    s.spied_module = model
    train(model, criteria.squared_errors, s, X, Y, _sgd(0.001), max_iter=2, batch_size=5,
          shuffle=False)
    assert s.stage == "nrae" and s.log_cutoff == pytest.approx(
        criteria.fast_gradient_log_cutoff(5, torch.float32)
    )
    assert model.grad_sizes[0] == 2  # only the two worst samples carry weight
    # the step is the gradient of e_M (π = 1/2 on each of the two tied samples)
    r = 3.0
    expected_w = 0.001 * (2 * r * 3.0)  # -lr * ∇_a e = lr * 2 r x
    assert float(s.snapshots[0]["lin.weight"]) == pytest.approx(expected_w, rel=1e-12)
    # the cache of epoch 1 holds the errors of *every* sample under the weights after
    # epoch 0, not stale values for the dropped samples
    probe = copy.deepcopy(model)
    probe.load_state_dict(s.snapshots[0])
    fresh = per_sample_errors(probe, criteria.squared_errors, X, Y)
    torch.testing.assert_close(s.caches[1], fresh, rtol=1e-14, atol=0)
    assert not torch.allclose(s.caches[1][:3], s.caches[0][:3])


@pytest.mark.parametrize(
    "normalizer",
    ["batch", "global"],
)
def test_fast_gradient_same_step_as_full_gradient(normalizer):
    X, Y = _data(k=8)
    a, b = _linear([0.5, -0.5], 0.3), _linear([0.5, -0.5], 0.3)
    for model, fast in ((a, True), (b, False)):
        s = GradualDeconvexification(lambda_init=1e6, fast_gradient=fast, lambda_min=0.0,
                                     lambda_patience=100, normalizer=normalizer)
        train(model, criteria.squared_errors, s, X, Y, _sgd(0.01), max_iter=3, batch_size=4,
              shuffle=False)
        assert (s.log_cutoff is not None) is fast
    assert not torch.equal(_flat(a), torch.tensor([0.5, -0.5, 0.3], dtype=F64))
    torch.testing.assert_close(_flat(a), _flat(b), rtol=1e-12, atol=1e-14)


# -------------------------------------------------------------------- ANRAT


def test_adaptive_lambda_starts_at_lambda_init():
    assert AdaptiveLambda().lam == pytest.approx(8.0, rel=1e-6)
    assert AdaptiveLambda(lambda_init=3.0, dtype=F64).lam == pytest.approx(3.0, rel=1e-14)
    s = AdaptiveLambda(dtype=F64)
    assert s.extra_parameters() == [s.rho]
    assert s.rho.requires_grad
    assert float(torch.nn.functional.softplus(s.rho.detach())) == pytest.approx(8.0, rel=1e-14)


def _anrat_run(penalty, epochs=15, weight_decay=0.0, record=None):
    X, Y = _data(k=16, seed=5)
    torch.manual_seed(2)
    model = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1)).to(F64)
    s = AdaptiveLambda(lambda_init=8.0, penalty=penalty, dtype=F64)

    def factory(groups):
        if record is not None:
            record.extend(groups)
        return torch.optim.SGD(groups, lr=0.05)

    groups = param_groups(model, s.extra_parameters(), [model[0].weight, model[2].weight],
                          weight_decay)
    hist = train(model, criteria.squared_errors, s, X, Y, factory(groups), max_iter=epochs,
                 batch_size=16, shuffle=False, callbacks=[Convergence(n_iter_no_change=100)])
    return s, hist, model


def test_adaptive_lambda_rho_in_its_own_group_without_weight_decay():
    groups = []
    s, hist, model = _anrat_run(penalty=0.01, epochs=2, weight_decay=0.1, record=groups)
    rho_groups = [g for g in groups if any(p is s.rho for p in g["params"])]
    assert len(rho_groups) == 1 and rho_groups[0]["weight_decay"] == 0.0
    assert rho_groups[0]["params"] == [s.rho]
    decay_group = [g for g in groups if g["weight_decay"] == 0.1]
    assert len(decay_group) == 1
    assert {id(p) for p in decay_group[0]["params"]} == {id(model[0].weight), id(model[2].weight)}
    all_ids = [id(p) for g in groups for p in g["params"]]
    assert len(all_ids) == len(set(all_ids)) == len(list(model.parameters())) + 1


def test_adaptive_lambda_moves_and_penalty_holds_it_up():
    s0, h0, _ = _anrat_run(penalty=0.0)
    s1, h1, _ = _anrat_run(penalty=50.0)
    assert h0.stop_reason == h1.stop_reason == "max_iter"
    assert all(math.isfinite(v) for v in h0.loss + h1.loss)
    assert h1.loss[-1] < h1.loss[0]
    assert len(set(h0.lam)) == 15 and h0.stage == ["adaptive"] * 15
    # without penalty descent lowers λ (∂NRAE/∂λ ≥ 0); a large penalty raises it
    assert h0.lam[-1] < 8.0
    assert h1.lam[-1] > 8.0
    assert h1.lam[-1] > h0.lam[-1]
    assert all(b <= a + 1e-12 for a, b in zip(h0.lam, h0.lam[1:]))


def test_adaptive_epoch_loss_is_anrat_objective():
    s = AdaptiveLambda(lambda_init=4.0, penalty=0.5, power=2.0, dtype=F64)
    e = torch.tensor([0.1, 0.7, 0.3], dtype=F64)
    s.start(e, None)
    expected = float(criteria.nrae(e, 16.0)) + 0.5 / 4.0
    assert s.epoch_loss(e, None) == pytest.approx(expected, rel=1e-12)


# ------------------------------------------------------------- learning-rate steps


def test_lr_step_in_final_stage_only():
    X, Y = _data(k=4)
    lrs = []

    class Recorder(torch.optim.SGD):
        def step(self, closure=None):
            lrs.append(self.param_groups[0]["lr"])
            return super().step(closure)

    # GDC: 2 stagnant NRAE epochs at λ = 1 < ... then plain stage (lambda_min = 0.75)
    s = GradualDeconvexification(lambda_init=1.0, lambda_decay=0.5, lambda_tol=1.0,
                                 lambda_patience=1, lambda_min=0.75, switch_to_rae=False)
    model = _linear([0.1, 0.1], 0.0)
    hist = train(model, criteria.squared_errors, s, X, Y,
                 lambda g: Recorder(g, lr=0.01), max_iter=9, batch_size=4, shuffle=False,
                 callbacks=[LearningRateSteps(2, 0.5), Convergence(n_iter_no_change=100)])
    first_mean = hist.stage.index("mean")
    assert all(st == "nrae" for st in hist.stage[:first_mean])
    assert lrs[:first_mean] == [0.01] * first_mean  # no steps before the final stage
    expected = [0.01 * 0.5 ** (j // 2) for j in range(9 - first_mean)]
    assert lrs[first_mean:] == pytest.approx(expected, rel=1e-15)

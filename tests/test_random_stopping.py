"""Random-stopping SGD, gradient-norm recording, denoising pretraining and dropout (issue 7).

The loop-level tests replay SGD by hand in float64 and compare weights to 1e-12; the
estimator-level tests check that the drawn R, the returned iterate and the recorded
curves are what the documentation says.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from scipy import stats
from sklearn.datasets import load_digits
from torch import nn

from skconvex import CPNAClassifier, GDCClassifier, GDCRegressor, RVSMClassifier
from skconvex.convergence import draw_stopping_iteration, random_stopping_pmf
from skconvex.criteria import squared_errors
from skconvex.nn import MLP
from skconvex.training import (
    BestWeights,
    Convergence,
    GradientNormRecorder,
    MeanLoss,
    RandomStopping,
    train,
)
from skconvex.training import BoxProjection, DenoisingAutoencoder, pretrain_denoising

F64 = torch.float64


def _problem(n=10, d=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=g, dtype=F64)
    Y = torch.randn(n, 1, generator=g, dtype=F64)
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Linear(d, 4), nn.Tanh(), nn.Linear(4, 1)).to(F64)
    return X, Y, net


def _flat(module):
    return torch.cat([p.detach().reshape(-1) for p in module.parameters()])


def _sgd(lr):
    return lambda groups: torch.optim.SGD(groups, lr=lr)


def _hand_sgd(net, X, Y, *, steps, batch_size, lr, seed):
    """Plain minibatch SGD on the mean squared error, with the loop's shuffling order."""
    g = torch.Generator().manual_seed(seed)
    n, taken, norms = len(X), 0, []
    while taken < steps:
        order = torch.randperm(n, generator=g)
        for start in range(0, n, batch_size):
            if taken == steps:
                break
            idx = order[start : start + batch_size]
            net.zero_grad()
            squared_errors(net(X[idx]), Y[idx]).mean().backward()
            grads = [p.grad for p in net.parameters()]
            norms.append(float(torch.sqrt(sum((gr**2).sum() for gr in grads))))
            with torch.no_grad():
                for p in net.parameters():
                    p -= lr * p.grad
            taken += 1
    return norms


# ----------------------------------------------------------------------- the loop


@pytest.mark.parametrize("steps", [1, 4, 7, 9])
def test_loop_stops_after_exactly_the_given_steps(steps):
    X, Y, net = _problem()
    hand = _problem()[2]
    hand.load_state_dict(net.state_dict())
    history = train(
        net, squared_errors, MeanLoss(), X, Y, _sgd(0.1), batch_size=4, max_iter=50,
        generator=torch.Generator().manual_seed(3),
        callbacks=[RandomStopping(steps), GradientNormRecorder()],
    )
    norms = _hand_sgd(hand, X, Y, steps=steps, batch_size=4, lr=0.1, seed=3)
    assert history.stop_reason == "random_stop"
    assert history.n_steps == steps
    assert history.n_iter == -(-steps // 3)  # epochs begun, 3 minibatches each
    torch.testing.assert_close(_flat(net), _flat(hand), rtol=0, atol=1e-12)
    np.testing.assert_allclose(history.grad_norm, norms, rtol=1e-12)


def test_loop_stop_after_zero_returns_the_initial_weights():
    X, Y, net = _problem()
    before = _flat(net).clone()
    history = train(net, squared_errors, MeanLoss(), X, Y, _sgd(0.1), batch_size=4,
                    callbacks=[RandomStopping(0)])
    assert history.stop_reason == "random_stop" and history.n_iter == 0 and history.n_steps == 0
    torch.testing.assert_close(_flat(net), before, rtol=0, atol=0)


def test_loop_random_stop_ignores_convergence_and_does_not_restore_best():
    X, Y, net = _problem()
    # tol huge: without stop_after the loop would stop as "converged" after 2 epochs
    history = train(
        net, squared_errors, MeanLoss(), X, Y, _sgd(0.1), batch_size=10, max_iter=30,
        callbacks=[RandomStopping(25), Convergence(tol=1e9, n_iter_no_change=1),
                   BestWeights(restore=True)],
    )
    assert history.n_steps == 25 and history.stop_reason == "random_stop"


def test_loop_rejects_stop_after_beyond_the_budget():
    X, Y, net = _problem()
    with pytest.raises(ValueError, match="stop_after=31 steps do not fit this run: 10 epochs of 3"):
        train(net, squared_errors, MeanLoss(), X, Y, _sgd(0.1), batch_size=4, max_iter=10,
              callbacks=[RandomStopping(31)])


def test_grad_norm_is_not_recorded_by_default():
    X, Y, net = _problem()
    history = train(net, squared_errors, MeanLoss(), X, Y, _sgd(0.1), batch_size=4, max_iter=2)
    assert history.grad_norm == [] and history.n_steps == 6


# ------------------------------------------------------------------ the estimators


def _reg(**kw):
    params = dict(
        schedule="none", hidden_layer_sizes=(5,), solver="sgd", momentum=0.0,
        learning_rate_init=0.05, alpha=0.0, batch_size=8, dtype="float64", random_state=0,
    )
    return GDCRegressor(**{**params, **kw})


def _regression_data():
    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, size=(40, 3))
    return X, X[:, 0] - 2 * X[:, 1] * X[:, 2]


def test_same_random_state_same_stopping_iteration_and_weights():
    X, y = _regression_data()
    a = _reg(stopping="random", max_iter=20).fit(X, y)
    b = _reg(stopping="random", max_iter=20).fit(X, y)
    c = _reg(stopping="random", max_iter=20, random_state=1).fit(X, y)
    assert a.stopping_iteration_ == b.stopping_iteration_
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    assert 1 <= a.stopping_iteration_ <= 20 * 5
    assert a.stopping_iteration_ != c.stopping_iteration_  # (drawn: 4 vs 89 here)
    assert a.stop_reason_ == "random_stop"


def test_returned_weights_are_the_iterate_after_r_minus_one_steps():
    """A point mass at R = e·(batches) + 1 gives the weights of e full epochs."""
    X, y = _regression_data()
    n_batches, epochs = 5, 3
    pmf = np.zeros(40)
    pmf[epochs * n_batches] = 1.0  # R = 16: 15 steps
    stopped = _reg(stopping=pmf, record_grad_norm=True).fit(X, y)
    full = _reg(max_iter=epochs, n_iter_no_change=100, tol=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # max_iter reached
        full.fit(X, y)
    assert stopped.stopping_iteration_ == 16 and len(stopped.grad_norm_curve_) == 15
    assert stopped.n_iter_ == epochs
    for p, q in zip(stopped.module_.parameters(), full.module_.parameters()):
        torch.testing.assert_close(p, q, rtol=0, atol=0)


def test_r_equal_one_returns_the_initialization():
    X, y = _regression_data()
    init = _reg(stopping=[1.0, 0.0, 0.0]).fit(X, y)
    trained = _reg(stopping=[0.0, 0.0, 1.0]).fit(X, y)
    assert init.n_iter_ == 0 and init.stopping_iteration_ == 1
    assert init.loss_curve_ == [] and init.best_loss_ is None
    first = init.module_.linears[0].weight
    assert not torch.equal(first, trained.module_.linears[0].weight)


def test_empirical_distribution_of_r_matches_the_pmf():
    """5000 draws through the estimators' own path against P_R (decaying steps)."""
    steps = 0.5 / np.arange(1, 21) ** 0.7
    pmf = random_stopping_pmf(steps, lipschitz=13 / 8)
    est = _reg(stopping=pmf)
    draws = np.array([est._random_stopping_steps(20, seed) + 1 for seed in range(5000)])
    counts = np.bincount(draws, minlength=21)[1:]
    chi2 = stats.chisquare(counts, 5000 * pmf)
    assert chi2.pvalue > 0.01
    assert counts[0] > counts[-1]  # the weight decreases with k
    # "random" over N = max_iter × batches is uniform
    est = _reg(stopping="random")
    draws = np.array([est._random_stopping_steps(20, seed) + 1 for seed in range(5000)])
    assert stats.chisquare(np.bincount(draws, minlength=21)[1:]).pvalue > 0.01


def test_stopping_draw_is_the_convergence_module_draw():
    pmf = random_stopping_pmf([0.1] * 30, lipschitz=1.0)
    est = _reg(stopping=pmf)
    r = est._random_stopping_steps(30, 123) + 1
    assert r == draw_stopping_iteration(pmf, np.random.default_rng([123, 0x5709]))


def test_random_stopping_errors_are_named():
    X, y = _regression_data()
    with pytest.raises(ValueError, match="cannot be combined with early_stopping=True"):
        _reg(stopping="random", early_stopping=True).fit(X, y)
    with pytest.raises(ValueError, match="pmf must sum to 1"):
        _reg(stopping=[0.5, 0.2]).fit(X, y)
    with pytest.raises(ValueError, match="1-D pmf"):
        _reg(stopping=[[0.5, 0.5]]).fit(X, y)
    with pytest.raises(ValueError, match="'stopping' parameter"):
        _reg(stopping="sometimes").fit(X, y)
    with pytest.warns(UserWarning, match="learning_rate='step'"):
        _reg(stopping="random", learning_rate="step", max_iter=2).fit(X, y)


def test_grad_norm_curve_has_one_entry_per_step_for_every_estimator():
    X, y = load_digits(return_X_y=True)
    X, y = X[:200] / 16, y[:200]
    ests = [
        GDCClassifier(max_iter=2, batch_size=50, random_state=0, record_grad_norm=True),
        RVSMClassifier(max_iter=2, batch_size=50, random_state=0, record_grad_norm=True),
        CPNAClassifier(pretrain_iter=1, prune_iter=1, batch_size=50, random_state=0,
                       record_grad_norm=True),
    ]
    for est in ests:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.fit(X, y)
        assert len(est.grad_norm_curve_) == 4 * est.n_iter_
        assert all(np.isfinite(est.grad_norm_curve_)) and min(est.grad_norm_curve_) > 0
        assert est.stopping_iteration_ is None
    assert GDCClassifier(max_iter=1, early_stopping=True).fit(X, y).grad_norm_curve_ is None


def test_grad_norm_curve_extends_on_warm_start():
    X, y = _regression_data()
    est = _reg(max_iter=2, warm_start=True, record_grad_norm=True, n_iter_no_change=50)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, y)
        est.fit(X, y)
    assert len(est.grad_norm_curve_) == 20


# ---------------------------------------------------------------------- pretraining


def _toy_images(n=64, d=12, seed=0):
    g = torch.Generator().manual_seed(seed)
    prototypes = (torch.rand(3, d, generator=g) > 0.5).to(torch.float64)
    labels = torch.randint(0, 3, (n,), generator=g)
    noise = 0.1 * torch.rand(n, d, generator=g, dtype=F64)
    return (prototypes[labels] * 0.9 + noise).clamp(0, 1)


def test_box_constraint_holds_after_every_pretraining_step(monkeypatch):
    seen = []
    original = BoxProjection.after_step

    def spy(self, module):
        original(self, module)
        seen.append(max(float(p.detach().abs().max()) for p in self.params))

    monkeypatch.setattr(BoxProjection, "after_step", spy)
    torch.manual_seed(0)
    net = MLP(12, 2, hidden_layer_sizes=(8, 6), activation="logistic", init="torch").to(F64)
    X = _toy_images()
    # A large step pushes weights into the box's faces.
    pretrain_denoising(net, X, _sgd(5.0), box_bound=0.05, epochs=4, batch_size=16)
    assert len(seen) == 2 * 4 * 4
    assert max(seen) <= 0.05 and seen.count(0.05) > 0  # the bound is active and holds
    assert float(net.linears[1].weight.detach().abs().max()) <= 0.05


def test_reconstruction_loss_decreases_monotonically_on_a_toy_set():
    torch.manual_seed(0)
    net = MLP(12, 2, hidden_layer_sizes=(8, 6), activation="logistic").to(F64)
    X = _toy_images()
    # full batch, no corruption: projected gradient descent with a small step
    logs = pretrain_denoising(
        net, X, _sgd(0.2), keep_probability=1.0, box_bound=0.5, epochs=40, batch_size=64
    )
    for log in logs:
        curve = np.array(log["loss_curve"])
        assert np.all(np.diff(curve) < 0)
        assert log["final_loss"] < curve[0] <= log["initial_loss"] + 1e-12
    # and with corruption it still improves the clean reconstruction
    torch.manual_seed(0)
    net = MLP(12, 2, hidden_layer_sizes=(8,), activation="logistic").to(F64)
    (log,) = pretrain_denoising(net, X, _sgd(0.5), keep_probability=0.7, epochs=40, batch_size=16)
    assert log["final_loss"] < 0.5 * log["initial_loss"]


def test_corruption_is_bernoulli_keep_probability_in_training_only():
    torch.manual_seed(0)
    encoder = nn.Linear(1000, 2).to(F64)
    dae = DenoisingAutoencoder(encoder, "relu", "identity", keep_probability=0.7)
    seen = []
    encoder.register_forward_pre_hook(lambda module, args: seen.append(args[0].clone()))
    x = torch.ones(50, 1000, dtype=F64)
    dae.train()(x)
    kept = float((seen[-1] != 0).to(F64).mean())
    assert abs(kept - 0.7) < 0.01 and set(seen[-1].unique().tolist()) == {0.0, 1.0}
    dae.eval()(x)
    assert torch.equal(seen[-1], x)


def test_projected_gradient_norm_matches_hand_value():
    torch.manual_seed(0)
    net = MLP(12, 2, hidden_layer_sizes=(5,), activation="logistic").to(F64)
    X = _toy_images()
    layer = net.linears[0]
    w0, b0 = layer.weight.detach().clone(), layer.bias.detach().clone()
    # the hand gradient of the first (full-batch, uncorrupted) step
    ref = nn.Linear(12, 5).to(F64)
    with torch.no_grad():
        ref.weight.copy_(w0.clamp(-0.1, 0.1))
        ref.bias.copy_(b0)
    dae = DenoisingAutoencoder(ref, "logistic", "logistic", 1.0)
    squared_errors(dae(X), X).mean().backward()
    w, grad = ref.weight.detach(), ref.weight.grad
    expected = float(torch.linalg.vector_norm(w - (w - 2.0 * grad).clamp(-0.1, 0.1))) / 2.0
    (log,) = pretrain_denoising(
        net, X, _sgd(2.0), keep_probability=1.0, box_bound=0.1, epochs=3, batch_size=64, learning_rate=2.0
    )
    assert len(log["projected_grad_norm"]) == 3
    assert log["projected_grad_norm"][0] == pytest.approx(expected, rel=1e-10)


def test_gdc_pretraining_then_fine_tuning():
    X, y = load_digits(return_X_y=True)
    X, y = X[:300] / 16, y[:300]
    # R = 1: no supervised step, so the module holds the pretrained weights
    only = GDCClassifier(
        hidden_layer_sizes=(20, 10), pretrain="denoising", box_bound=0.2, pretrain_iter=3,
        stopping=[1.0], random_state=0, record_grad_norm=True, solver="sgd", momentum=0.0,
        learning_rate_init=0.1,
    ).fit(X, y)
    assert [len(c) for c in only.pretrain_loss_curves_] == [3, 3]
    assert [len(c) for c in only.pretrain_grad_norm_curves_] == [6, 6]  # 2 batches × 3
    box = float(np.float32(0.2))  # the bound as the float32 network holds it
    for linear in only.module_.linears[:-1]:
        assert float(linear.weight.detach().abs().max()) == box
    assert float(only.module_.linears[-1].weight.detach().abs().max()) > box  # output layer untouched
    tuned = GDCClassifier(
        hidden_layer_sizes=(20, 10), pretrain="denoising", box_bound=0.2, pretrain_iter=3,
        random_state=0, max_iter=40, learning_rate_init=0.01, schedule="none",
        criterion="cross_entropy",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # max_iter reached
        tuned.fit(X, y)
    assert tuned.pretrain_grad_norm_curves_ is None  # not asked for
    assert only.score(X, y) < 0.2 and tuned.score(X, y) > 0.99
    # fine-tuning is not box-constrained
    assert float(tuned.module_.linears[0].weight.detach().abs().max()) > box


def test_pretraining_and_dropout_errors():
    X, y = load_digits(return_X_y=True)
    with pytest.raises(ValueError, match="pretrains the hidden layers of the 'mlp' module"):
        GDCClassifier(module="lenet5", pretrain="denoising").fit(X[:20], y[:20])
    with pytest.raises(ValueError, match="dropout applies to the built-in modules"):
        GDCClassifier(module=lambda n_features, n_outputs: nn.Linear(n_features, n_outputs),
                      dropout=0.5).fit(X[:20], y[:20])
    with pytest.raises(ValueError, match="'dropout' parameter"):
        GDCClassifier(dropout=1.0).fit(X[:20], y[:20])
    with pytest.raises(ValueError, match="'denoising_rate' parameter"):
        GDCClassifier(pretrain="denoising", denoising_rate=0.0).fit(X[:20], y[:20])


def test_dropout_drops_inputs_and_hidden_units_in_training_only():
    X, y = load_digits(return_X_y=True)
    clf = GDCClassifier(hidden_layer_sizes=(30,), dropout=0.4, max_iter=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(X[:100], y[:100])
    net = clf.module_
    assert net.input_dropout.p == 0.4 and net.dropout.p == 0.4
    x = torch.tensor(X[:5], dtype=torch.float32)
    assert torch.equal(net(x), net(x))  # evaluation mode: deterministic
    net.train()
    assert not torch.equal(net(x), net(x))
    net.eval()
    # module_params set explicitly take precedence
    clf = GDCClassifier(dropout=0.4, module_params={"input_dropout": 0.0}, max_iter=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(X[:50], y[:50])
    assert clf.module_.input_dropout is None and clf.module_.dropout.p == 0.4


def test_pretraining_weights_act_as_repeated_rows():
    X = _toy_images(n=20)
    weights = torch.tensor([2.0, 1.0, 3.0, 1.0] * 5, dtype=F64)
    repeated = X.repeat_interleave(weights.to(torch.long), dim=0)
    nets = []
    for data, sw in ((X, weights), (repeated, None)):
        torch.manual_seed(0)
        net = MLP(12, 2, hidden_layer_sizes=(6,), activation="logistic").to(F64)
        (log,) = pretrain_denoising(
            net, data, _sgd(0.5), sample_weight=sw, keep_probability=1.0, epochs=5, batch_size=len(data)
        )
        nets.append((net, log))
    (a, log_a), (b, log_b) = nets
    torch.testing.assert_close(_flat(a), _flat(b), rtol=0, atol=1e-12)
    assert log_a["final_loss"] == pytest.approx(log_b["final_loss"], rel=1e-12)


def test_bad_stopping_fails_before_pretraining(monkeypatch):
    calls = []
    monkeypatch.setattr(GDCRegressor, "_pretrain", lambda self, *args: calls.append(1))
    X, y = _regression_data()
    with pytest.raises(ValueError, match="pmf must sum to 1"):
        _reg(stopping=[0.5, 0.2], pretrain="denoising").fit(X, y)
    with pytest.raises(ValueError, match="1-D pmf"):
        _reg(stopping=[[1.0]], pretrain="denoising").fit(X, y)
    assert calls == []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _reg(stopping="random", learning_rate="step", max_iter=2).fit(X, y)
    assert sum("learning_rate='step'" in str(w.message) for w in caught) == 1


def test_dropout_needs_a_module_with_a_dropout_layer():
    X, y = load_digits(return_X_y=True)
    for module in ("lenet5", "no_overlap_cnn"):
        with pytest.raises(ValueError, match=f"not module='{module}'"):
            GDCClassifier(module=module, dropout=0.3, image_shape=(1, 8, 8)).fit(X[:20], y[:20])
    clf = GDCClassifier(module="lenet5_20_50_500", dropout=0.3, image_shape=(1, 16, 16), max_iter=1)
    X16 = np.kron(X[:20].reshape(20, 8, 8), np.ones((2, 2))).reshape(20, -1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(X16, y[:20])
    assert clf.module_.dropout.p == 0.3


def test_ctrl_c_during_pretraining_keeps_the_pretrained_layers_and_skips_training(monkeypatch):
    X, y = load_digits(return_X_y=True)
    original, calls = BoxProjection.after_step, []

    def interrupt_on_third_step(self, module):
        original(self, module)
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt

    monkeypatch.setattr(BoxProjection, "after_step", interrupt_on_third_step)
    clf = GDCClassifier(hidden_layer_sizes=(16, 8), pretrain="denoising", box_bound=0.05,
                        batch_size=100, random_state=0)
    with pytest.warns(UserWarning, match="interrupted after 0 epochs"):
        clf.fit(X[:400] / 16, y[:400])
    assert clf.stop_reason_ == "interrupted" and clf.n_iter_ == 0
    assert len(clf.pretrain_loss_curves_) == 1  # the second layer was never reached
    assert float(clf.module_.linears[0].weight.detach().abs().max()) <= float(np.float32(0.05))
    assert clf.predict(X[:5] / 16).shape == (5,)


def test_monitors_see_the_randomly_stopped_iterate():
    X, y = load_digits(return_X_y=True)
    X, y = X[:200] / 16, y[:200]
    clf = CPNAClassifier(pretrain_iter=2, prune_iter=2, batch_size=50, random_state=0,
                         n_connections={"hidden": 0.1},  # the fixed-budget default before "auto"
                         stopping=np.r_[np.zeros(5), 1.0])  # R = 6: 5 steps, 2 epochs begun
    clf.fit(X, y)
    assert clf.n_iter_ == 2 and clf.stopping_iteration_ == 6
    assert len(clf.training_accuracy_curve_) == 2
    assert np.all(np.isfinite(clf.training_accuracy_curve_))
    assert clf.training_accuracy_curve_[-1] == pytest.approx(clf.score(X, y))
    assert clf.pruning_stages_ == []  # pruning starts at iteration 2, never reached

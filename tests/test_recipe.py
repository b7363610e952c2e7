"""The paper's recipe and the learning-rate step decay of its SSE stage."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning

from skconvex import PAPER_RECIPE, GDCClassifier
from skconvex.criteria import squared_errors
from skconvex.training import GradualDeconvexification, LearningRateSteps, MeanLoss, train

pytestmark = pytest.mark.filterwarnings("ignore", category=ConvergenceWarning)


def test_paper_recipe_trains_pairwise_with_sgd_and_the_global_normalizer():
    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, size=(24, 3))
    y = (X[:, 0] * X[:, 1] > 0).astype(int)
    clf = GDCClassifier(**PAPER_RECIPE, hidden_layer_sizes=(4,), max_iter=2, random_state=0)
    clf.fit(X, y)
    assert clf.stage_curve_ == ["nrae", "nrae"]  # λ₀ = 1e4 > λ_c, no stagnancy yet
    assert clf.lambda_curve_ == [1e4, 1e4]
    assert clf._module_args_["params"]["activation"] == "lecun_tanh"
    assert clf._module_args_["params"]["init"] == "paper"
    # Pairwise steps: the bound of U(±2.4/fan-in) holds at init and SGD moved the weights.
    first = clf.module_.linears[0].weight.detach()
    assert float(first.abs().max()) < 1.0


def _optimizer_recorder(store):
    def factory(groups):
        opt = torch.optim.SGD(groups, lr=0.1)
        store.append(opt)
        return opt

    return factory


class _LrProbe(MeanLoss):
    """Plain strategy that records the learning rate at the end of every epoch."""

    def __init__(self, store):
        self.store, self.lrs = store, []

    def end_epoch(self, loss, errors):
        self.lrs.append(self.store[0].param_groups[0]["lr"])


def test_step_decay_halves_the_rate_every_10_epochs_of_the_final_stage():
    torch.manual_seed(0)
    net = torch.nn.Linear(2, 1)
    X, Y = torch.randn(16, 2), torch.randn(16, 1)
    store = []
    probe = _LrProbe(store)
    train(net, squared_errors, probe, X, Y, _optimizer_recorder(store), max_iter=25,
          batch_size=16, callbacks=[LearningRateSteps(10, 0.5)])
    assert probe.lrs == [0.1] * 10 + [0.05] * 10 + [0.025] * 5


def test_step_decay_waits_for_the_plain_stage_of_gdc():
    torch.manual_seed(0)
    net = torch.nn.Linear(2, 1)
    X, Y = torch.randn(16, 2), torch.randn(16, 1)
    store = []
    # lambda_tol=1 makes every epoch stagnant; the first epoch after the start and after
    # each decay only sets the reference, so with patience 1 λ halves every 2nd epoch:
    # 8 → 4 → 2 → 1 → 0.5 < lambda_min = 1 after epoch 8.
    gdc = GradualDeconvexification(8.0, lambda_decay=0.5, lambda_tol=1.0, lambda_patience=1,
                                   lambda_min=1.0, switch_to_rae=False)
    lrs = []
    original = gdc.end_epoch

    def end_epoch(loss, errors):
        original(loss, errors)
        lrs.append(store[0].param_groups[0]["lr"])

    gdc.end_epoch = end_epoch
    history = train(net, squared_errors, gdc, X, Y, _optimizer_recorder(store), max_iter=16,
                    batch_size=16, callbacks=[LearningRateSteps(5, 0.5)])
    assert history.stage == ["nrae"] * 8 + ["mean"] * 8
    assert history.lam == [8.0, 8.0, 4.0, 4.0, 2.0, 2.0, 1.0, 1.0] + [0.0] * 8
    # Epochs 9–13 are the first five of the plain stage, then the rate halves.
    assert lrs == [0.1] * 13 + [0.05] * 3

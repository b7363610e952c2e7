"""Callbacks: everything the training loop does besides stepping the optimizer.

The loop (:func:`skconvex.training.train`) owns epochs, batches, masks, the optimizer
step, the non-finite guard and Ctrl-C. Every other concern is a :class:`Callback` with
a few hooks, called in list order:

==================  =====================================================  ===============
hook                when                                                    may return
==================  =====================================================  ===============
``on_train_begin``  once, after the initial error pass                      a stop reason
``on_epoch_begin``  before each epoch's shuffle                             --
``on_gradient``     after ``backward`` (masks applied), before the step     --
``on_step_end``     after each optimizer step                               a stop reason
``on_epoch_end``    after the epoch's loss is recorded                      a stop reason
``on_train_end``    once, also after divergence or Ctrl-C                   --
==================  =====================================================  ===============

A reason returned by ``on_train_begin`` skips training; one from ``on_step_end``
ends the epoch early (a *partial* epoch: ``ctx.partial`` is True at its
``on_epoch_end``, when monitors record and schedules hold still); one from
``on_epoch_end`` ends training after every callback has seen that epoch. The first
reason wins and becomes ``History.stop_reason``. Stop reasons are strings and are
kept apart from Ctrl-C ("interrupted"), which the loop catches itself.

The loop calls a hook only on the callbacks that override it, so a callback without
step hooks costs nothing per step.

Nothing here imports scikit-learn.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

__all__ = [
    "BestWeights",
    "Callback",
    "Convergence",
    "EarlyStopping",
    "GradientNormRecorder",
    "LearningRateSteps",
    "ProgressBar",
    "RandomStopping",
    "Stagnancy",
    "StepHook",
    "TrainingContext",
    "ValidationScore",
    "WeightDecay",
    "snapshot",
    "restore",
]

HOOKS = (
    "on_train_begin",
    "on_epoch_begin",
    "on_gradient",
    "on_step_end",
    "on_epoch_end",
    "on_train_end",
)


@torch.no_grad()
def per_sample_errors(
    module: nn.Module, per_sample_loss: Callable, X: Tensor, Y: Tensor, chunk: int = 1024
) -> Tensor:
    """Per-sample errors of the whole set, by chunks, in evaluation mode.

    The chunk bounds the activations held at once: 8192 LeNet-5 images added about
    600 MiB to a fit's peak memory (3.4 times MNIST itself), 1024 about 120 MiB.

    Examples
    --------
    >>> import torch
    >>> from skconvex.criteria import squared_errors
    >>> from skconvex.nn import MLP
    >>> from skconvex.training import per_sample_errors
    >>> _ = torch.manual_seed(0)
    >>> X, Y = torch.randn(5000, 3), torch.randn(5000, 2)
    >>> errors = per_sample_errors(MLP(3, 2, hidden_layer_sizes=(4,)), squared_errors, X, Y)
    >>> errors.shape, errors.dtype
    (torch.Size([5000]), torch.float64)
    """
    was_training = module.training
    module.eval()
    out = torch.cat(
        [per_sample_loss(module(X[i : i + chunk]), Y[i : i + chunk]) for i in range(0, len(X), chunk)]
    )
    module.train(was_training)
    return out


def weighted_mean(errors: Tensor, sample_weight: Tensor | None) -> Tensor:
    """The mean error, weighted by ``sample_weight`` when given."""
    if sample_weight is None:
        return errors.mean()
    return (errors * sample_weight).sum() / sample_weight.sum()


def snapshot(module: nn.Module) -> dict[str, Tensor]:
    """A detached copy of the module's state (parameters and buffers)."""
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def restore(module: nn.Module, state: dict[str, Tensor]) -> None:
    """Load a :func:`snapshot` back into ``module`` (in place, no autograd)."""
    with torch.no_grad():
        module.load_state_dict(state)


@dataclass
class TrainingContext:
    """What the loop shares with its callbacks (read it; write only where documented).

    ``errors`` is the error cache: the latest per-sample error of every training
    sample. ``epoch`` counts from 0, ``step`` the optimizer steps taken so far.
    ``partial`` is True at the ``on_epoch_end`` of an epoch cut short by a step hook.
    ``structure_changed`` is True in the epoch whose start shrank the masks.

    Examples
    --------
    >>> import torch
    >>> from skconvex.criteria import squared_errors
    >>> from skconvex.nn import MLP
    >>> from skconvex.training import MeanLoss, train
    >>> _ = torch.manual_seed(0)
    >>> X, Y = torch.randn(40, 3), torch.randn(40, 1)
    >>> sgd = lambda groups: torch.optim.SGD(groups, lr=0.05)
    >>> from skconvex.training import Callback
    >>> class CountSteps(Callback):
    ...     def on_epoch_end(self, ctx):
    ...         ctx.history.record("steps", ctx.step)
    >>> history = train(MLP(3, 1, hidden_layer_sizes=(4,)), squared_errors, MeanLoss(), X, Y,
    ...                 sgd, max_iter=3, batch_size=10, callbacks=[CountSteps()])
    >>> history.records["steps"]      # 4 minibatches per epoch
    [4, 8, 12]
    """

    module: nn.Module
    strategy: Any
    optimizer: torch.optim.Optimizer
    X: Tensor
    Y: Tensor
    sample_weight: Tensor | None
    errors: Tensor
    history: Any
    max_iter: int
    batch_size: int
    params: list[Tensor] = field(default_factory=list)
    per_sample_loss: Callable | None = None
    epoch: int = 0
    step: int = 0
    partial: bool = False
    structure_changed: bool = False
    #: Set by :class:`RandomStopping`: the drawn iterate is the answer, so no
    #: convergence stop and no best-weights restore (except after divergence or Ctrl-C).
    random_stopping: bool = False
    validation_score: float | None = None
    _grad_norm: Tensor | None = None

    @property
    def n_samples(self) -> int:
        return self.X.shape[0]

    @property
    def n_batches(self) -> int:
        """Minibatches per epoch."""
        return -(-self.n_samples // self.batch_size)

    def gradient_norm(self) -> Tensor | None:
        """Euclidean norm of the current step's gradient over the network's weights.

        A 0-d tensor (no host sync), computed once per step however many hooks ask.
        """
        if self._grad_norm is None:
            grads = [p.grad for p in self.params if p.grad is not None]
            if grads:
                self._grad_norm = torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))
        return self._grad_norm


class Callback:
    """Base class: override the hooks you need (see the module docstring).

    Examples
    --------
    A callback that records the first weight after every epoch and stops training
    with its own reason once it passes a bound:

    >>> import torch
    >>> from skconvex.criteria import squared_errors
    >>> from skconvex.nn import MLP
    >>> from skconvex.training import Callback, MeanLoss, train
    >>> class WatchWeight(Callback):
    ...     def on_epoch_end(self, ctx):
    ...         w = float(ctx.module.linears[0].weight[0, 0].detach())
    ...         ctx.history.record("w00", w)
    ...         return "weight_moved" if ctx.epoch >= 2 else None
    >>> _ = torch.manual_seed(0)
    >>> X, Y = torch.randn(32, 3), torch.randn(32, 1)
    >>> history = train(MLP(3, 1, hidden_layer_sizes=(4,)), squared_errors, MeanLoss(), X, Y,
    ...                 lambda groups: torch.optim.SGD(groups, lr=0.1), max_iter=10,
    ...                 batch_size=8, callbacks=[WatchWeight()])
    >>> history.stop_reason, history.n_iter, len(history.records["w00"])
    ('weight_moved', 3, 3)
    """

    def on_train_begin(self, ctx: TrainingContext) -> str | None:
        """Once before the first epoch; a returned reason skips training."""

    def on_epoch_begin(self, ctx: TrainingContext) -> None:
        """Before each epoch (after the strategy's own start of epoch)."""

    def on_gradient(self, ctx: TrainingContext) -> None:
        """After ``backward`` and the masks, before the optimizer step."""

    def on_step_end(self, ctx: TrainingContext) -> str | None:
        """After each optimizer step; a returned reason ends the epoch and training."""

    def on_epoch_end(self, ctx: TrainingContext) -> str | None:
        """After the epoch's loss is recorded; a returned reason ends training."""

    def on_train_end(self, ctx: TrainingContext) -> None:
        """Once at the end, whatever the reason (also divergence and Ctrl-C)."""


def overrides(callback: Callback, hook: str) -> bool:
    """Whether ``callback`` overrides ``hook`` (the loop skips the others)."""
    return getattr(type(callback), hook, None) is not getattr(Callback, hook)


class Stagnancy:
    """The one stagnancy detector: no improvement by ``tol`` for ``patience`` updates.

    ``relative=False`` is scikit-learn's MLP test (a value counts as no improvement
    when it is above the best so far minus ``tol``; stagnant when that happened more
    than ``patience`` times in a row). ``relative=True`` is GDC's (the value must fall
    below ``best − tol·|best|``; stagnant after ``patience`` such epochs; the first
    value after a reset sets the reference). Who owns it decides what stagnancy means:
    the :class:`Convergence` callback stops, GDC's strategy lowers λ.

    Examples
    --------
    >>> s = Stagnancy(tol=0.1, patience=1)
    >>> [s.update(v) for v in (1.0, 0.95, 0.93, 0.5)]
    [False, False, True, False]
    """

    def __init__(self, tol: float, patience: int, relative: bool = False):
        self.tol, self.patience, self.relative = tol, patience, relative
        self.reset()

    def reset(self) -> None:
        self.best = math.inf
        self.wait = 0

    def update(self, value: float) -> bool:
        """Feed one value; True when the run is stagnant (then the count restarts)."""
        if self.relative:
            improved = self.best == math.inf or value < self.best - self.tol * abs(self.best)
            if improved:
                self.best, self.wait = value, 0
            else:
                self.wait += 1
            if self.wait >= self.patience:
                self.reset()
                return True
            return False
        self.wait = self.wait + 1 if value > self.best - self.tol else 0
        self.best = min(self.best, value)
        return self.wait > self.patience


class ValidationScore(Callback):
    """Score the network after every epoch (in evaluation mode): higher is better.

    The score is appended to ``History.validation_scores`` and left in
    ``ctx.validation_score`` for the callbacks after it (:class:`BestWeights`,
    :class:`EarlyStopping`). Partial epochs are scored too: monitors see the iterate
    random stopping returns.

    Examples
    --------
    >>> import torch
    >>> from skconvex.criteria import squared_errors
    >>> from skconvex.nn import MLP
    >>> from skconvex.training import MeanLoss, train
    >>> _ = torch.manual_seed(0)
    >>> X, Y = torch.randn(40, 3), torch.randn(40, 1)
    >>> sgd = lambda groups: torch.optim.SGD(groups, lr=0.05)
    >>> from skconvex.training import ValidationScore
    >>> score = ValidationScore(lambda module: -float(((module(X) - Y) ** 2).mean()))
    >>> history = train(MLP(3, 1, hidden_layer_sizes=(4,)), squared_errors, MeanLoss(), X, Y,
    ...                 sgd, max_iter=5, batch_size=10, callbacks=[score])
    >>> len(history.validation_scores), history.validation_scores[-1] > history.validation_scores[0]
    (5, True)
    """

    def __init__(self, score: Callable[[nn.Module], float]):
        self.score = score

    def on_epoch_end(self, ctx: TrainingContext) -> None:
        ctx.module.eval()
        value = float(self.score(ctx.module))
        ctx.module.train()
        ctx.history.validation_scores.append(value)
        ctx.validation_score = value


class BestWeights(Callback):
    """Keep the weights of the best epoch; restore them at the end when asked.

    The best epoch has the highest validation score (a :class:`ValidationScore` before
    this callback), else the lowest mean training error. The loop always restores
    after divergence or Ctrl-C; ``restore=True`` also at a normal end (early
    stopping). When the masks shrink (CPNA), the best weights so far belong to a
    network that no longer exists: only the pruned network's epochs compete then.

    Examples
    --------
    >>> import torch
    >>> from skconvex.criteria import squared_errors
    >>> from skconvex.nn import MLP
    >>> from skconvex.training import MeanLoss, train
    >>> _ = torch.manual_seed(0)
    >>> X, Y = torch.randn(40, 3), torch.randn(40, 1)
    >>> sgd = lambda groups: torch.optim.SGD(groups, lr=0.05)
    >>> from skconvex.training import BestWeights
    >>> history = train(MLP(3, 1, hidden_layer_sizes=(4,)), squared_errors, MeanLoss(), X, Y,
    ...                 sgd, max_iter=5, batch_size=10, callbacks=[BestWeights(restore=True)])
    >>> history.best_epoch, round(-history.best_score, 6) == round(min(history.mean_error), 6)
    (4, True)
    """

    def __init__(self, restore: bool = False):
        self.restore = restore

    def on_train_begin(self, ctx: TrainingContext) -> None:
        self.state = snapshot(ctx.module)
        self.score = -math.inf
        self.initial = self.state, float(weighted_mean(ctx.errors, ctx.sample_weight))

    def on_epoch_begin(self, ctx: TrainingContext) -> None:
        if ctx.structure_changed:
            self.state, self.score = snapshot(ctx.module), -math.inf
            ctx.history.best_epoch = ctx.epoch - 1  # the state the previous epoch left

    def on_epoch_end(self, ctx: TrainingContext) -> None:
        if ctx.partial:
            return
        value = ctx.validation_score
        if value is None:
            value = -ctx.history.mean_error[-1]
        if value > self.score:
            self.score, self.state = value, snapshot(ctx.module)
            ctx.history.best_epoch = ctx.epoch

    def on_train_end(self, ctx: TrainingContext) -> None:
        ctx.history.best_score = self.score
        restore_best = self.restore and not ctx.random_stopping
        if restore_best or ctx.history.stop_reason in ("diverged", "interrupted"):
            restore(ctx.module, self._diverged_fallback(ctx))

    def _diverged_fallback(self, ctx: TrainingContext) -> dict:
        """The best state, or after divergence the initial one if no epoch beat it
        (a first epoch at a step size far too large can be finite and still useless)."""
        history, (state, error) = ctx.history, self.initial
        if history.stop_reason != "diverged" or ctx.per_sample_loss is None:
            return self.state
        # The recorded error of an epoch was measured while its steps were taken,
        # before the last of them: measure the kept weights themselves.
        restore(ctx.module, self.state)
        kept = float(weighted_mean(per_sample_errors(ctx.module, ctx.per_sample_loss, ctx.X, ctx.Y), ctx.sample_weight))
        if math.isfinite(kept) and kept <= error:
            return self.state
        history.best_epoch = -1
        return state


class Convergence(Callback):
    """Stop when the training criterion stagnates (scikit-learn's MLP semantics).

    Stops with "converged" when the value has not improved by ``tol`` for more than
    ``n_iter_no_change`` epochs. The value is the epoch loss, or the λ-free mean
    error for strategies whose ``convergence_on == "mean_error"`` (NRAE at a large λ
    can stall while the mean error still falls). The test runs only while the
    strategy's ``may_stop`` is True (GDC's first stage answers stagnancy by lowering
    λ, CPNA's schedule fixes the number of epochs); the count restarts meanwhile.

    Examples
    --------
    >>> import torch
    >>> from skconvex.criteria import squared_errors
    >>> from skconvex.nn import MLP
    >>> from skconvex.training import MeanLoss, train
    >>> _ = torch.manual_seed(0)
    >>> X, Y = torch.randn(40, 3), torch.randn(40, 1)
    >>> sgd = lambda groups: torch.optim.SGD(groups, lr=0.05)
    >>> from skconvex.training import Convergence
    >>> history = train(MLP(3, 1, hidden_layer_sizes=(4,)), squared_errors, MeanLoss(), X, Y,
    ...                 sgd, max_iter=100, batch_size=10,
    ...                 callbacks=[Convergence(tol=1e-2, n_iter_no_change=2)])
    >>> history.stop_reason, history.n_iter < 100
    ('converged', True)
    """

    reason = "converged"

    def __init__(self, tol: float = 1e-4, n_iter_no_change: int = 10):
        self.tol, self.n_iter_no_change = tol, n_iter_no_change

    def on_train_begin(self, ctx: TrainingContext) -> None:
        self.detector = Stagnancy(self.tol, self.n_iter_no_change)

    def value(self, ctx: TrainingContext) -> float:
        if getattr(ctx.strategy, "converge_on_mean_error", False):
            return ctx.history.mean_error[-1]
        return ctx.history.loss[-1]

    def on_epoch_end(self, ctx: TrainingContext) -> str | None:
        if ctx.partial or ctx.random_stopping:
            return None
        if not getattr(ctx.strategy, "early_stopping_allowed", True):
            self.detector.reset()
            return None
        return self.reason if self.detector.update(self.value(ctx)) else None


class EarlyStopping(Convergence):
    """Stop when the validation score stagnates, and end with the best weights.

    Needs a :class:`ValidationScore` before it; pair it with ``BestWeights(restore=True)``
    (the estimators do). Stops with "early_stopping".

    Examples
    --------
    >>> import torch
    >>> from skconvex.criteria import squared_errors
    >>> from skconvex.nn import MLP
    >>> from skconvex.training import MeanLoss, train
    >>> _ = torch.manual_seed(0)
    >>> X, Y = torch.randn(40, 3), torch.randn(40, 1)
    >>> sgd = lambda groups: torch.optim.SGD(groups, lr=0.05)
    >>> from skconvex.training import BestWeights, EarlyStopping, ValidationScore
    >>> scores = iter([0.1, 0.5, 0.3, 0.2, 0.2, 0.2])
    >>> callbacks = [ValidationScore(lambda module: next(scores)),
    ...              EarlyStopping(tol=0.0, n_iter_no_change=2), BestWeights(restore=True)]
    >>> history = train(MLP(3, 1, hidden_layer_sizes=(4,)), squared_errors, MeanLoss(), X, Y,
    ...                 sgd, max_iter=20, batch_size=10, callbacks=callbacks)
    >>> history.stop_reason, history.n_iter, history.best_epoch
    ('early_stopping', 5, 1)
    """

    reason = "early_stopping"

    def value(self, ctx: TrainingContext) -> float:
        return -ctx.validation_score


class LearningRateSteps(Callback):
    """Multiply the learning rate by ``factor`` every ``every`` epochs of the final stage.

    The paper halves the rate every 10 epochs of SSE. Epochs count only while the
    strategy's ``final`` is True (GDC's plain-criterion stage; always for others).

    Examples
    --------
    >>> import torch
    >>> from skconvex.criteria import squared_errors
    >>> from skconvex.nn import MLP
    >>> from skconvex.training import MeanLoss, train
    >>> _ = torch.manual_seed(0)
    >>> X, Y = torch.randn(40, 3), torch.randn(40, 1)
    >>> sgd = lambda groups: torch.optim.SGD(groups, lr=0.05)
    >>> from skconvex.training import Callback, LearningRateSteps
    >>> class RecordRate(Callback):
    ...     def on_epoch_end(self, ctx):
    ...         ctx.history.record("lr", ctx.optimizer.param_groups[0]["lr"])
    >>> history = train(MLP(3, 1, hidden_layer_sizes=(4,)), squared_errors, MeanLoss(), X, Y,
    ...                 sgd, max_iter=5, batch_size=10,
    ...                 callbacks=[LearningRateSteps(2, 0.5), RecordRate()])
    >>> history.records["lr"]
    [0.05, 0.05, 0.025, 0.025, 0.0125]
    """

    def __init__(self, every: int, factor: float = 0.5):
        self.every, self.factor = every, factor

    def on_train_begin(self, ctx: TrainingContext) -> None:
        self.base_lrs = [g["lr"] for g in ctx.optimizer.param_groups]
        self.final_epochs = 0

    def on_epoch_begin(self, ctx: TrainingContext) -> None:
        if not getattr(ctx.strategy, "final", True):
            return
        scale = self.factor ** (self.final_epochs // self.every)
        for group, lr in zip(ctx.optimizer.param_groups, self.base_lrs):
            group["lr"] = lr * scale
        self.final_epochs += 1


class RandomStopping(Callback):
    """Random stopping (Ghadimi & Lan): stop after exactly ``n_steps`` optimizer steps.

    For a stopping iteration ``R`` drawn from ``P_R`` the answer is ``W^R``, the
    iterate after ``R − 1`` steps (0 leaves the initial weights). It switches off
    :class:`Convergence`, :class:`EarlyStopping` and the restore of
    ``BestWeights(restore=True)``: the drawn iterate is returned, not the best one.

    Examples
    --------
    >>> import torch
    >>> from skconvex.criteria import squared_errors
    >>> from skconvex.nn import MLP
    >>> from skconvex.training import MeanLoss, train
    >>> _ = torch.manual_seed(0)
    >>> X, Y = torch.randn(40, 3), torch.randn(40, 1)
    >>> sgd = lambda groups: torch.optim.SGD(groups, lr=0.05)
    >>> from skconvex.training import RandomStopping
    >>> history = train(MLP(3, 1, hidden_layer_sizes=(4,)), squared_errors, MeanLoss(), X, Y,
    ...                 sgd, max_iter=5, batch_size=10, callbacks=[RandomStopping(6)])
    >>> history.stop_reason, history.n_steps, history.n_iter   # 6 steps: 1½ epochs
    ('random_stop', 6, 2)
    """

    reason = "random_stop"

    def __init__(self, n_steps: int):
        self.n_steps = int(n_steps)

    def on_train_begin(self, ctx: TrainingContext) -> str | None:
        capacity = ctx.max_iter * ctx.n_batches
        if not 0 <= self.n_steps <= capacity:
            raise ValueError(
                f"stop_after={self.n_steps} steps do not fit this run: {ctx.max_iter} epochs "
                f"of {ctx.n_batches} minibatches take {capacity} steps."
            )
        ctx.random_stopping = True
        return self.reason if self.n_steps == 0 else None

    def on_step_end(self, ctx: TrainingContext) -> str | None:
        return self.reason if ctx.step == self.n_steps else None


class StepHook(Callback):
    """Call ``function(module)`` after every optimizer step (a strategy's ``after_step``)."""

    def __init__(self, function: Callable[[nn.Module], None]):
        self.function = function

    def on_step_end(self, ctx: TrainingContext) -> None:
        self.function(ctx.module)


class WeightDecay(Callback):
    """L2 penalty ``alpha·w`` added to the gradient of ``params`` before each step.

    What ``weight_decay`` in a parameter group of SGD or Adam does, with the same
    foreach call, but in the one group the rest of the network steps in: the optimizer
    runs one multi-tensor pass per step instead of one per group (Adam on a small MLP
    spent about 8 % of a fit on the second pass). Runs after every other gradient hook,
    so recorded gradient norms and GDC's normalized step exclude the penalty, as before.

    Examples
    --------
    >>> import torch
    >>> w = torch.nn.Parameter(torch.ones(3))
    >>> w.grad = torch.zeros(3)
    >>> class Ctx: pass
    >>> WeightDecay([w], 0.5).on_gradient(Ctx())
    >>> w.grad.tolist()
    [0.5, 0.5, 0.5]
    """

    def __init__(self, params: list[Tensor], alpha: float):
        self.params, self.alpha = list(params), float(alpha)

    def on_gradient(self, ctx: TrainingContext) -> None:
        pairs = [(p.grad, p.detach()) for p in self.params if p.grad is not None]
        if pairs:
            grads, values = zip(*pairs)
            torch._foreach_add_(list(grads), list(values), alpha=self.alpha)


class GradientNormRecorder(Callback):
    """Record the Euclidean norm of every step's minibatch gradient.

    Of the strategy's batch loss, after masking, before any step rule (GDC's
    normalization) and weight decay; 0-d tensors are gathered and synced once, into
    ``History.grad_norm``.

    Examples
    --------
    >>> import torch
    >>> from skconvex.criteria import squared_errors
    >>> from skconvex.nn import MLP
    >>> from skconvex.training import MeanLoss, train
    >>> _ = torch.manual_seed(0)
    >>> X, Y = torch.randn(40, 3), torch.randn(40, 1)
    >>> sgd = lambda groups: torch.optim.SGD(groups, lr=0.05)
    >>> from skconvex.training import GradientNormRecorder
    >>> history = train(MLP(3, 1, hidden_layer_sizes=(4,)), squared_errors, MeanLoss(), X, Y,
    ...                 sgd, max_iter=2, batch_size=10, callbacks=[GradientNormRecorder()])
    >>> len(history.grad_norm), all(g > 0 for g in history.grad_norm)
    (8, True)
    """

    def on_train_begin(self, ctx: TrainingContext) -> None:
        self.norms: list[Tensor] = []

    def on_gradient(self, ctx: TrainingContext) -> None:
        norm = ctx.gradient_norm()
        if norm is not None:
            self.norms.append(norm.detach())

    def on_train_end(self, ctx: TrainingContext) -> None:
        ctx.history.grad_norm = torch.stack(self.norms).cpu().tolist() if self.norms else []


class ProgressBar(Callback):
    """A tqdm bar over epochs with the loss, λ and stage (``verbose`` in the estimators).

    Examples
    --------
    >>> import torch
    >>> from skconvex.criteria import squared_errors
    >>> from skconvex.nn import MLP
    >>> from skconvex.training import MeanLoss, train
    >>> _ = torch.manual_seed(0)
    >>> X, Y = torch.randn(40, 3), torch.randn(40, 1)
    >>> sgd = lambda groups: torch.optim.SGD(groups, lr=0.05)
    >>> from skconvex.training import ProgressBar
    >>> history = train(MLP(3, 1, hidden_layer_sizes=(4,)), squared_errors, MeanLoss(), X, Y,
    ...                 sgd, max_iter=2, batch_size=10, callbacks=[ProgressBar(desc="demo")])
    >>> history.n_iter
    2
    """

    def __init__(self, desc: str = "epochs"):
        self.desc = desc

    def on_train_begin(self, ctx: TrainingContext) -> None:
        from tqdm.auto import tqdm

        self.bar = tqdm(total=ctx.max_iter, desc=self.desc, unit="epoch", leave=True)

    def on_epoch_end(self, ctx: TrainingContext) -> None:
        self.bar.update(1)
        history = ctx.history
        lam = history.lam[-1]
        self.bar.set_postfix(loss=f"{history.loss[-1]:.4g}", lam=f"{lam or 0:.3g}",
                             stage=history.stage[-1])

    def on_train_end(self, ctx: TrainingContext) -> None:
        self.bar.close()

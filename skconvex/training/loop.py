"""The one minibatch training loop of skconvex.

Every estimator trains through :func:`train`. The loop owns epochs, shuffling,
batching, masks, the optimizer step, the error cache, the history, the NaN/inf guard
and Ctrl-C. What differs between methods lives in a
:class:`~skconvex.training.strategies.Strategy` (what to minimize, how its schedule
moves); every other concern (convergence, early stopping and the best weights,
learning-rate steps, random stopping, the progress bar, gradient norms, monitors) is
a :class:`~skconvex.training.callbacks.Callback`.

The error cache holds the latest per-sample error ``e_k`` of every training sample
(float64), as seen by the forward passes of the epoch: the epoch criterion (NRAE of the
cache, or its mean) costs no extra forward pass. Strategies that read it at every step
(the "global" normalizer of NRAE) get it written at every step; otherwise the batch
errors are written in one go at the end of the epoch.

Nothing here imports scikit-learn: the loop reports *why* it stopped and the
estimator turns that into scikit-learn's warnings.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from ..nn.masks import apply_masks_, mask_gradients_, masked_parameters
try:
    # torch imports torch._dynamo lazily, at the first optimizer step (about 1 s). A
    # Ctrl-C during that import leaves torch half-imported and breaks every later
    # fit in the process; imported with the loop, it cannot be cut off mid-fit.
    import torch._dynamo  # noqa: F401
except ImportError:  # pragma: no cover - builds of torch without dynamo
    pass

from .callbacks import (
    HOOKS,
    BestWeights,
    Callback,
    Convergence,
    TrainingContext,
    overrides,
    per_sample_errors,
    restore,
    snapshot,
    weighted_mean,
)
from .strategies import Strategy

__all__ = ["History", "param_groups", "per_sample_errors", "train", "snapshot", "restore"]

PerSampleLoss = Callable[[Tensor, Tensor], Tensor]


@dataclass
class History:
    """What :func:`train` records, one entry per epoch.

    ``loss`` is the criterion the strategy minimized in that epoch, evaluated on the
    error cache (NRAE at the epoch's λ, the ANRAT objective, or the mean error);
    ``mean_error`` is the plain mean per-sample error (λ-free), used to pick the best
    weights when there is no validation set.

    Examples
    --------
    >>> import torch
    >>> from skconvex.criteria import squared_errors
    >>> from skconvex.nn import MLP
    >>> from skconvex.training import History, MeanLoss, train
    >>> _ = torch.manual_seed(0)
    >>> X, Y = torch.randn(32, 3), torch.randn(32, 1)
    >>> history = train(MLP(3, 1, hidden_layer_sizes=(4,)), squared_errors, MeanLoss(), X, Y,
    ...                 lambda groups: torch.optim.SGD(groups, lr=0.1), max_iter=5, batch_size=8)
    >>> isinstance(history, History), history.n_iter, history.n_steps, history.stage
    (True, 5, 20, ['mean', 'mean', 'mean', 'mean', 'mean'])
    >>> history.loss == history.mean_error   # the plain criterion: loss is the mean error
    True
    """

    loss: list[float] = field(default_factory=list)
    mean_error: list[float] = field(default_factory=list)
    lam: list[float | None] = field(default_factory=list)
    stage: list[str] = field(default_factory=list)
    validation_scores: list[float] = field(default_factory=list)
    best_score: float = -math.inf
    best_epoch: int = -1
    stop_reason: str = "max_iter"
    #: Euclidean norm of the minibatch gradient at every step (``record_grad_norm``).
    grad_norm: list[float] = field(default_factory=list)
    #: Optimizer steps taken.
    n_steps: int = 0
    #: Per-epoch values recorded by callbacks (:meth:`record`), by name.
    records: dict[str, list] = field(default_factory=dict)

    @property
    def n_iter(self) -> int:
        return len(self.loss)

    def record(self, name: str, value) -> None:
        """Append ``value`` to ``records[name]`` (a callback's own per-epoch curve)."""
        self.records.setdefault(name, []).append(value)


def _all_finite(module: nn.Module) -> bool:
    """One host sync for all parameters (not one per tensor)."""
    params = [p.detach() for p in module.parameters()]
    if not params:
        return True
    return bool(torch.stack([torch.isfinite(p).all() for p in params]).all())


def param_groups(
    module: nn.Module,
    extra: list[Tensor] | None = None,
    decay_params: list[Tensor] | None = None,
    weight_decay: float = 0.0,
) -> list[dict]:
    """Parameter groups for the optimizer: L2 on ``decay_params`` only, none on the rest.

    ``extra`` are the criterion's own parameters (ANRAT's λ), never decayed. Without
    weight decay and extras there is one group (one optimizer call per step).

    Examples
    --------
    >>> from skconvex.nn import MLP
    >>> net = MLP(3, 1, hidden_layer_sizes=(4,))
    >>> weights = [p for n, p in net.named_parameters() if n.endswith("weight")]
    >>> [len(g["params"]) for g in param_groups(net, decay_params=weights, weight_decay=1e-4)]
    [2, 2]
    """
    params = list(module.parameters())
    if weight_decay == 0 and not extra:
        return [{"params": params}]
    decay_ids = {id(p) for p in (decay_params or [])}
    groups = [
        {"params": [p for p in params if id(p) in decay_ids], "weight_decay": weight_decay},
        {"params": [p for p in params if id(p) not in decay_ids], "weight_decay": 0.0},
        {"params": list(extra or []), "weight_decay": 0.0},
    ]
    return [g for g in groups if g["params"]]


OptimizerSpec = torch.optim.Optimizer | Callable[[list[dict]], torch.optim.Optimizer]


def train(
    module: nn.Module,
    per_sample_loss: PerSampleLoss,
    strategy: Strategy,
    X: Tensor,
    Y: Tensor,
    optimizer: OptimizerSpec,
    *,
    sample_weight: Tensor | None = None,
    max_iter: int = 200,
    batch_size: int = 200,
    shuffle: bool = True,
    generator: torch.Generator | None = None,
    callbacks: list[Callback] | None = None,
) -> History:
    """Train ``module`` in place and return its :class:`History`.

    Parameters
    ----------
    module : nn.Module
        The network; trained in place, left in evaluation mode.
    per_sample_loss : callable ``(output, target) -> Tensor (n,)``
        Per-sample errors ``e_k`` in float64 (see :mod:`skconvex.criteria`).
    strategy : Strategy
        What to minimize at each step and how the criterion's schedule moves.
    X, Y : Tensor
        Training inputs and encoded targets, already on the module's device.
    optimizer : torch.optim.Optimizer or callable
        An optimizer over the module's parameters (and the strategy's extra
        parameters), reused as it is (a warm start keeps its state), or a factory
        ``groups -> optimizer`` called with :func:`param_groups` (one group, no
        weight decay).
    sample_weight : Tensor, optional
        Per-sample weights (float64).
    max_iter : int
        Maximum number of epochs.
    batch_size : int
        Minibatch size; 1 is the paper's pairwise mode.
    shuffle : bool
        A new order every epoch (else the data's order).
    generator : torch.Generator, optional
        Source of the shuffling order (reproducibility).
    callbacks : list of Callback, optional
        Everything besides stepping (:mod:`skconvex.training.callbacks`), called in
        order, after the strategy's own callbacks. Default: ``[Convergence()]``
        (tol 1e-4, 10 epochs). A :class:`BestWeights` is added when none is given:
        the weights of the best epoch come back after divergence or Ctrl-C.

    Masked parameters (:mod:`skconvex.nn.masks`) stay pruned: their gradients are
    zeroed after every backward pass and their entries after every optimizer step,
    so neither momentum nor Adam's moments nor weight decay can revive them.

    Returns
    -------
    History
        ``stop_reason`` is "max_iter", a callback's reason ("converged",
        "early_stopping", "random_stop", or your own), "diverged" (non-finite loss
        or weights: best weights restored) or "interrupted" (KeyboardInterrupt:
        best weights restored).

    Examples
    --------
    >>> import torch
    >>> from skconvex.criteria import squared_errors
    >>> from skconvex.nn import MLP
    >>> from skconvex.training import GradualDeconvexification, train
    >>> _ = torch.manual_seed(0)
    >>> X = torch.linspace(-1, 1, 64).unsqueeze(1)
    >>> Y = torch.sin(3 * X)
    >>> net = MLP(1, 1, hidden_layer_sizes=(8,), activation="tanh")
    >>> history = train(net, squared_errors, GradualDeconvexification(lambda_init=10.0), X, Y,
    ...                 lambda groups: torch.optim.Adam(groups, lr=0.01),
    ...                 max_iter=100, batch_size=64)
    >>> history.n_iter, history.stop_reason, history.lam[0], history.stage[0]
    (24, 'converged', 10.0, 'rae')
    >>> history.mean_error[-1] < history.mean_error[0]
    True
    """
    masked = masked_parameters(module)
    apply_masks_(module, masked)
    errors = per_sample_errors(module, per_sample_loss, X, Y)
    strategy.start(errors, sample_weight)
    if callable(optimizer) and not isinstance(optimizer, torch.optim.Optimizer):
        optimizer = optimizer(param_groups(module, strategy.extra_parameters()))
    ctx = TrainingContext(
        module=module, strategy=strategy, optimizer=optimizer, X=X, Y=Y,
        sample_weight=sample_weight, errors=errors, history=History(), max_iter=max_iter,
        per_sample_loss=per_sample_loss,
        batch_size=max(1, min(batch_size, X.shape[0])), params=list(module.parameters()),
    )
    callbacks = _with_defaults(strategy, callbacks)
    hooks = {name: [getattr(cb, name) for cb in callbacks if overrides(cb, name)] for name in HOOKS}
    begun: list[Callback] = []  # on_train_end only for callbacks that began
    module.train()
    try:
        reasons = []
        for cb in callbacks:
            reasons.append(cb.on_train_begin(ctx))
            begun.append(cb)
        reason = _first_reason(reasons)
        if reason is not None:
            ctx.history.stop_reason = reason
        else:
            _run_epochs(ctx, per_sample_loss, masked, hooks, shuffle, generator)
    except KeyboardInterrupt:
        ctx.history.stop_reason = "interrupted"
    finally:
        for cb in begun:
            if overrides(cb, "on_train_end"):
                cb.on_train_end(ctx)
    ctx.history.n_steps = ctx.step
    module.eval()
    return ctx.history


def _with_defaults(strategy: Strategy, callbacks: list[Callback] | None) -> list[Callback]:
    """The strategy's own callbacks, then the user's (default: convergence), and a
    :class:`BestWeights` unless one was given."""
    callbacks = [Convergence()] if callbacks is None else list(callbacks)
    if not any(isinstance(cb, BestWeights) for cb in callbacks):
        callbacks.insert(0, BestWeights())
    return list(strategy.callbacks()) + callbacks


def _first_reason(reasons) -> str | None:
    """The first non-None reason, after every hook has run."""
    found = None
    for reason in list(reasons):
        if found is None and reason is not None:
            found = reason
    return found


def _run_epochs(ctx, per_sample_loss, masked, hooks, shuffle, generator) -> None:
    strategy, history = ctx.strategy, ctx.history
    n = ctx.n_samples
    for epoch in range(ctx.max_iter):
        ctx.epoch = epoch
        ctx.structure_changed = bool(strategy.start_epoch(epoch, ctx.module, ctx.optimizer))
        for hook in hooks["on_epoch_begin"]:
            hook(ctx)
        order = (
            torch.randperm(n, generator=generator).to(ctx.X.device)
            if shuffle
            else torch.arange(n, device=ctx.X.device)
        )
        step_reason = _run_batches(ctx, per_sample_loss, masked, hooks, order)
        ctx.partial = step_reason is not None
        _record_epoch(ctx)
        if not (math.isfinite(history.loss[-1]) and _all_finite(ctx.module)):
            history.stop_reason = "diverged"
            return
        if not ctx.partial:
            # No λ update for a partial epoch: random stopping returns this iterate.
            strategy.end_epoch(history.loss[-1], ctx.errors)
        ctx.validation_score = None
        reason = _first_reason(hook(ctx) for hook in hooks["on_epoch_end"])
        reason = step_reason or reason
        if reason is not None:
            history.stop_reason = reason
            return


def _run_batches(ctx, per_sample_loss, masked, hooks, order) -> str | None:
    """One epoch of optimizer steps; the reason a step hook gave to stop, if any."""
    strategy, module, optimizer = ctx.strategy, ctx.module, ctx.optimizer
    X, Y, sample_weight, errors = ctx.X, ctx.Y, ctx.sample_weight, ctx.errors
    # Strategies that read the cache at every step get it written at every step;
    # otherwise the batch errors are written once at the end of the epoch (a write
    # per step costs ~7 % of an epoch of a small network).
    live = strategy.reads_error_cache
    select = strategy.select_batch if _overrides_select(strategy) else None
    on_gradient, on_step_end = hooks["on_gradient"], hooks["on_step_end"]
    pending, reason = [], None
    for start in range(0, ctx.n_samples, ctx.batch_size):
        idx = order[start : start + ctx.batch_size]
        batch = (X[idx], Y[idx], None if sample_weight is None else sample_weight[idx], idx)
        n_drawn = idx.shape[0]
        if select is not None:
            batch = select(module, per_sample_loss, batch, errors)
        xb, yb, swb, idx = batch
        e = per_sample_loss(module(xb), yb)
        if live:
            errors[idx] = e.detach()
        else:
            pending.append(e.detach())
        loss = strategy.batch_loss(e, idx, swb, n_drawn)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if masked:
            mask_gradients_(module, masked)
        ctx._grad_norm = None
        for hook in on_gradient:
            hook(ctx)
        optimizer.step()
        if masked:
            apply_masks_(module, masked)
        ctx.step += 1
        if on_step_end:  # every hook sees the step, even after one asked to stop
            reason = _first_reason(hook(ctx) for hook in on_step_end)
        if reason is not None:
            break
    if pending:
        done = order[: sum(len(e) for e in pending)] if reason is not None else order
        errors[done] = torch.cat(pending)
    return reason


def _overrides_select(strategy: Strategy) -> bool:
    return type(strategy).select_batch is not Strategy.select_batch


def _record_epoch(ctx: TrainingContext) -> None:
    """The epoch's criterion, mean error, λ and stage, from the error cache."""
    strategy, errors, sample_weight = ctx.strategy, ctx.errors, ctx.sample_weight
    history = ctx.history
    history.loss.append(strategy.epoch_loss(errors, sample_weight))
    history.mean_error.append(float(weighted_mean(errors, sample_weight)))
    history.lam.append(strategy.lam)
    history.stage.append(strategy.stage)

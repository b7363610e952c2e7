"""The one minibatch training loop of skconvex.

Every estimator trains through :func:`train`; what differs between methods lives in a
:class:`~skconvex.training.strategies.Strategy`. The loop owns epochs, shuffling,
batching, the optimizer step, the error cache, validation, early stopping, the
progress bar, the history, the NaN/inf guard and Ctrl-C.

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
from .strategies import Strategy

__all__ = ["History", "train", "snapshot", "restore"]

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

    @property
    def n_iter(self) -> int:
        return len(self.loss)


def snapshot(module: nn.Module) -> dict[str, Tensor]:
    """A detached copy of the module's state (parameters and buffers)."""
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def restore(module: nn.Module, state: dict[str, Tensor]) -> None:
    with torch.no_grad():
        module.load_state_dict(state)


def _all_finite(module: nn.Module) -> bool:
    return all(bool(torch.isfinite(p).all()) for p in module.parameters())


def _gradient_norm(params: list[Tensor]) -> Tensor | None:
    """Euclidean norm of the gradient over all ``params`` (a 0-d tensor, no sync)."""
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return None
    return torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))


def _normalize_gradients(params: list[Tensor], norm: Tensor | None = None) -> None:
    """Scale the gradient to unit Euclidean norm: GDC stage 2's step rule."""
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return
    if norm is None:
        norm = _gradient_norm(params)
    scale = torch.where(norm > 0, 1.0 / norm, torch.zeros_like(norm))
    for g in grads:
        g.mul_(scale)


@torch.no_grad()
def per_sample_errors(
    module: nn.Module, per_sample_loss: PerSampleLoss, X: Tensor, Y: Tensor, chunk: int = 1024
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


def train(
    module: nn.Module,
    per_sample_loss: PerSampleLoss,
    strategy: Strategy,
    X: Tensor,
    Y: Tensor,
    optimizer_factory: Callable[[list[dict]], torch.optim.Optimizer],
    *,
    sample_weight: Tensor | None = None,
    max_iter: int = 200,
    batch_size: int = 200,
    shuffle: bool = True,
    generator: torch.Generator | None = None,
    validation_score: Callable[[nn.Module], float] | None = None,
    early_stopping: bool = False,
    n_iter_no_change: int = 10,
    tol: float = 1e-4,
    lr_step_epochs: int | None = None,
    lr_step_factor: float = 0.5,
    verbose: int = 0,
    weight_decay_params: list[Tensor] | None = None,
    weight_decay: float = 0.0,
    restore_best: bool | None = None,
    stop_after: int | None = None,
    record_grad_norm: bool = False,
) -> History:
    """Train ``module`` in place and return its :class:`History`.

    Parameters
    ----------
    module : nn.Module
        The network; trained in place, left in evaluation mode.
    per_sample_loss : callable ``(output, target) -> Tensor (n,)``
        Per-sample errors ``e_k`` in float64 (see :mod:`skconvex.criteria`).
    strategy : Strategy
        What to minimize at each step and how λ moves.
    X, Y : Tensor
        Training inputs and encoded targets, already on the module's device.
    optimizer_factory : callable
        Builds the optimizer from parameter groups.
    sample_weight : Tensor, optional
        Per-sample weights normalized to mean 1.
    max_iter : int
        Maximum number of epochs.
    batch_size : int
        Minibatch size; 1 is the paper's pairwise mode.
    generator : torch.Generator, optional
        Source of the shuffling order (reproducibility).
    validation_score : callable, optional
        ``module -> float``, higher is better; evaluated after every epoch.
    early_stopping : bool
        Stop when the validation score has not improved by ``tol`` for
        ``n_iter_no_change`` epochs, and restore the best weights.
    n_iter_no_change, tol :
        Without early stopping, stop when the training loss (or, if the strategy says
        so, the λ-free mean error) has not improved by ``tol`` for
        ``n_iter_no_change`` epochs; tested only while
        ``strategy.early_stopping_allowed``.
    lr_step_epochs, lr_step_factor :
        Multiply the learning rate by ``lr_step_factor`` every ``lr_step_epochs``
        epochs of the final stage (the paper halves it every 10 epochs of SSE).
    weight_decay_params, weight_decay :
        L2 penalty applied to these parameters only (the weights, not biases or λ).
    restore_best : bool, optional
        End with the weights of the best epoch (by ``validation_score``, else by the
        mean training error). Default: only with early stopping on a validation set
        (and always after divergence or Ctrl-C).
    stop_after : int, optional
        Random stopping (Ghadimi & Lan): stop after this many optimizer steps
        (counted over all epochs; 0 leaves the initial weights) and return that
        iterate: for a stopping iteration ``R`` drawn from ``P_R``, ``W^R`` is the
        iterate after ``R − 1`` steps. Convergence and early-stopping tests are off
        and the best weights are not restored (except after divergence or Ctrl-C);
        ``max_iter`` epochs must hold at least ``stop_after`` steps.
    record_grad_norm : bool
        Record the Euclidean norm of every step's minibatch gradient (of the
        strategy's batch loss, after masking, before normalization and weight
        decay) in ``History.grad_norm``.

    Masked parameters (:mod:`skconvex.nn.masks`) stay pruned: their gradients are
    zeroed after every backward pass and their entries after every optimizer step,
    so neither momentum nor Adam's moments nor weight decay can revive them.

    Returns
    -------
    History
        ``stop_reason`` is one of "max_iter", "converged", "early_stopping",
        "diverged" (non-finite loss or weights: best weights restored),
        "interrupted" (KeyboardInterrupt: best weights restored) or
        "random_stop" (``stop_after`` steps taken).

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
    n_samples = X.shape[0]
    device = X.device
    history = History()
    masked = masked_parameters(module)
    apply_masks_(module, masked)
    errors = per_sample_errors(module, per_sample_loss, X, Y)
    strategy.start(errors, sample_weight)

    decay_ids = {id(p) for p in (weight_decay_params or [])}
    params = list(module.parameters())
    groups = [
        {"params": [p for p in params if id(p) in decay_ids], "weight_decay": weight_decay},
        {"params": [p for p in params if id(p) not in decay_ids], "weight_decay": 0.0},
    ]
    extra = strategy.extra_parameters()
    if extra:
        groups.append({"params": extra, "weight_decay": 0.0})
    groups = [g for g in groups if g["params"]]
    if weight_decay == 0 and not extra:
        groups = [{"params": params}]  # one group: one optimizer call per step
    optimizer = optimizer_factory(groups)
    base_lrs = [g["lr"] for g in optimizer.param_groups]
    step_params = params  # gradient normalization is over the network's weights

    best_state = snapshot(module)
    best_score = -math.inf
    no_improvement = 0
    best_stop_value = math.inf
    final_epochs = 0
    batch_size = max(1, min(batch_size, n_samples))
    progress = None
    if verbose:
        from tqdm.auto import tqdm

        progress = tqdm(total=max_iter, desc="epochs", unit="epoch", leave=True)

    # Only strategies that override after_step pay a call per step.
    after_step = strategy.after_step if type(strategy).after_step is not Strategy.after_step else None
    norms: list[Tensor] = []  # 0-d tensors: one host sync at the end, not one per step
    steps = 0
    stopped = False
    if stop_after is not None:
        n_batches = -(-n_samples // batch_size)
        if not 0 <= stop_after <= max_iter * n_batches:
            raise ValueError(
                f"stop_after={stop_after} steps do not fit this run: {max_iter} epochs "
                f"of {n_batches} minibatches take {max_iter * n_batches} steps."
            )
        if stop_after == 0:  # R = 1: the initial weights are the answer
            history.stop_reason = "random_stop"
            max_iter = 0
    module.train()
    try:
        for epoch in range(max_iter):
            if strategy.start_epoch(epoch, module, optimizer):
                # The masks shrank: the best weights so far belong to a network that
                # no longer exists, so only the pruned network's epochs compete now.
                best_state, best_score = snapshot(module), -math.inf
                history.best_epoch = epoch - 1  # the state as the previous epoch left it
                no_improvement, best_stop_value = 0, math.inf
            if lr_step_epochs and strategy.final:
                factor = lr_step_factor ** (final_epochs // lr_step_epochs)
                for g, lr in zip(optimizer.param_groups, base_lrs):
                    g["lr"] = lr * factor
            order = (
                torch.randperm(n_samples, generator=generator).to(device)
                if shuffle
                else torch.arange(n_samples, device=device)
            )
            normalize = strategy.normalize_gradient
            # The global normalizer reads the cache at every step; otherwise the
            # batch errors are written once at the end of the epoch (a write per step
            # costs ~7 % of an epoch of a small network).
            live = strategy.needs_live_cache or strategy.log_cutoff is not None
            pending = []
            for start in range(0, n_samples, batch_size):
                idx = order[start : start + batch_size]
                xb, yb = X[idx], Y[idx]
                swb = None if sample_weight is None else sample_weight[idx]
                n_drawn = idx.shape[0]
                if strategy.log_cutoff is not None:
                    xb, yb, swb, idx = _fast_gradient_subset(
                        module, per_sample_loss, strategy, xb, yb, swb, idx, errors
                    )
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
                norm = _gradient_norm(step_params) if (record_grad_norm or normalize) else None
                if record_grad_norm and norm is not None:
                    norms.append(norm.detach())
                if normalize:
                    _normalize_gradients(step_params, norm)
                optimizer.step()
                if masked:
                    apply_masks_(module, masked)
                if after_step is not None:
                    after_step(module)
                steps += 1
                if steps == stop_after:
                    stopped = True
                    break
            if pending:
                done = order[: sum(len(e) for e in pending)] if stopped else order
                errors[done] = torch.cat(pending)

            epoch_loss = strategy.epoch_loss(errors, sample_weight)
            mean_error = float(
                errors.mean()
                if sample_weight is None
                else (errors * sample_weight).sum() / sample_weight.sum()
            )
            history.loss.append(epoch_loss)
            history.mean_error.append(mean_error)
            history.lam.append(strategy.lam)
            history.stage.append(strategy.stage)
            if not (math.isfinite(epoch_loss) and _all_finite(module)):
                history.stop_reason = "diverged"
                break
            if stopped:
                # The iterate R is what random stopping returns: no best-weights
                # bookkeeping, no λ update for a partial epoch; monitors still see it.
                history.stop_reason = "random_stop"
                if validation_score is not None:
                    module.eval()
                    history.validation_scores.append(float(validation_score(module)))
                    module.train()
                if progress is not None:
                    progress.update(1)
                break

            if validation_score is not None:
                module.eval()
                score = float(validation_score(module))
                module.train()
                history.validation_scores.append(score)
            else:
                score = -mean_error
            if score > best_score:
                best_score = score
                best_state = snapshot(module)
                history.best_epoch = epoch

            was_final = strategy.final
            strategy.end_epoch(epoch_loss, errors)
            if was_final:
                final_epochs += 1

            if progress is not None:
                progress.update(1)
                progress.set_postfix(
                    loss=f"{epoch_loss:.4g}", lam=f"{strategy.lam or 0:.3g}", stage=history.stage[-1]
                )

            # Convergence, scikit-learn's MLP semantics, tested only once the strategy
            # allows it (GDC stage 1 answers stagnancy by lowering λ, not by stopping).
            # GDC is judged on the λ-free mean error, whose scale does not move with λ.
            if not strategy.early_stopping_allowed or stop_after is not None:
                no_improvement, best_stop_value = 0, math.inf
                continue
            if early_stopping and validation_score is not None:
                value = -score
            elif strategy.converge_on_mean_error:
                value = mean_error
            else:
                value = epoch_loss
            if value > best_stop_value - tol:
                no_improvement += 1
            else:
                no_improvement = 0
            best_stop_value = min(best_stop_value, value)
            if no_improvement > n_iter_no_change:
                history.stop_reason = "early_stopping" if early_stopping else "converged"
                break
    except KeyboardInterrupt:
        history.stop_reason = "interrupted"
    finally:
        if progress is not None:
            progress.close()

    history.best_score = best_score
    history.n_steps = steps
    history.grad_norm = torch.stack(norms).cpu().tolist() if norms else []
    if restore_best is None:
        restore_best = early_stopping and validation_score is not None and stop_after is None
    if history.stop_reason in ("diverged", "interrupted") or restore_best:
        restore(module, best_state)
    module.eval()
    return history


def _fast_gradient_subset(module, per_sample_loss, strategy, xb, yb, swb, idx, errors):
    """Algorithm 1's fast gradient: backpropagate only samples that carry weight.

    A forward pass without autograd finds the samples whose NRAE weight
    exp(λ(e_k − e_M)) is below the strategy's cut-off; only the rest go through the
    forward/backward pass that follows. The cache gets every sample's error.
    """
    with torch.no_grad():
        e_all = per_sample_loss(module(xb), yb)
    errors[idx] = e_all
    weighted = e_all if swb is None else e_all.masked_fill(swb <= 0, -math.inf)
    keep = strategy.lam * (e_all - weighted.max()) >= strategy.log_cutoff
    if swb is not None:
        keep &= swb > 0
    if bool(keep.all()):
        return xb, yb, swb, idx
    return xb[keep], yb[keep], None if swb is None else swb[keep], idx[keep]

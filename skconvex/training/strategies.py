"""Strategies: what the one training loop minimizes at each step, and how λ moves.

A strategy never iterates over data. The loop (:mod:`skconvex.training.loop`) asks it

* ``start(errors, sample_weight)`` once, with the per-sample errors of the initial
  network on the whole training set (this is where ``lambda_init="auto"`` is resolved),
* ``start_epoch(epoch, module, optimizer)`` before each epoch: a structural change
  (CPNA's pruning, :mod:`skconvex.training.cpna`); True when the masks shrank,
* ``batch_loss(errors_b, idx, sample_weight_b, n_drawn)`` at every step: a scalar whose
  gradient is the step direction,
* ``epoch_loss(errors, sample_weight)``: the criterion on the training set, from the
  error cache the loop keeps (the latest ``e_k`` of every sample),
* ``end_epoch(loss, errors)``: the end-of-epoch update (λ and the stage),
* ``extra_parameters()``: the criterion's own learnable parameters (ANRAT's λ),

and records ``stage`` and ``lam`` in the history. A strategy's step rules enter as
callbacks it owns (:meth:`Strategy.callbacks`: RVSM's sparse copy after each step,
GDC's normalized gradient) and as :meth:`Strategy.select_batch` (GDC's fast gradient);
``reads_error_cache`` asks the loop to write the cache at every step. The callbacks
read ``final`` (the learning-rate steps count its epochs),
``early_stopping_allowed`` and ``converge_on_mean_error`` (the convergence test).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor
from torch.nn import functional as F

from ..criteria import (
    anrat_objective,
    fast_gradient_log_cutoff,
    flush_log_cutoff,
    lambda_critical,
    nrae,
    nrae_step_loss,
)
from .callbacks import Callback, Stagnancy, StepHook, TrainingContext, weighted_mean as _weighted_mean

__all__ = [
    "Strategy",
    "MeanLoss",
    "ConstantNRAE",
    "GradualDeconvexification",
    "AdaptiveLambda",
    "auto_lambda",
    "AUTO_LAMBDA_SPREAD",
    "NORMALIZERS",
]

NORMALIZERS = ("batch", "global")

#: ``lambda_init="auto"`` picks λ₀ so that λ₀·(e_M − median e_k) equals this constant
#: on the initial network. What drives NRAE is λ times the spread of the errors: with
#: this product at 1 the worst sample weighs e ≈ 2.7 times the median one.
AUTO_LAMBDA_SPREAD = 1.0

#: ``lambda_min="auto"`` is this fraction of λ₀.
AUTO_LAMBDA_MIN_RATIO = 1e-2


def _weighted_median(values: Tensor, weights: Tensor) -> Tensor:
    """Lower weighted median: the median of the values repeated ``weights`` times."""
    order = torch.argsort(values)
    cum = torch.cumsum(weights[order], dim=0)
    pos = torch.searchsorted(cum, 0.5 * cum[-1])
    return values[order][pos.clamp(max=len(values) - 1)]


def auto_lambda(
    errors: Tensor, sample_weight: Tensor | None = None, spread: float | None = None
) -> float:
    """λ₀ with ``λ₀ · (e_M − median e_k) = spread`` on the given errors.

    ``spread`` defaults to :data:`AUTO_LAMBDA_SPREAD`. The benchmark in
    docs/benchmarks.md compared 0.3, 1, 3 and 10 on two local-minimum problems (38, 39,
    39, 39 of 40 runs solved); 1 is kept.

    With sample weights the median is weighted and e_M is taken over samples of
    positive weight, so integer weights act as repetitions. Falls back to
    ``spread / mean e_k`` when all errors are equal and to ``spread`` when they are
    all zero.

    Examples
    --------
    >>> import torch
    >>> auto_lambda(torch.tensor([0.5, 1.0, 3.0]))
    0.5
    """
    if spread is None:
        spread = AUTO_LAMBDA_SPREAD  # read at call time, so the module constant can be set
    e = errors.detach().to(torch.float64)
    if sample_weight is None:
        median, e_max, mean = e.median(), e.max(), e.mean()
    else:
        w = sample_weight.detach().to(torch.float64)
        e, w = e[w > 0], w[w > 0]
        median, e_max, mean = _weighted_median(e, w), e.max(), (e * w).sum() / w.sum()
    gap = float(e_max - median)
    if gap > 0:
        return spread / gap
    return spread / float(mean) if mean > 0 else spread


class Strategy:
    """Base strategy: plain mean of the per-sample errors (SSE/K or mean cross-entropy).

    Examples
    --------
    >>> import torch
    >>> from skconvex.training import Strategy
    >>> errors = torch.tensor([0.0, 1.0, 2.0, 5.0], dtype=torch.float64)
    >>> Strategy().epoch_loss(errors, None)
    2.0
    >>> class HalfLoss(Strategy):
    ...     '''A strategy that minimizes half the mean error.'''
    ...     def batch_loss(self, errors, idx, sample_weight, n_drawn=None):
    ...         return 0.5 * super().batch_loss(errors, idx, sample_weight, n_drawn)
    >>> float(HalfLoss().batch_loss(errors, torch.arange(4), None))
    1.0
    """

    stage = "mean"
    final = True  # last stage: the learning-rate step decay counts its epochs
    early_stopping_allowed = True  # convergence and early-stopping tests may stop now
    converge_on_mean_error = False  # test convergence on the mean error, not the loss
    reads_error_cache = False  # batch_loss reads the error cache: write it every step
    # Precision of the per-sample errors: None = the network's own (the plain mean
    # needs no more); NRAE's weights exp(λ e_k) need float64 at large λ.
    error_dtype: torch.dtype | None = None

    @property
    def lam(self) -> float | None:
        return None

    def start(self, errors: Tensor, sample_weight: Tensor | None) -> None:
        """Called once with the initial per-sample errors of the whole training set.

        ``sample_weight`` are the user's raw weights (float64). K in λ_c is their sum
        (J_λ = Σ s_k e^{λ e_k}), and the minibatch mean is rescaled by their mean, so
        integer weights act exactly as repeated samples.
        """
        self.n_samples = errors.shape[0]
        if sample_weight is None:
            self.n_effective = float(self.n_samples)
            self.weight_scale = 1.0
        else:
            self.n_effective = float(sample_weight.sum())
            self.weight_scale = self.n_samples / self.n_effective

    def extra_parameters(self) -> list[Tensor]:
        """Learnable parameters of the criterion (ANRAT's λ), kept out of weight decay."""
        return []

    def batch_loss(
        self, errors: Tensor, idx: Tensor, sample_weight: Tensor | None, n_drawn: int | None = None
    ) -> Tensor:
        """The scalar to backpropagate for one minibatch.

        ``n_drawn`` is the number of samples drawn for the batch before the fast
        gradient dropped any (``len(errors)`` otherwise).
        """
        # mean(s_k e_k) / mean_all(s) over a minibatch is unbiased for the weighted mean.
        if sample_weight is None:
            return errors.mean()
        return (errors * sample_weight).mean() * self.weight_scale

    def epoch_loss(self, errors: Tensor, sample_weight: Tensor | None) -> float:
        return float(_weighted_mean(errors, sample_weight))

    def end_epoch(self, loss: float, errors: Tensor) -> None:
        pass

    def after_step(self, module) -> None:
        """Called after every optimizer step (RVSM updates its sparse copy u here).

        Called only when a subclass overrides it (through :meth:`callbacks`): no cost
        on the hot path otherwise.
        """

    def select_batch(self, module, per_sample_loss, batch, errors):
        """The part of a minibatch ``(X_b, Y_b, sample_weight_b, idx)`` to step on.

        Called only when a subclass overrides it (GDC's fast gradient).
        """
        return batch

    def callbacks(self) -> list[Callback]:
        """The callbacks this strategy's step rules need, run before the user's."""
        if type(self).after_step is not Strategy.after_step:
            return [StepHook(self.after_step)]
        return []

    def start_epoch(self, epoch: int, module, optimizer) -> bool:
        """Called before each epoch; may change the network (prune it, rescale it).

        Returns True when the network's structure changed (its masks shrank): the
        loop then forgets the weights it kept as the best so far, which belong to a
        network that no longer exists.
        """
        return False


class MeanLoss(Strategy):
    """``schedule="none"``: plain SSE (or cross-entropy), the baseline.

    Examples
    --------
    >>> import torch
    >>> from skconvex.training import MeanLoss
    >>> errors = torch.tensor([0.0, 1.0, 2.0, 5.0], dtype=torch.float64)
    >>> strategy = MeanLoss()
    >>> strategy.epoch_loss(errors, None)
    2.0
    >>> strategy.stage, strategy.lam
    ('mean', None)
    """


def _plain_lambda(lam: float | Tensor) -> bool:
    """A float λ where the softmax step is exact (not ANRAT's trainable λ, not ≈ 0)."""
    return not isinstance(lam, Tensor) and lam >= 1e-3


class _NRAEMixin:
    """Shared NRAE step: batch or global normalizer (see module docstring of the loop)."""

    normalizer = "batch"
    error_dtype = torch.float64
    # NRAE at a large λ is dominated by the worst samples and can stall while the mean
    # error still falls (ANRAT stopped at 80 % training accuracy on digits when judged
    # on its own objective): judge convergence on the plain mean error.
    converge_on_mean_error = True

    log_cutoff: float | None = None  # the fast gradient's (GDC sets it)

    @property
    def reads_error_cache(self) -> bool:
        # The global normalizer reads the cache at every step; the fast gradient
        # writes every sample's error into it while stepping on a subset.
        return self.normalizer == "global" or self.log_cutoff is not None

    cache: Tensor | None = None  # the loop's error cache, set by start()
    cache_weight: Tensor | None = None

    def _nrae_batch_loss(
        self,
        errors: Tensor,
        idx: Tensor,
        sample_weight: Tensor | None,
        lam: float | Tensor,
        n_drawn: int | None = None,
    ) -> Tensor:
        if self.normalizer == "batch":
            if sample_weight is None and self.log_cutoff is None and _plain_lambda(lam):
                return nrae_step_loss(errors, lam)  # the hot path: same gradient, 2 nodes
            return nrae(errors, lam, sample_weight, log_cutoff=self.log_cutoff)
        # Global normalizer: step with weights K·exp(λ e_k − logsumexp(λ e_cache)),
        # an unbiased estimate of ∇C_λ over the whole training set (the cache holds
        # the latest e_j of all K samples; the loop has already written this batch).
        lam_d = lam.detach() if isinstance(lam, Tensor) else lam
        # Shift by the cache's maximum before multiplying by λ (precision at λ ≫ 1).
        shift = self.cache.max()
        logits = lam_d * (self.cache - shift)
        if self.cache_weight is not None:
            logits = logits + torch.log(self.cache_weight)
        log_norm = torch.logsumexp(logits, dim=0)
        log_w = lam_d * (errors.detach() - shift) - log_norm
        if sample_weight is not None:
            log_w = log_w + torch.log(sample_weight)
        # Negligible weights to exactly 0 (no subnormal gradients in a float32 net).
        log_w = log_w.masked_fill(log_w < flush_log_cutoff(self.cache.shape[0]), -math.inf)
        weights = torch.exp(log_w) * self.cache.shape[0]
        # (K/B) Σ_B π_k ∇e_k: divide by the samples drawn, also those the fast
        # gradient dropped.
        return (weights * errors).sum() / (n_drawn or errors.shape[0])

    def _nrae_epoch_loss(self, errors: Tensor, sample_weight: Tensor | None, lam: float) -> float:
        return float(nrae(errors, lam, sample_weight))


class ConstantNRAE(_NRAEMixin, Strategy):
    """``schedule="constant"``: NRAE at a fixed λ.

    Parameters
    ----------
    lambda_init : float or "auto"
        λ; "auto" see :func:`auto_lambda`.
    normalizer : {"batch", "global"}

    Examples
    --------
    >>> import torch
    >>> from skconvex.training import ConstantNRAE
    >>> errors = torch.tensor([0.0, 1.0, 2.0, 5.0], dtype=torch.float64)
    >>> strategy = ConstantNRAE(lambda_init=1.0)
    >>> strategy.start(errors, None)    # the loop calls it with the initial errors
    >>> round(strategy.epoch_loss(errors, None), 4)    # ln(mean(exp(errors))) at λ = 1
    3.6859
    >>> strategy.stage, strategy.lam
    ('nrae', 1.0)
    >>> auto = ConstantNRAE(lambda_init="auto")
    >>> auto.start(errors, None)       # λ·(max e − median e) = 1
    >>> auto.lam
    0.25
    """

    stage = "nrae"

    def __init__(self, lambda_init: float | str = 1.0, normalizer: str = "batch"):
        self.lambda_init = lambda_init
        self.normalizer = normalizer
        self._lam = None

    @property
    def lam(self) -> float:
        return self._lam

    def start(self, errors: Tensor, sample_weight: Tensor | None) -> None:
        super().start(errors, sample_weight)
        self.cache, self.cache_weight = errors, sample_weight
        if self._lam is None:
            self._lam = (
                auto_lambda(errors, sample_weight)
                if self.lambda_init == "auto"
                else float(self.lambda_init)
            )
            self.lambda_start = self._lam

    def batch_loss(self, errors, idx, sample_weight, n_drawn=None):
        return self._nrae_batch_loss(errors, idx, sample_weight, self._lam, n_drawn)

    def epoch_loss(self, errors, sample_weight):
        return self._nrae_epoch_loss(errors, sample_weight, self._lam)


class GradualDeconvexification(ConstantNRAE):
    """``schedule="gdc"``: gradual deconvexification of Lo, Gui & Peng (sections III-A, C).

    Stage ``"nrae"`` minimizes C_λ starting at λ₀ = ``lambda_init``. Whenever the
    epoch criterion has not decreased by a relative ``lambda_tol`` for
    ``lambda_patience`` epochs (stagnancy), λ ← ``lambda_decay``·λ. With
    ``switch_to_rae``, as soon as λ < λ_c = (ln F_max − ln K)/e_M the stage becomes
    ``"rae"``: the RAE J_λ is minimized with the normalized gradient ∇J/‖∇J‖. Since
    ∇J_λ = λ J_λ ∇C_λ, that is the NRAE direction with a fixed step length, so the
    same code path is used with ``normalize_gradient=True``. Once λ < ``lambda_min``
    ("auto": λ₀/100) the stage is ``"mean"``: plain SSE (or cross-entropy) to the end.

    ``normalized_step=False`` keeps the optimizer's own step in stage 2: Adam already
    divides by a running gradient scale, and with a unit-norm gradient it loses the
    damping of its ε near a minimum and keeps bouncing at a fixed step length.

    Stagnancy keeps deconvexifying in stage 2 as well, so a run that stalls at the
    switch λ still reaches plain SSE (the paper keeps λ fixed in stage 2 "until
    convergence"; ``lambda_decay=1`` gives that).

    Examples
    --------
    >>> import torch
    >>> from skconvex.criteria import squared_errors
    >>> from skconvex.nn import MLP
    >>> from skconvex.training import GradualDeconvexification, train
    >>> _ = torch.manual_seed(0)
    >>> X = torch.linspace(-1, 1, 64).unsqueeze(1)
    >>> Y = torch.sin(3 * X)
    >>> strategy = GradualDeconvexification(lambda_init=1e4, lambda_patience=2, lambda_decay=0.5)
    >>> history = train(MLP(1, 1, hidden_layer_sizes=(8,), activation="tanh"), squared_errors,
    ...                 strategy, X, Y, lambda groups: torch.optim.Adam(groups, lr=0.01),
    ...                 max_iter=300, batch_size=64)
    >>> history.lam[0], history.stage[0]      # λ₀ = 1e4: stage 1, NRAE
    (10000.0, 'nrae')
    >>> history.stage[-1], strategy.lam        # λ halved on stagnancy, then the RAE stage
    ('rae', 312.5)
    """

    stage = "nrae"

    def __init__(
        self,
        lambda_init: float | str = 1e4,
        lambda_decay: float = 0.9,
        lambda_tol: float = 1e-3,
        lambda_patience: int = 10,
        lambda_min: float | str = "auto",
        switch_to_rae: bool = True,
        normalizer: str = "batch",
        fast_gradient: bool = False,
        rae_dtype: torch.dtype = torch.float64,
        net_dtype: torch.dtype = torch.float32,
        normalized_step: bool = True,
    ):
        super().__init__(lambda_init, normalizer)
        self.normalized_step = normalized_step
        self.lambda_decay = lambda_decay
        self.lambda_tol = lambda_tol
        self.lambda_patience = lambda_patience
        self.lambda_min = lambda_min
        self.switch_to_rae = switch_to_rae
        self.fast_gradient = fast_gradient
        self.rae_dtype = rae_dtype
        self.net_dtype = net_dtype
        # Stagnancy lowers λ here (the Convergence callback's detector stops instead).
        self._stagnancy = Stagnancy(lambda_tol, lambda_patience, relative=True)

    # Stage-dependent behaviour, read by the loop.
    @property
    def normalize_gradient(self) -> bool:
        return self.normalized_step and self.stage == "rae"

    @property
    def final(self) -> bool:
        return self.stage == "mean"

    @property
    def early_stopping_allowed(self) -> bool:
        # Stage 2 runs "until convergence or termination by cross-validation".
        return self.stage != "nrae"


    @property
    def lam(self) -> float:
        return 0.0 if self.stage == "mean" else self._lam

    def start(self, errors, sample_weight):
        super().start(errors, sample_weight)
        if self.lambda_min == "auto":
            # Two decades below λ₀: there λ·spread ≈ 0.01 and NRAE ≈ mean + (λ/2)·var
            # differs from the plain criterion by well under a percent.
            self.lambda_min = AUTO_LAMBDA_MIN_RATIO * getattr(self, "lambda_start", self._lam)
        if self.fast_gradient:
            self.log_cutoff = fast_gradient_log_cutoff(self.n_effective, self.net_dtype)
        self._advance_stage(errors)

    def _advance_stage(self, errors: Tensor) -> None:
        if (
            self.stage == "nrae"
            and self.switch_to_rae
            and self._lam < lambda_critical(self._max_error(errors), self.n_effective, self.rae_dtype)
        ):
            self.stage = "rae"
            self.log_cutoff = None  # RAE is evaluated in full once it cannot overflow
        if self.stage != "mean" and self._lam < self.lambda_min:
            self.stage = "mean"
            self.log_cutoff = None

    def _max_error(self, errors: Tensor) -> float:
        if self.cache_weight is None:
            return float(errors.max())
        return float(errors[self.cache_weight > 0].max())

    def batch_loss(self, errors, idx, sample_weight, n_drawn=None):
        if self.stage == "mean":
            return Strategy.batch_loss(self, errors, idx, sample_weight)
        return self._nrae_batch_loss(errors, idx, sample_weight, self._lam, n_drawn)

    def epoch_loss(self, errors, sample_weight):
        if self.stage == "mean":
            return Strategy.epoch_loss(self, errors, sample_weight)
        return self._nrae_epoch_loss(errors, sample_weight, self._lam)

    def end_epoch(self, loss: float, errors: Tensor) -> None:
        if self.stage == "mean":
            return
        # Stagnancy: no relative decrease of lambda_tol within lambda_patience epochs.
        # The first epoch after start or after a decay sets the reference.
        if self._stagnancy.update(loss):
            self._lam *= self.lambda_decay
        self._advance_stage(errors)

    # Step rules, owned here: the loop knows nothing of them.
    def callbacks(self) -> list[Callback]:
        return [*super().callbacks(), _NormalizedStep(self)]

    def select_batch(self, module, per_sample_loss, batch, errors):
        if self.log_cutoff is None:
            return batch
        return _fast_gradient_subset(module, per_sample_loss, self, batch, errors)


class _NormalizedStep(Callback):
    """GDC stage 2's step rule: scale the gradient to unit norm (∇J/‖∇J‖)."""

    def __init__(self, strategy: GradualDeconvexification):
        self.strategy = strategy

    def on_gradient(self, ctx: TrainingContext) -> None:
        if not self.strategy.normalize_gradient:
            return
        norm = ctx.gradient_norm()
        if norm is None:
            return
        scale = torch.where(norm > 0, 1.0 / norm, torch.zeros_like(norm))
        torch._foreach_mul_([p.grad for p in ctx.params if p.grad is not None], scale)


def _fast_gradient_subset(module, per_sample_loss, strategy, batch, errors):
    """Algorithm 1's fast gradient: backpropagate only samples that carry weight.

    A forward pass without autograd finds the samples whose NRAE weight
    exp(λ(e_k − e_M)) is below the strategy's cut-off; only the rest go through the
    forward/backward pass that follows. The cache gets every sample's error.
    """
    xb, yb, swb, idx = batch
    with torch.no_grad():
        e_all = per_sample_loss(module(xb), yb)
    errors[idx] = e_all
    weighted = e_all if swb is None else e_all.masked_fill(swb <= 0, -math.inf)
    keep = strategy.lam * (e_all - weighted.max()) >= strategy.log_cutoff
    if swb is not None:
        keep &= swb > 0
    if bool(keep.all()):
        return batch
    return xb[keep], yb[keep], None if swb is None else swb[keep], idx[keep]


class AdaptiveLambda(_NRAEMixin, Strategy):
    """``schedule="adaptive"``: ANRAT, λ learned with the weights.

    Minimizes ``(1/λ^p) ln((1/m) Σ exp(λ^p L_i)) + a λ^(−q)``. λ = softplus(ρ) keeps it
    positive; ρ is an extra parameter the loop gives the optimizer without weight
    decay. Since ∂NRAE/∂λ ≥ 0, descent lowers λ (automatic deconvexification) and the
    penalty holds it up.

    Examples
    --------
    >>> from skconvex.training import AdaptiveLambda
    >>> strategy = AdaptiveLambda(lambda_init=8.0, penalty=0.01)
    >>> round(strategy.lam, 6), strategy.stage
    (8.0, 'adaptive')
    >>> [p.shape for p in strategy.extra_parameters()]   # ρ, with λ = softplus(ρ)
    [torch.Size([])]
    """

    stage = "adaptive"

    def __init__(
        self,
        lambda_init: float = 8.0,
        penalty: float = 0.01,
        penalty_power: float = 1.0,
        power: float = 1.0,
        normalizer: str = "batch",
        dtype: torch.dtype = torch.float32,
    ):
        self.lambda_init = float(lambda_init)
        self.penalty = penalty
        self.penalty_power = penalty_power
        self.power = power
        self.normalizer = normalizer
        # softplus⁻¹(λ₀) = λ₀ + ln(1 − e^{−λ₀})
        lam0 = self.lambda_init
        rho0 = lam0 + math.log(-math.expm1(-lam0))
        self.rho = torch.nn.Parameter(torch.tensor(rho0, dtype=dtype))

    @property
    def lam_tensor(self) -> Tensor:
        return F.softplus(self.rho.to(torch.float64))

    @property
    def lam(self) -> float:
        return float(self.lam_tensor.detach())

    def start(self, errors, sample_weight):
        super().start(errors, sample_weight)
        self.cache, self.cache_weight = errors, sample_weight

    def extra_parameters(self) -> list[Tensor]:
        return [self.rho]

    def batch_loss(self, errors, idx, sample_weight, n_drawn=None):
        lam = self.lam_tensor
        if self.normalizer == "batch":
            return anrat_objective(
                errors, lam, self.power, self.penalty, self.penalty_power, sample_weight
            )
        # Global: weights from the cache for the network; λ's own gradient from the
        # criterion on the (detached) cache.
        step = self._nrae_batch_loss(errors, idx, sample_weight, lam**self.power, n_drawn)
        lam_part = anrat_objective(
            self.cache, lam, self.power, self.penalty, self.penalty_power, self.cache_weight
        )
        return step + lam_part

    def epoch_loss(self, errors, sample_weight):
        with torch.no_grad():
            return float(
                anrat_objective(
                    errors, self.lam_tensor, self.power, self.penalty, self.penalty_power,
                    sample_weight,
                )
            )

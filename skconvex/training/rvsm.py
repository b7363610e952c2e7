"""RVSM: the relaxed variable splitting method as a strategy of the one training loop.

Dinh & Xin's Algorithm 1 minimizes the Lagrangian

    L_β(w, u) = f(w) + λ·P(u) + (β/2)·‖w − u‖²

by alternating a gradient step in w and an exact minimization in u:

    w ← w − η∇f(w) − ηβ(w − u),        u ← argmin_u λP(u) + (β/2)‖w − u‖² = prox_{(λ/β)P}(w),

the proximal map being a threshold (:mod:`skconvex.thresholds`). Here the w-step is
the loop's optimizer step on the minibatch loss ``mean(e_k) + (β/2)‖w − u‖²``, so the
coupling term β(w − u) goes through the optimizer like the data gradient: through
momentum for SGD with momentum, through Adam's normalization for Adam (with plain SGD
it is exactly Algorithm 1). After every step u is recomputed from the new w
(:meth:`RelaxedSplitting.after_step`). Every weight of a Linear or Conv layer is split
(biases are not), so RVSM sparsifies any network, not only the no-overlap CNN.

:class:`ADMMSplitting` is the baseline the paper compares with (§3.3, eq. 10): the same
splitting plus a Lagrange multiplier z, with the w-argmin replaced by a gradient step
as in the ADMM adaptations to deep networks.

Nothing here imports scikit-learn.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ..nn.masks import prunable_parameters
from ..thresholds import KINDS, penalty, threshold
from .strategies import Strategy

__all__ = ["ADMMSplitting", "RelaxedSplitting"]


class RelaxedSplitting(Strategy):
    """Algorithm 1 of RVSM: w by the optimizer on f + (β/2)‖w − u‖², u = threshold(w).

    Parameters
    ----------
    penalty : {"l1", "l0", "tl1"}
        P: ℓ1, ℓ0 or transformed ℓ1 ρ_a.
    lam : float
        λ ≥ 0, the weight of the penalty.
    beta : float
        β > 0, the weight of the coupling ‖w − u‖².
    a : float
        The parameter of transformed ℓ1.
    reset_to_sparse : bool
        Set w = u at the start of every epoch after the first, as the authors' code does
        after each epoch (not part of Algorithm 1): weights below the threshold restart
        from zero.

    Attributes
    ----------
    names : list of str
        The split parameters (weights of the Linear/Conv layers), after the first epoch.
    u : list of Tensor
        Their sparse copies, same order.

    Examples
    --------
    >>> import torch
    >>> from skconvex.criteria import squared_errors
    >>> from skconvex.nn import MLP
    >>> from skconvex.training import RelaxedSplitting, train
    >>> _ = torch.manual_seed(0)
    >>> X, Y = torch.randn(256, 10), torch.randn(256, 1)
    >>> strategy = RelaxedSplitting(penalty="l0", lam=1e-3, beta=1e-2)
    >>> history = train(MLP(10, 1, hidden_layer_sizes=(16,)), squared_errors, strategy, X, Y,
    ...                 lambda groups: torch.optim.SGD(groups, lr=0.05), max_iter=5, batch_size=32)
    >>> strategy.names
    ['linears.0.weight', 'linears.1.weight']
    >>> [round(float((u == 0).double().mean()), 2) for u in strategy.u]   # zeros of u
    [0.93, 0.88]
    """

    stage = "rvsm"

    def __init__(
        self, penalty: str = "l0", lam: float = 1e-5, beta: float = 1e-2, a: float = 1.0,
        reset_to_sparse: bool = False,
    ) -> None:
        if penalty not in KINDS:
            raise ValueError(f"penalty must be one of {list(KINDS)}, got {penalty!r}.")
        if lam < 0 or beta <= 0 or a <= 0:
            raise ValueError("RVSM needs lam ≥ 0, beta > 0 and a > 0.")
        # Not `lam`: the loop reads Strategy.lam as NRAE's λ (None here).
        self.penalty, self.penalty_weight, self.beta, self.a = penalty, float(lam), float(beta), float(a)
        self.reset_to_sparse = bool(reset_to_sparse)
        self.names: list[str] = []
        self.params: list[Tensor] = []
        self.u: list[Tensor] = []

    def _threshold(self, w: Tensor) -> Tensor:
        return threshold(w.detach(), self.penalty, self.penalty_weight, self.beta, self.a)

    def start_epoch(self, epoch: int, module: nn.Module, optimizer) -> bool:
        if not self.params:  # u⁰ = threshold(w⁰)
            split = prunable_parameters(module)
            self.names, self.params = list(split), list(split.values())
            self.u = [self._threshold(p) for p in self.params]
        elif self.reset_to_sparse:
            with torch.no_grad():
                for p, u in zip(self.params, self.u):
                    p.copy_(u)
        return False

    @torch.no_grad()
    def after_step(self, module: nn.Module) -> None:
        for i, p in enumerate(self.params):
            self.u[i] = self._threshold(p)

    @torch.no_grad()
    def resync(self) -> None:
        """u = threshold(w) again, after the loop restored w (divergence, Ctrl-C).

        The sparse copy follows w step by step; the restored w is an earlier
        iterate, so the u of the last (diverged) step no longer belongs to it.
        """
        self.u = [self._threshold(p) for p in self.params]

    def coupling(self) -> Tensor:
        """(β/2)·‖w − u‖² over the split parameters (differentiable in w)."""
        total = sum(((p - u) ** 2).sum() for p, u in zip(self.params, self.u))
        return 0.5 * self.beta * total

    def batch_loss(self, errors, idx, sample_weight, n_drawn=None) -> Tensor:
        return super().batch_loss(errors, idx, sample_weight, n_drawn) + self.coupling()

    def epoch_loss(self, errors, sample_weight) -> float:
        """L_β(w, u) with f the mean error of the epoch's cache."""
        with torch.no_grad():
            penalty_value = sum(float(penalty(u, self.penalty, self.a)) for u in self.u)
            return (
                super().epoch_loss(errors, sample_weight)
                + self.penalty_weight * penalty_value
                + float(self.coupling())
            )


class ADMMSplitting(RelaxedSplitting):
    """ADMM on the same splitting (eq. 10), with a gradient step for w: the paper's baseline.

    The Lagrangian is ``L_β(w, u, z) = f(w) + λP(u) + ⟨z, w − u⟩ + (β/2)‖w − u‖²`` (eq. 9,
    with any of the three penalties instead of only ℓ1). Each step:

    * w: the optimizer's step on ``mean(e_k) + ⟨z, w − u⟩ + (β/2)‖w − u‖²``,
    * u ← argmin_u L_β(w, u, z) = threshold(w + z/β),
    * z ← z + β(w − u).

    The multiplier pulls w and u together, so at a fixed point w = u; RVSM has no z
    and keeps a gap, which is why its u is sparser (§3.3).

    Attributes
    ----------
    z : list of Tensor
        The multipliers, one per split parameter.

    Examples
    --------
    >>> import torch
    >>> from skconvex.criteria import squared_errors
    >>> from skconvex.nn import MLP
    >>> from skconvex.training import ADMMSplitting, train
    >>> _ = torch.manual_seed(0)
    >>> X, Y = torch.randn(256, 10), torch.randn(256, 1)
    >>> strategy = ADMMSplitting(penalty="l1", lam=1e-3, beta=1e-2)
    >>> history = train(MLP(10, 1, hidden_layer_sizes=(16,)), squared_errors, strategy, X, Y,
    ...                 lambda groups: torch.optim.SGD(groups, lr=0.05), max_iter=5, batch_size=32)
    >>> [tuple(z.shape) for z in strategy.z]    # one multiplier per split weight
    [(16, 10), (1, 16)]
    >>> [round(float((u == 0).double().mean()), 2) for u in strategy.u]
    [0.01, 0.06]
    """

    stage = "admm"

    def start_epoch(self, epoch: int, module: nn.Module, optimizer) -> bool:
        first = not self.params
        super().start_epoch(epoch, module, optimizer)
        if first:  # z⁰ = 0, so u⁰ = threshold(w⁰) as in RVSM
            self.z = [torch.zeros_like(p.detach()) for p in self.params]
        return False

    @torch.no_grad()
    def after_step(self, module: nn.Module) -> None:
        for i, p in enumerate(self.params):
            self.u[i] = self._threshold(p + self.z[i] / self.beta)
            self.z[i] += self.beta * (p - self.u[i])

    @torch.no_grad()
    def resync(self) -> None:
        """u = threshold(w + z/β) for the restored w; a non-finite z starts again at 0."""
        self.z = [z if bool(torch.isfinite(z).all()) else torch.zeros_like(z) for z in self.z]
        self.u = [self._threshold(p + z / self.beta) for p, z in zip(self.params, self.z)]

    def coupling(self) -> Tensor:
        """⟨z, w − u⟩ + (β/2)‖w − u‖² over the split parameters (differentiable in w)."""
        return super().coupling() + sum((z * (p - u)).sum() for p, u, z in zip(self.params, self.u, self.z))

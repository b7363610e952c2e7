"""Training criteria of the GDC and ANRAT papers, evaluated without overflow.

Pure torch, no scikit-learn. Every function takes a vector of per-sample errors
``e_k`` (squared errors, cross-entropies, ...) and returns a float64 tensor through
which autograd flows back to the network's outputs, whatever their dtype.

Notation (Lo, Gui & Peng, "Training deep neural networks with gradual
deconvexification", eqs. 2, 5, 10, 16, 18):

* RAE ``J_λ = Σ_k s_k exp(λ e_k)`` (``s_k`` = sample weights, 1 in the paper),
* NRAE ``C_λ = (1/λ) ln(J_λ / Σ_k s_k)``,
* ``e_M = max_k e_k`` and ``λ_c = (ln F_max − ln K) / e_M``.

Why float64: at λ = 1e9 a float32 error ``e_k`` is known only to ~1e-7, so
``λ e_k`` is known only to ~100 and the weights ``exp(λ(e_k − e_M))`` are noise.
Errors are therefore computed from the (possibly float32) network output *after*
casting it to float64.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor
from torch.nn import functional as F

__all__ = [
    "squared_errors",
    "cross_entropy_errors",
    "true_class_squared_errors",
    "nrae",
    "nrae_step_loss",
    "log_rae",
    "rae",
    "nrae_weights",
    "lambda_critical",
    "fast_gradient_log_cutoff",
    "anrat_objective",
    "lambda_penalty",
]


def squared_errors(output: Tensor, target: Tensor, *, dtype: torch.dtype | None = torch.float64) -> Tensor:
    """Per-sample squared error ``e_k = ‖y_k − f(x_k)‖²`` in float64.

    Parameters
    ----------
    output : Tensor of shape (n_samples, n_outputs) or (n_samples,)
        Network outputs ``f(x_k)``, any floating dtype.
    target : Tensor of the same shape
        Targets ``y_k``.
    dtype : torch.dtype or None, default=torch.float64
        Precision of the errors. None: the output's dtype, for the plain mean
        criterion, which needs no more than the network's precision (saves a cast
        and a float64 backward per step); NRAE at large λ needs float64.

    Returns
    -------
    Tensor of shape (n_samples,), float64

    Examples
    --------
    >>> import torch
    >>> squared_errors(torch.tensor([[0.0, 1.0]]), torch.tensor([[1.0, -1.0]]))
    tensor([5.], dtype=torch.float64)
    """
    dtype = output.dtype if dtype is None else dtype
    diff = target.to(dtype) - output.to(dtype)
    if diff.dim() == 1:
        return diff * diff
    return (diff * diff).sum(dim=1)


def cross_entropy_errors(logits: Tensor, target: Tensor, *, dtype: torch.dtype | None = torch.float64) -> Tensor:
    """Per-sample cross-entropy ``−ln softmax(f(x_k))_{y_k}`` in float64.

    Parameters
    ----------
    logits : Tensor of shape (n_samples, n_classes)
    target : LongTensor of shape (n_samples,)
        Class indices.
    dtype : torch.dtype or None, default=torch.float64
        Precision of the errors; None: the logits' dtype (see :func:`squared_errors`).

    Examples
    --------
    >>> import torch
    >>> cross_entropy_errors(torch.zeros(1, 4), torch.tensor([2]))
    tensor([1.3863], dtype=torch.float64)
    """
    return F.cross_entropy(logits if dtype is None else logits.to(dtype), target, reduction="none")


def true_class_squared_errors(
    logits: Tensor, target: Tensor, *, dtype: torch.dtype | None = torch.float64
) -> Tensor:
    """``L_i = (1 − p_{i, y_i})²``, the per-sample loss the ANRAT authors trained with.

    ``p`` is the softmax of ``logits``; computed in float64 (``dtype``: see
    :func:`squared_errors`).

    Examples
    --------
    >>> import torch
    >>> true_class_squared_errors(torch.zeros(1, 4), torch.tensor([0]))
    tensor([0.5625], dtype=torch.float64)
    """
    log_p = torch.log_softmax(logits if dtype is None else logits.to(dtype), dim=1)
    p_true = log_p.gather(1, target.view(-1, 1)).squeeze(1).exp()
    return (1.0 - p_true) ** 2


def _log_weights(errors: Tensor, sample_weight: Tensor | None) -> tuple[Tensor | None, Tensor]:
    """Return (ln s_k or None, ln Σ s_k) in float64."""
    if sample_weight is None:
        return None, torch.tensor(math.log(errors.shape[0]), dtype=torch.float64, device=errors.device)
    sw = sample_weight.to(device=errors.device, dtype=torch.float64)
    return torch.log(sw), torch.log(sw.sum())


_LSE_ONLY_LAMBDA = 1e-3
_EPS64 = torch.finfo(torch.float64).eps
_LOG_EPS64 = math.log(_EPS64)


def flush_log_cutoff(n_samples: float) -> float:
    """Log-weight below which NRAE weights are set to exactly 0: ln(eps₆₄) − ln K.

    All such weights together carry less than eps₆₄ of the total, so neither C_λ nor its
    gradient changes in float64. Keeping them would cost time: sent back to a float32
    network they are subnormal numbers, which slow its backward matrix products
    (1.3× per epoch at λ = 1e4 on MNIST, 784-300-10, before this cut).

    Examples
    --------
    >>> round(flush_log_cutoff(1), 2)
    -36.04
    """
    return _LOG_EPS64 - math.log(n_samples)


class _FastNRAE(torch.autograd.Function):
    """C_λ of unweighted errors for a float λ ≥ 1e-3, as one autograd node.

    The training hot path: the generic formula costs a dozen autograd nodes per step,
    this costs one, with the same value and gradient π = softmax(λ e) (weights below
    :func:`flush_log_cutoff` flushed to 0).
    """

    @staticmethod
    def forward(ctx, e: Tensor, lam: float) -> Tensor:
        e_max = e.max()
        w = (e - e_max).mul_(lam)
        w = w.masked_fill_(w < flush_log_cutoff(e.shape[0]), -math.inf).exp_()
        total = w.sum()
        ctx.save_for_backward(w, total)
        return e_max + (total.log() - math.log(e.shape[0])) / lam

    @staticmethod
    def backward(ctx, grad: Tensor):
        w, total = ctx.saved_tensors
        return grad * w / total, None


def nrae_step_loss(errors: Tensor, lam: float) -> Tensor:
    """A scalar whose gradient is exactly ∇C_λ, for one training step (λ ≥ 1e-3).

    ``Σ_k π_k e_k`` with the weights ``π = softmax(λ e)`` computed without autograd:
    the gradient is ``Σ_k π_k ∇e_k`` = ∇C_λ (eq. 16), through two autograd nodes
    instead of the dozen of the generic formula (the loop only backpropagates the
    step's scalar, it never reads its value; the value is the π-weighted mean error,
    not C_λ). Weights below ``eps₆₄/K`` are flushed to 0, as in :func:`nrae`: they
    change nothing in float64 and would be subnormal in a float32 network's gradient.

    Parameters
    ----------
    errors : Tensor of shape (K,)
        Per-sample errors (float64 for large λ, see the module docstring).
    lam : float
        λ ≥ 1e-3 (below it softmax loses the mean limit's precision; use :func:`nrae`).

    Returns
    -------
    Tensor, 0-d

    Examples
    --------
    >>> import torch
    >>> e = torch.tensor([0.1, 0.2, 0.9], dtype=torch.float64, requires_grad=True)
    >>> nrae_step_loss(e, 2.0).backward()
    >>> torch.allclose(e.grad, torch.softmax(2.0 * e.detach(), 0))
    True
    """
    with torch.no_grad():
        weights = torch.softmax(errors.detach() * lam, dim=0)
        weights.masked_fill_(weights < _EPS64 / errors.shape[0], 0.0)
    return torch.dot(weights, errors)


def _is_zero(lam: float | Tensor) -> bool:
    return not isinstance(lam, Tensor) and lam == 0


def nrae(
    errors: Tensor,
    lam: float | Tensor,
    sample_weight: Tensor | None = None,
    log_cutoff: float | None = None,
) -> Tensor:
    """Normalized risk-averting error ``C_λ = (1/λ) ln((1/K) Σ_k exp(λ e_k))`` (eq. 5).

    Evaluated as ``e_M + (1/λ) ln((1/K) Σ exp(λ(e_k − e_M)))`` (eq. 11) so that it never
    overflows: the result satisfies ``e_M − ln K/λ ≤ C_λ ≤ e_M`` for every λ > 0.
    Where every ``λ(e_k − e_M)`` is small (tiny λ, or nearly equal errors) the
    ``log1p``/``expm1`` form is used instead of log-sum-exp, which keeps the limit
    ``C_λ → mean e_k`` exact as λ → 0 (for λ = 1e-300 log-sum-exp would return e_M).

    The gradient is ``Σ_k π_k ∇e_k`` with ``π = softmax(λ e + ln s)`` (eq. 16); the
    shift ``e_M`` is detached, so autograd produces exactly these weights.

    Parameters
    ----------
    errors : Tensor of shape (K,)
        Per-sample errors ``e_k`` (cast to float64).
    lam : float or 0-d Tensor
        Risk-sensitivity index λ ≥ 0 (a tensor may require grad, as in ANRAT).
        λ = 0 returns the (weighted) mean error, the limit.
    sample_weight : Tensor of shape (K,), optional
        Non-negative weights ``s_k``; they enter the log-sum-exp,
        ``C_λ = (1/λ) ln(Σ s_k e^{λ e_k} / Σ s_k)``.
    log_cutoff : float, optional
        The "fast gradient" of Algorithm 1: samples with ``λ(e_k − e_M) < log_cutoff``
        get weight exactly 0 (and no gradient). See :func:`fast_gradient_log_cutoff`.

    Returns
    -------
    Tensor, 0-d, float64

    Examples
    --------
    >>> import torch
    >>> e = torch.tensor([0.1, 0.2, 0.9], dtype=torch.float64)
    >>> float(nrae(e, 1e-8))  # ≈ mean
    0.4000000...
    >>> float(nrae(e, 1e9))  # = e_M - ln(3)/λ
    0.8999999989...
    """
    e = errors.to(torch.float64)
    if (
        sample_weight is None
        and log_cutoff is None
        and not isinstance(lam, Tensor)
        and lam >= _LSE_ONLY_LAMBDA
        and e.numel() > 0
    ):
        return _FastNRAE.apply(e, float(lam))
    log_s, log_total = _log_weights(e, sample_weight)
    if _is_zero(lam):
        if sample_weight is None:
            return e.mean()
        s = log_s.exp()
        return (s * e).sum() / s.sum()
    if e.numel() == 0:
        raise ValueError("nrae needs at least one error, got an empty tensor")
    if sample_weight is None:
        e_max = e.max().detach()
    else:
        # The shift must be a sample that carries weight, or 1 + mean(expm1) can
        # underflow to 0 below.
        e_max = e.detach().masked_fill(log_s.exp() <= 0, -math.inf).max()
    x = lam * (e - e_max)  # ≤ 0, = 0 at the worst sample
    if log_s is not None:
        # Zero-weight samples may lie above e_M: take them out before expm1 can
        # overflow (0·inf would be NaN in the value or in the unused branch's gradient).
        x = x.masked_fill(torch.isinf(log_s), -math.inf)
    if log_cutoff is None:
        log_cutoff = flush_log_cutoff(e.shape[0])
    # Dropped samples contribute exp(-inf) = 0 and get zero gradient.
    x = torch.where(x < log_cutoff, torch.full_like(x, -math.inf), x)
    # Branch 1, log-sum-exp: its absolute error in C_λ is ~eps/λ, negligible unless
    # λ·C_λ approaches eps; for λ ≥ 1e-3 it alone is used (this is the hot path of
    # training: fewer autograd nodes per step).
    xs = x if log_s is None else x + log_s
    lse = torch.logsumexp(xs, dim=0) - log_total
    if not isinstance(lam, Tensor) and lam >= _LSE_ONLY_LAMBDA:
        return e_max + lse / lam
    # Branch 2, log1p(mean expm1(x)): exact when all |x| are small (λ → 0).
    em1 = torch.expm1(x)
    if log_s is None:
        mean_em1 = em1.mean()
    else:
        s = log_s.exp()
        mean_em1 = (s * em1).sum() / s.sum()
    xd = x.detach()
    small = xd.masked_fill(torch.isinf(xd), 0.0).min() > -0.5  # dropped samples aside
    log_mean = torch.where(small, torch.log1p(mean_em1), lse)
    return e_max + log_mean / lam


def log_rae(errors: Tensor, lam: float | Tensor, sample_weight: Tensor | None = None) -> Tensor:
    """``ln J_λ = ln Σ_k s_k exp(λ e_k)`` (eq. 2), finite for every λ.

    Examples
    --------
    >>> import torch
    >>> float(log_rae(torch.tensor([0.0, 0.0]), 5.0))  # ln 2
    0.693147...
    """
    e = errors.to(torch.float64)
    log_s, _ = _log_weights(e, sample_weight)
    xs = lam * e if log_s is None else lam * e + log_s
    return torch.logsumexp(xs, dim=0)


def rae(errors: Tensor, lam: float | Tensor, sample_weight: Tensor | None = None) -> Tensor:
    """Risk-averting error ``J_λ = Σ_k s_k exp(λ e_k)`` (eq. 2), float64.

    Overflows to ``inf`` when λ ≥ :func:`lambda_critical` (float64); the GDC
    procedure therefore never minimizes it directly, see :func:`nrae` and the
    normalized-gradient step of stage 2.

    Examples
    --------
    >>> import torch
    >>> float(rae(torch.tensor([0.0, 1.0]), 1.0))  # 1 + e
    3.718281...
    """
    return torch.exp(log_rae(errors, lam, sample_weight))


def nrae_weights(
    errors: Tensor, lam: float | Tensor, sample_weight: Tensor | None = None
) -> Tensor:
    """The weights ``π_k = s_k e^{λ e_k} / Σ_j s_j e^{λ e_j}`` of ∇C_λ = Σ π_k ∇e_k (eq. 16).

    Examples
    --------
    >>> import torch
    >>> nrae_weights(torch.tensor([0.0, 1.0]), 1e9)
    tensor([0., 1.], dtype=torch.float64)
    """
    e = errors.to(torch.float64)
    log_s, _ = _log_weights(e, sample_weight)
    # Shift before multiplying: λ·e at λ = 1e9 would round the exponents to ~1e-7.
    x = lam * (e - e.detach().max())
    xs = x if log_s is None else x + log_s
    return torch.softmax(xs, dim=0)


def log_float_max(dtype: torch.dtype = torch.float64) -> float:
    """``ln F_max`` for a floating dtype: 709.78 (float64), 88.72 (float32).

    Examples
    --------
    >>> import torch
    >>> round(log_float_max(torch.float32), 2)
    88.72
    """
    return math.log(torch.finfo(dtype).max)


def lambda_critical(
    max_error: float, n_samples: float, dtype: torch.dtype = torch.float64
) -> float:
    """λ_c = (ln F_max − ln K) / e_M (eq. 18): below it ``J_λ`` cannot overflow.

    ``J_λ ≤ K exp(λ e_M) < F_max`` whenever λ < λ_c. Returns ``inf`` when e_M = 0.

    Parameters
    ----------
    max_error : float
        ``e_M``, the largest per-sample error.
    n_samples : float
        ``K``, the number of terms in ``J_λ`` (with sample weights, their sum).
    dtype : torch.dtype
        The dtype in which ``J_λ`` would be evaluated (its ``F_max``).

    Examples
    --------
    >>> import torch
    >>> round(lambda_critical(2.0, 100, torch.float64), 3)
    352.589
    """
    if max_error <= 0:
        return math.inf
    return (log_float_max(dtype) - math.log(n_samples)) / float(max_error)


def fast_gradient_log_cutoff(n_samples: float, dtype: torch.dtype = torch.float32) -> float:
    """Relative cut-off for the "fast gradient" of Algorithm 1, as a log-weight.

    The paper drops samples whose weight ``exp(λ(e_k − e_M))`` is below
    ``F_min = 1e-300``, which only means something in float64. We drop a sample
    when its weight is below ``eps / K`` of the largest one (``eps`` of the network's
    dtype): all dropped samples together then carry less than ``eps`` of the
    total weight, which the network's arithmetic could not resolve anyway.

    Examples
    --------
    >>> import torch
    >>> round(fast_gradient_log_cutoff(1000, torch.float32), 2)
    -22.85
    """
    return math.log(torch.finfo(dtype).eps) - math.log(n_samples)


def lambda_penalty(lam: Tensor | float, a: float = 0.01, q: float = 1.0) -> Tensor | float:
    """ANRAT's penalty ``a · λ^(−q)`` (eq. 5 of the ANRAT paper), which holds λ up.

    Examples
    --------
    >>> lambda_penalty(8.0, a=0.01, q=1.0)
    0.00125
    """
    return a * lam ** (-q)


def anrat_objective(
    errors: Tensor,
    lam: Tensor | float,
    power: float = 1.0,
    a: float = 0.01,
    q: float = 1.0,
    sample_weight: Tensor | None = None,
) -> Tensor:
    """ANRAT's loss ``(1/λ^p) ln((1/m) Σ exp(λ^p L_i)) + a λ^(−q)``.

    With ``L_i`` the cross-entropy and ``p = 1`` this is the NRAE of the
    cross-entropy; the ANRAT paper writes the exponent with the log-likelihood, but
    its stated limits (mean error as λ → 0, minimax as λ → ∞) fix the risk-averting
    sign used here. With ``L_i = (1 − p_{y_i})²`` (:func:`true_class_squared_errors`)
    and ``p = 2`` it is the form the authors' code trains.

    Examples
    --------
    >>> import torch
    >>> L = torch.tensor([0.5, 0.5])
    >>> float(anrat_objective(L, 8.0, power=2, a=0.01, q=1))  # 0.5 + 0.01/8
    0.50125
    """
    return nrae(errors, lam**power, sample_weight) + lambda_penalty(lam, a, q)

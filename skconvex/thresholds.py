"""Thresholding operators of RVSM: proximal maps of sparse penalties.

Pure torch, no scikit-learn. Every operator is vectorized, works on tensors of any
shape (a linear layer's ``(out, in)`` weight, a convolution's 4-d weight, a 0-d
tensor), in float32 or float64 (half precisions are computed in float32 and cast
back), on whatever device the tensor lives on, and returns a *new* tensor of the
input's shape, dtype and device. The operators act on weights outside autograd:
an input with ``requires_grad`` is detached first.

The proximal problem
--------------------
The Relaxed Variable Splitting Method (Dinh & Xin, "Convergence of a relaxed
variable splitting method for learning sparse neural networks via ℓ1, ℓ0 and
transformed-ℓ1 penalties", Algorithm 1, eqs. 7-8) minimizes the augmented
Lagrangian

    L_β(w, u) = f(w) + λ P(u) + (β/2) ‖w − u‖²

by alternating a gradient step in ``w`` with the exact update

    u = argmin_u  λ P(u) + (β/2) ‖w − u‖²  =  prox_{(λ/β) P}(w).

``P`` is separable, so the update is applied element by element, and only the
ratio ``μ = λ/β`` matters: dividing the objective by ``β`` gives
``μ P(u) + ½ (w − u)²``. The three penalties and their operators:

* ℓ1, ``P(u) = Σ |u_i|``: soft thresholding
  ``u = sgn(w) max(|w| − μ, 0)`` (the paper's ``S_{λ/β}``);
* ℓ0, ``P(u) = #{i : u_i ≠ 0}``: hard thresholding, ``u = w`` where
  ``|w| > sqrt(2μ)``, else 0;
* transformed ℓ1 (Zhang & Xin), ``P(u) = Σ ρ_a(u_i)`` with
  ``ρ_a(x) = (a + 1)|x| / (a + |x|)``, ``a > 0``: ``u = 0`` where ``|w| ≤ t``
  and ``u = g(w)`` elsewhere, with

  - ``t = μ(a + 1)/a`` when ``μ ≤ a²/(2(a + 1))`` (the operator is continuous),
  - ``t = sqrt(2μ(a + 1)) − a/2`` otherwise (the operator jumps at ``t``),
  - ``g(w) = sgn(w) ((2/3)(a + |w|) cos(φ/3) − 2a/3 + |w|/3)``,
  - ``φ = arccos(1 − 27μa(a + 1) / (2(a + |w|)³))``, the argument clamped
    to ``[−1, 1]`` (rounding takes it just below −1 near ``t``).

  Small ``a`` approaches ℓ0 (threshold → ``sqrt(2μ)``), large ``a``
  approaches ℓ1 (threshold → ``μ``).

Behaviour at the threshold
--------------------------
For ℓ0, and for transformed ℓ1 in its second regime, the proximal objective has
two global minimizers when ``|w|`` equals the threshold exactly: 0 and a nonzero
value. The operators here return **0** there (the comparison is ``|w| > t`` for
keeping a weight), which favours sparsity. For ℓ1 and for transformed ℓ1 in its
first regime the minimizer is unique and equals 0 at the threshold. NaN inputs
propagate to NaN outputs; ``±inf`` maps to ``±inf``.

Examples
--------
>>> import torch
>>> from skconvex.thresholds import threshold, penalty
>>> w = torch.tensor([-3.0, -0.5, 0.0, 1.0, 2.5])
>>> threshold(w, "l1", lam=1.0, beta=1.0)
tensor([-2.0000,  0.0000,  0.0000,  0.0000,  1.5000])
>>> threshold(w, "l0", lam=2.0, beta=1.0)       # threshold sqrt(2·2/1) = 2
tensor([-3.0000,  0.0000,  0.0000,  0.0000,  2.5000])
>>> penalty(torch.tensor([0.0, -1.0, 3.0]), "l0")
tensor(2.)
"""

from __future__ import annotations

import math
from typing import Callable, Dict

import torch
from torch import Tensor

__all__ = [
    "soft_threshold",
    "hard_threshold",
    "transformed_l1_threshold",
    "threshold_value",
    "penalty",
    "threshold",
    "KINDS",
]

#: The penalty kinds understood by :func:`threshold` and :func:`penalty`.
KINDS = ("l1", "l0", "tl1")


def _check_params(lam: float, beta: float, a: float = 1.0) -> tuple[float, float, float]:
    """Validate and convert the scalar hyper-parameters to Python floats."""
    try:
        lam_f, beta_f, a_f = float(lam), float(beta), float(a)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"lam, beta and a must be real scalars, got {lam!r}, {beta!r}, {a!r}"
        ) from exc
    if not (math.isfinite(lam_f) and lam_f >= 0.0):
        raise ValueError(f"lam must be a finite number >= 0, got {lam!r}")
    if not (math.isfinite(beta_f) and beta_f > 0.0):
        raise ValueError(f"beta must be a finite number > 0, got {beta!r}")
    if not (math.isfinite(a_f) and a_f > 0.0):
        raise ValueError(f"a must be a finite number > 0, got {a!r}")
    return lam_f, beta_f, a_f


def _as_weight(w: Tensor) -> Tensor:
    """Detach ``w`` and make sure it is a real floating-point tensor."""
    if not isinstance(w, Tensor):
        w = torch.as_tensor(w)
    w = w.detach()
    if w.is_complex():
        raise TypeError("thresholding operators need a real tensor, got a complex one")
    if not w.is_floating_point():
        w = w.to(torch.get_default_dtype())
    return w


def _check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(
            f"unknown penalty kind {kind!r}; valid kinds are {', '.join(map(repr, KINDS))}"
        )
    return kind


def threshold_value(kind: str, lam: float, beta: float, a: float = 1.0) -> float:
    """Largest ``|w|`` that the operator of ``kind`` maps to 0.

    Parameters
    ----------
    kind : {"l1", "l0", "tl1"}
        The penalty.
    lam : float
        Penalty weight λ ≥ 0.
    beta : float
        Splitting weight β > 0.
    a : float, default=1.0
        Shape parameter of transformed ℓ1 (ignored for the others), ``a > 0``.

    Returns
    -------
    float
        ``μ`` for ℓ1, ``sqrt(2μ)`` for ℓ0, ``μ(a+1)/a`` or
        ``sqrt(2μ(a+1)) − a/2`` for transformed ℓ1, where ``μ = λ/β``.

    Examples
    --------
    >>> threshold_value("l1", 1.0, 4.0)
    0.25
    >>> threshold_value("l0", 2.0, 1.0)
    2.0
    >>> threshold_value("tl1", 1.0, 1.0, a=1.0)   # second regime, not 2.0
    1.5
    >>> threshold_value("tl1", 0.1, 1.0, a=1.0)   # first regime: μ(a+1)/a
    0.2
    """
    _check_kind(kind)
    lam, beta, a = _check_params(lam, beta, a)
    mu = lam / beta
    if kind == "l1":
        return mu
    if kind == "l0":
        return math.sqrt(2.0 * mu)
    if mu <= a * a / (2.0 * (a + 1.0)):
        return mu * (a + 1.0) / a
    return math.sqrt(2.0 * mu * (a + 1.0)) - a / 2.0


def _compute_dtype(w: Tensor) -> Tensor:
    """Half precisions are computed in float32."""
    if w.dtype in (torch.float32, torch.float64):
        return w
    return w.to(torch.float32)


def soft_threshold(w: Tensor, lam: float, beta: float) -> Tensor:
    """Proximal map of ``(λ/β)‖·‖₁`` (soft thresholding, the paper's ``S_{λ/β}``).

    ``u = sgn(w) max(|w| − λ/β, 0)``, the unique minimizer of
    ``λ Σ|u_i| + (β/2)‖w − u‖²``.

    Parameters
    ----------
    w : Tensor
        Weights, any shape, real floating dtype (detached if it requires grad).
    lam : float
        Penalty weight λ ≥ 0.
    beta : float
        Splitting weight β > 0.

    Returns
    -------
    Tensor
        New tensor of ``w``'s shape, dtype and device; exactly 0 (``+0.0``)
        where ``|w| ≤ λ/β``.

    Examples
    --------
    >>> import torch
    >>> soft_threshold(torch.tensor([-2.0, 0.25, 0.5, 3.0]), lam=1.0, beta=2.0)
    tensor([-1.5000,  0.0000,  0.0000,  2.5000])
    """
    lam, beta, _ = _check_params(lam, beta)
    w = _as_weight(w)
    x = _compute_dtype(w)
    mu = lam / beta
    u = torch.where(x.abs() <= mu, torch.zeros((), dtype=x.dtype, device=x.device),
                    x - torch.copysign(torch.full((), mu, dtype=x.dtype, device=x.device), x))
    return u.to(w.dtype)


def hard_threshold(w: Tensor, lam: float, beta: float) -> Tensor:
    """Proximal map of ``(λ/β)‖·‖₀`` (hard thresholding).

    ``u = w`` where ``|w| > sqrt(2λ/β)``, else 0: a global minimizer of
    ``λ #{i : u_i ≠ 0} + (β/2)‖w − u‖²``. Exactly at ``|w| = sqrt(2λ/β)`` both 0
    and ``w`` minimize; this operator returns **0** there.

    Parameters
    ----------
    w : Tensor
        Weights, any shape, real floating dtype (detached if it requires grad).
    lam : float
        Penalty weight λ ≥ 0.
    beta : float
        Splitting weight β > 0.

    Returns
    -------
    Tensor
        New tensor of ``w``'s shape, dtype and device.

    Examples
    --------
    >>> import torch
    >>> hard_threshold(torch.tensor([-3.0, 1.0, 2.0, 2.5]), lam=2.0, beta=1.0)
    tensor([-3.0000,  0.0000,  0.0000,  2.5000])
    """
    lam, beta, _ = _check_params(lam, beta)
    w = _as_weight(w)
    t = math.sqrt(2.0 * lam / beta)
    return torch.where(w.abs() <= t, torch.zeros((), dtype=w.dtype, device=w.device), w)


def transformed_l1_threshold(w: Tensor, lam: float, beta: float, a: float = 1.0) -> Tensor:
    """Proximal map of ``(λ/β) Σ ρ_a`` with ``ρ_a(x) = (a+1)|x|/(a+|x|)``.

    The closed form of Zhang & Xin: with ``μ = λ/β``, ``u = 0`` where
    ``|w| ≤ t`` and ``u = g(w)`` elsewhere, where ``t = μ(a+1)/a`` if
    ``μ ≤ a²/(2(a+1))`` and ``t = sqrt(2μ(a+1)) − a/2`` otherwise (see
    :func:`threshold_value`), and
    ``g(w) = sgn(w)((2/3)(a+|w|)cos(φ/3) − 2a/3 + |w|/3)``,
    ``φ = arccos(1 − 27μa(a+1)/(2(a+|w|)³))`` (argument clamped to [−1, 1]).
    In the second regime both 0 and ``g(w)`` minimize at ``|w| = t``; the
    operator returns **0** there.

    Parameters
    ----------
    w : Tensor
        Weights, any shape, real floating dtype (detached if it requires grad).
    lam : float
        Penalty weight λ ≥ 0.
    beta : float
        Splitting weight β > 0.
    a : float, default=1.0
        Shape parameter ``a > 0``; small ``a`` behaves like ℓ0, large like ℓ1.

    Returns
    -------
    Tensor
        New tensor of ``w``'s shape, dtype and device.

    Examples
    --------
    >>> import torch
    >>> w = torch.tensor([-2.0, 1.5, 1.6, 3.0], dtype=torch.float64)
    >>> transformed_l1_threshold(w, lam=1.0, beta=1.0, a=1.0)   # t = 1.5
    tensor([-1.7321,  0.0000,  1.1786,  2.8662], dtype=torch.float64)
    """
    lam, beta, a = _check_params(lam, beta, a)
    w = _as_weight(w)
    x = _compute_dtype(w)
    mu = lam / beta
    t = threshold_value("tl1", lam, beta, a)
    ax = x.abs()
    s = a + ax
    # 27μa(a+1)/(2 s³) = (k/s)³ with k = cbrt(27μa(a+1)/2): no overflow of s³ or of
    # the constant, and no inf/inf for huge |w|.
    k = 3.0 * (mu * a * (a + 1.0) / 2.0) ** (1.0 / 3.0)
    phi = torch.acos(torch.clamp(1.0 - (k / s) ** 3, -1.0, 1.0))
    g = (2.0 / 3.0) * s * torch.cos(phi / 3.0) - 2.0 * a / 3.0 + ax / 3.0
    g = torch.clamp(g, min=0.0)  # rounding just above t in the continuous regime
    u = torch.where(ax <= t, torch.zeros((), dtype=x.dtype, device=x.device),
                    torch.copysign(g, x))
    # NaN: ax <= t is False and g is NaN, so NaN propagates.
    return u.to(w.dtype)


def penalty(u: Tensor, kind: str, a: float = 1.0) -> Tensor:
    """Value of the penalty ``P(u)``, summed over all elements.

    Parameters
    ----------
    u : Tensor
        Weights, any shape, real floating dtype.
    kind : {"l1", "l0", "tl1"}
        ``"l1"``: ``Σ|u_i|``; ``"l0"``: the number of nonzero entries;
        ``"tl1"``: ``Σ (a+1)|u_i|/(a+|u_i|)``.
    a : float, default=1.0
        Shape parameter of transformed ℓ1, ``a > 0`` (checked for every kind).

    Returns
    -------
    Tensor
        0-d tensor of ``u``'s (floating) dtype and device.

    Examples
    --------
    >>> import torch
    >>> u = torch.tensor([0.0, -1.0, 3.0])
    >>> penalty(u, "l1")
    tensor(4.)
    >>> penalty(u, "l0")
    tensor(2.)
    >>> penalty(u, "tl1", a=1.0)   # 2·1/2 + 2·3/4
    tensor(2.5000)
    """
    _check_kind(kind)
    _, _, a = _check_params(0.0, 1.0, a)
    u = _as_weight(u)
    au = u.abs()
    if kind == "l1":
        return au.sum()
    if kind == "l0":
        return torch.count_nonzero(u).to(u.dtype)
    # (a+1)·(|u|/(a+|u|)) rather than ((a+1)|u|)/(a+|u|): no overflow for huge |u|.
    return ((a + 1.0) * (au / (a + au))).sum()


#: Thresholding operators by penalty kind. The ``"l1"`` and ``"l0"`` entries are
#: :func:`soft_threshold` and :func:`hard_threshold` (signature ``(w, lam, beta)``),
#: ``"tl1"`` is :func:`transformed_l1_threshold` (``(w, lam, beta, a=1.0)``).
THRESHOLDS: Dict[str, Callable[..., Tensor]] = {
    "l1": soft_threshold,
    "l0": hard_threshold,
    "tl1": transformed_l1_threshold,
}


def threshold(w: Tensor, kind: str, lam: float, beta: float, a: float = 1.0) -> Tensor:
    """RVSM's u-update ``argmin_u λP(u) + (β/2)‖w − u‖²`` for the penalty ``kind``.

    Parameters
    ----------
    w : Tensor
        Weights, any shape, real floating dtype (detached if it requires grad).
    kind : {"l1", "l0", "tl1"}
        The penalty: ℓ1 (soft threshold), ℓ0 (hard threshold) or transformed ℓ1.
    lam : float
        Penalty weight λ ≥ 0.
    beta : float
        Splitting weight β > 0.
    a : float, default=1.0
        Shape parameter of transformed ℓ1, ``a > 0`` (checked for every kind,
        used only by ``"tl1"``).

    Returns
    -------
    Tensor
        New tensor of ``w``'s shape, dtype and device.

    Raises
    ------
    ValueError
        For an unknown ``kind`` or for ``lam < 0``, ``beta <= 0``, ``a <= 0``
        (or a non-finite one).

    Examples
    --------
    >>> import torch
    >>> w = torch.tensor([0.5, 1.5, 2.5])
    >>> threshold(w, "tl1", lam=1.0, beta=1.0)
    tensor([0.0000, 0.0000, 2.3184])
    >>> threshold(w, "l2", 1.0, 1.0)
    Traceback (most recent call last):
        ...
    ValueError: unknown penalty kind 'l2'; valid kinds are 'l1', 'l0', 'tl1'
    """
    _check_kind(kind)
    lam, beta, a = _check_params(lam, beta, a)
    if kind == "tl1":
        return transformed_l1_threshold(w, lam, beta, a)
    return THRESHOLDS[kind](w, lam, beta)

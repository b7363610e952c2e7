"""The random stopping rule of Ghadimi & Lan and its bound (interplay paper, eq. 6).

Randomized stochastic gradients (RSG; Ghadimi & Lan, SIAM J. Optim. 23, 2013) draw
the stopping iteration ``R ∈ {1, …, N}`` *before* training from

    P_R(k) = γ_k (1 − (L/2) γ_k) / Σ_j γ_j (1 − (L/2) γ_j),      k = 1, …, N,

run the mini-batch updates ``W^{k+1} = W^k − γ_k G(η; W^k)`` for ``k = 1, …, R − 1``
and return ``W^R`` (the iterate reached, not the best one). ``W¹`` is the
initialization, so ``R = 1`` returns it unchanged. ``L`` is a Lipschitz constant of
∇f; every weight is positive exactly when every ``γ_k < 2/L``, and a constant step
gives the uniform ``P_R = Unif[1, N]`` used by Theorems III.1 and IV.1.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
from numpy.typing import ArrayLike
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import validate_params

from ._validation import COUNT, NON_NEGATIVE, POSITIVE

__all__ = ["draw_stopping_iteration", "random_stopping_bound", "random_stopping_pmf"]


def _steps(step_sizes, lipschitz: float) -> np.ndarray:
    """Positive finite steps below 2/L, as a float64 vector; else a ValueError."""
    try:
        steps = np.asarray(step_sizes, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"step_sizes must be a 1-D array of floats, got {step_sizes!r}.")
    if steps.ndim != 1 or steps.size == 0:
        raise ValueError(
            f"step_sizes must be a non-empty 1-D array (one step per iteration), "
            f"got shape {steps.shape}."
        )
    if not np.all(np.isfinite(steps)) or np.any(steps <= 0):
        raise ValueError("step_sizes must be positive and finite.")
    limit = 2.0 / lipschitz
    bad = np.flatnonzero(steps >= limit)
    if bad.size:
        k = int(bad[0])
        raise ValueError(
            f"step_sizes must all be < 2/lipschitz = {limit:.6g}, where the weight "
            f"γ_k (1 − (L/2) γ_k) of P_R is positive; step_sizes[{k}] = {steps[k]!r}."
        )
    return steps


@validate_params(
    {"step_sizes": ["array-like"], "lipschitz": POSITIVE},
    prefer_skip_nested_validation=True,
)
def random_stopping_pmf(step_sizes: ArrayLike, lipschitz: float) -> np.ndarray:
    """The stopping distribution ``P_R`` of random-stopping SGD (eq. 6, Ghadimi & Lan).

    ``P_R(k) ∝ γ_k (1 − (L/2) γ_k)`` for ``k = 1, …, N``: the probability that the
    ``k``-th iterate ``W^k`` is the one returned (``W¹`` is the initialization). It
    is the distribution of Corollary III.2 (``p_R^k = γ^k (1 − (13/16) γ^k)``, i.e.
    ``L = 13/8``) and, for a constant step, the uniform ``Unif[1, N]`` of Theorems
    III.1 and IV.1, returned exactly as ``1/N`` each.

    Parameters
    ----------
    step_sizes : array-like of shape (n_iter,)
        The steps ``γ_1, …, γ_N`` (weight² per loss unit: the update is
        ``W ← W − γ_k G``). Entry ``k − 1`` is the step taken from ``W^k``.
    lipschitz : float
        A Lipschitz constant ``L`` of ∇f (loss per weight²), e.g.
        :data:`SINGLE_LAYER_LIPSCHITZ` ``= 13/8`` for the single-layer network.

    Returns
    -------
    ndarray of shape (n_iter,)
        ``P_R(k)`` at index ``k − 1``; positive, sums to 1.

    Raises
    ------
    ValueError
        If ``step_sizes`` is not a non-empty 1-D array of positive finite steps all
        below ``2 / lipschitz`` (where a weight would be zero or negative), or
        ``lipschitz`` is not positive.

    Examples
    --------
    >>> random_stopping_pmf([0.1, 0.1, 0.1, 0.1], lipschitz=13 / 8)
    array([0.25, 0.25, 0.25, 0.25])
    >>> p = random_stopping_pmf([1.0, 1 / 2, 1 / 3], lipschitz=13 / 8)
    >>> p.round(4)  # weights 3/16, 19/64 and 35/144, normalized
    array([0.2578, 0.4081, 0.3341])
    """
    steps = _steps(step_sizes, lipschitz)
    if np.all(steps == steps[0]):
        return np.full(steps.size, 1.0 / steps.size)
    weights = steps * (1.0 - 0.5 * lipschitz * steps)
    return weights / weights.sum()


def _pmf(pmf) -> np.ndarray:
    try:
        p = np.asarray(pmf, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"pmf must be a 1-D array of probabilities, got {pmf!r}.")
    if p.ndim != 1 or p.size == 0:
        raise ValueError(f"pmf must be a non-empty 1-D array, got shape {p.shape}.")
    if not np.all(np.isfinite(p)) or np.any(p < 0):
        raise ValueError("pmf must be non-negative and finite.")
    total = p.sum()
    if abs(total - 1.0) > 1e-8:
        raise ValueError(f"pmf must sum to 1, got a sum of {total!r}.")
    return p


def draw_stopping_iteration(
    pmf: ArrayLike,
    random_state: int | np.random.RandomState | np.random.Generator | None = None,
    *,
    size: int | None = None,
) -> int | np.ndarray:
    """Draw the stopping iteration ``R ~ P_R`` before training.

    Inverse-CDF sampling from one uniform per draw, so the same ``random_state``
    (an int, a fresh ``numpy.random.Generator`` with the same seed, or a
    ``RandomState`` in the same state) always gives the same ``R``.

    Parameters
    ----------
    pmf : array-like of shape (n_iter,)
        ``P_R(k)`` at index ``k − 1``, e.g. from :func:`random_stopping_pmf`;
        non-negative, summing to 1 (within 1e-8).
    random_state : int, RandomState instance, numpy.random.Generator or None
        Source of randomness; ints and ``None`` go through
        :func:`sklearn.utils.check_random_state`.
    size : int, default=None
        Number of independent draws (e.g. one per run of Corollary III.3); ``None``
        for a single ``int``.

    Returns
    -------
    int or ndarray of shape (size,)
        ``R ∈ {1, …, n_iter}`` (1-based, as in the paper): return ``W^R`` after
        ``R − 1`` updates. Iterations with ``P_R(k) = 0`` are never drawn.

    Raises
    ------
    ValueError
        If ``pmf`` is not a probability vector, ``size`` is not a positive int, or
        ``random_state`` cannot seed a generator.

    Examples
    --------
    >>> pmf = random_stopping_pmf([0.05] * 1000, lipschitz=13 / 8)
    >>> draw_stopping_iteration(pmf, random_state=0) == draw_stopping_iteration(pmf, 0)
    True
    >>> import numpy as np
    >>> r = draw_stopping_iteration(pmf, np.random.default_rng(1), size=5)
    >>> r.shape, bool(r.min() >= 1 and r.max() <= 1000)
    ((5,), True)
    >>> draw_stopping_iteration([0.0, 0.0, 1.0], random_state=3)
    3
    """
    p = _pmf(pmf)
    if size is not None and (
        isinstance(size, bool) or not isinstance(size, Integral) or size < 1
    ):
        raise ValueError(f"size must be None or an int >= 1, got {size!r}.")
    if isinstance(random_state, np.random.Generator):
        u = random_state.random(size)
    else:
        u = check_random_state(random_state).random_sample(size)
    cdf = np.cumsum(p)
    cdf /= cdf[-1]
    r = np.minimum(np.searchsorted(cdf, u, side="right"), p.size - 1) + 1
    return int(r) if size is None else r.astype(np.int64)


@validate_params(
    {
        "step_sizes": ["array-like"],
        "initial_gap": NON_NEGATIVE,
        "batch_size": COUNT,
        "variance": NON_NEGATIVE,
        "lipschitz": POSITIVE,
    },
    prefer_skip_nested_validation=True,
)
def random_stopping_bound(
    step_sizes: ArrayLike,
    *,
    initial_gap: float,
    batch_size: int,
    variance: float,
    lipschitz: float,
) -> float:
    """Ghadimi & Lan's bound for any step sequence, the form (7) and (8) come from.

    With ``R ~`` :func:`random_stopping_pmf` ``(γ, L)`` and mini-batches of ``B``:

        E_{R,η} ‖∇f(W^R)‖² ≤ (D_f + (e/B) Σ_k γ_k²) / Σ_k γ_k (1 − (L/2) γ_k),

    where ``e = L σ²/2`` is the variance constant (``σ²`` bounds the variance of one
    sample's gradient). With ``e = e^s`` and ``L = 13/8`` a constant step gives
    exactly the bound (7) of Theorem III.1; ``γ_k = γ/k^ρ`` with ``γ ≤ 1`` gives a
    value no larger than the bound (8) of Corollary III.2, which lower-bounds the
    denominator by ``(3/16) γ H_N(ρ)``. This is the paper's proof step (derived from
    Ghadimi & Lan, Theorem 2.1, with ``σ² → σ²/B``), not one of its numbered results.

    Parameters
    ----------
    step_sizes : array-like of shape (n_iter,)
        ``γ_1, …, γ_N``, each below ``2 / lipschitz``.
    initial_gap : float
        ``D_f = f(W¹) − f*`` (loss units; the loss is ``E‖y − ŷ‖²``, no ½).
    batch_size : int
        ``B``, samples per mini-batch.
    variance : float
        ``e``, the constant such that ``e γ / B`` is the variance part of the
        bound (same units as the bound for ``γ = B = 1``), e.g.
        :func:`single_layer_variance` for the single-layer network.
    lipschitz : float
        ``L``, a Lipschitz constant of ∇f.

    Returns
    -------
    float
        The bound on ``E_{R,η}‖∇f(W^R)‖²`` (squared gradient norm, summed over all
        weights).

    Raises
    ------
    ValueError
        On invalid arguments, including a step ``≥ 2 / lipschitz``.

    Examples
    --------
    >>> random_stopping_bound([0.1] * 100, initial_gap=5.0, batch_size=50,
    ...                       variance=25.0, lipschitz=13 / 8)  # (5 + 0.5) / 9.1875
    0.598639...
    """
    steps = _steps(step_sizes, lipschitz)
    numerator = initial_gap + variance / batch_size * float(np.sum(steps * steps))
    denominator = float(np.sum(steps * (1.0 - 0.5 * lipschitz * steps)))
    return numerator / denominator


def _minimizing_step(p: float, q: float, r: float, lipschitz: float) -> float:
    """The γ in (0, 2/L) minimizing ``(p/γ + q γ + r) / (1 − (L/2) γ)``, p > 0.

    Setting the derivative to zero gives ``(q + L r/2) γ² + L p γ − p = 0``, whose
    positive root, written without cancellation, is
    ``2p / (L p + sqrt(L² p² + 4 p (q + L r/2)))``; it is at most ``1/L``.
    """
    c = q + 0.5 * lipschitz * r
    lp = lipschitz * p
    return 2.0 * p / (lp + np.sqrt(lp * lp + 4.0 * p * c))

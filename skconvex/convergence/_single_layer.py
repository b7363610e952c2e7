"""Single-layer networks: Theorem III.1, Corollaries III.2 and III.3 (eqs. 7–9).

The network is ``ŷ = σ(W x)`` with the sigmoid σ, ``x ∈ [0, 1]^{d_x}``,
``y ∈ [0, 1]^{d_y}`` and the loss ``f(W) = E‖y − σ(W x)‖²`` (eq. 3: summed over the
``d_y`` outputs, averaged over samples, no ½), trained by random-stopping mini-batch
SGD (batch ``B``, ``N`` iterations at most). The paper's constants are

    e^s = 13 d_x d_y / 256     and     e_γ^s = 1 − (13/16) γ,

the second being ``1 − (L/2) γ`` with the Lipschitz constant ``L = 13/8``
(:data:`SINGLE_LAYER_LIPSCHITZ`), so steps must stay below ``2/L = 16/13``.
"""

from __future__ import annotations

import math

import numpy as np
from sklearn.utils._param_validation import validate_params

from ._stopping import _minimizing_step
from ._validation import COUNT, KEEP, NON_NEGATIVE, OPEN_UNIT, POSITIVE, step_below

__all__ = [
    "SINGLE_LAYER_LIPSCHITZ",
    "decaying_step_bound",
    "generalized_harmonic_number",
    "iterations_for_solution",
    "single_layer_bound",
    "single_layer_optimal_step",
    "single_layer_step_factor",
    "single_layer_variance",
]

#: Lipschitz constant of ∇f for the single-layer network implied by Theorem III.1's
#: ``e_γ^s = 1 − (13/16) γ = 1 − (L/2) γ`` (and Corollary III.2's ``p_R^k``).
SINGLE_LAYER_LIPSCHITZ = 13 / 8


def _e_s(n_features: int, n_outputs: int) -> float:
    return 13.0 * n_features * n_outputs / 256.0


def _check_step(learning_rate: float) -> None:
    step_below(
        learning_rate, 16 / 13, "learning_rate",
        "2/L with L = 13/8, where e_γ^s = 1 − 13γ/16 > 0",
    )


@validate_params({"n_features": COUNT, "n_outputs": COUNT}, prefer_skip_nested_validation=True)
def single_layer_variance(n_features: int, n_outputs: int) -> float:
    """``e^s = 13 d_x d_y / 256``, the variance constant of Theorem III.1 (eq. 7).

    It multiplies ``γ/B`` in (7): the network's degrees of freedom (``d_x d_y``
    weights) times a bound on the sigmoid's derivatives.

    Parameters
    ----------
    n_features : int
        ``d_x``, the input length (count the constant 1 if the bias is folded in,
        as the paper does).
    n_outputs : int
        ``d_y``, the output length.

    Returns
    -------
    float

    Examples
    --------
    >>> single_layer_variance(100, 5)  # 13 * 500 / 256
    25.390625
    """
    return _e_s(n_features, n_outputs)


@validate_params({"learning_rate": POSITIVE}, prefer_skip_nested_validation=True)
def single_layer_step_factor(learning_rate: float) -> float:
    """``e_γ^s = 1 − (13/16) γ`` of Theorem III.1 (eq. 7).

    Parameters
    ----------
    learning_rate : float
        The constant step ``γ`` (the update is ``W ← W − γ G``), ``0 < γ < 16/13``.

    Returns
    -------
    float
        In ``(0, 1)``; the bound (7) is divided by it, so it grows with ``γ``.

    Raises
    ------
    ValueError
        If ``learning_rate`` is not in ``(0, 16/13)``.

    Examples
    --------
    >>> single_layer_step_factor(0.16)  # 1 - 0.13
    0.87
    """
    _check_step(learning_rate)
    return 1.0 - 13.0 / 16.0 * learning_rate


@validate_params(
    {
        "initial_gap": NON_NEGATIVE,
        "n_iter": COUNT,
        "batch_size": COUNT,
        "learning_rate": POSITIVE,
        "n_features": COUNT,
        "n_outputs": COUNT,
    },
    prefer_skip_nested_validation=True,
)
def single_layer_bound(
    *,
    initial_gap: float,
    n_iter: int,
    batch_size: int,
    learning_rate: float,
    n_features: int,
    n_outputs: int,
) -> float:
    """Theorem III.1, eq. 7: the expected squared gradient of a single-layer RSG.

    With a constant step ``γ`` and ``R ~ Unif[1, N]``:

        E_{R,η} ‖∇_W f(W^R)‖² ≤ (1/e_γ^s) (D_f/(N γ) + e^s γ / B).

    The first term is the goodness of fit (``D_f``), the second the variance of
    mini-batch gradients (``e^s``, the network size) which only a larger batch
    reduces.

    Parameters
    ----------
    initial_gap : float
        ``D_f = f(W¹) − f*`` ≥ 0, in loss units (the squared error summed over the
        outputs, averaged over samples). ``f(W¹)`` is an upper bound (``f* ≥ 0``).
    n_iter : int
        ``N``, the maximum number of iterations (SGD updates, not epochs).
    batch_size : int
        ``B``, samples per mini-batch.
    learning_rate : float
        ``γ``, in ``(0, 16/13)``.
    n_features, n_outputs : int
        ``d_x`` and ``d_y``.

    Returns
    -------
    float
        The bound on ``E‖∇_W f(W^R)‖²`` (squared Frobenius norm of the gradient over
        all ``d_x d_y`` weights).

    Raises
    ------
    ValueError
        If an argument is out of range, including ``γ ≥ 16/13``.

    Examples
    --------
    >>> single_layer_bound(initial_gap=5.0, n_iter=1000, batch_size=50,
    ...                    learning_rate=0.1, n_features=100, n_outputs=5)
    0.10969...
    """
    _check_step(learning_rate)
    e_s = _e_s(n_features, n_outputs)
    e_gamma = 1.0 - 13.0 / 16.0 * learning_rate
    return (initial_gap / (n_iter * learning_rate) + e_s * learning_rate / batch_size) / e_gamma


@validate_params(
    {
        "initial_loss": POSITIVE,
        "n_iter": COUNT,
        "batch_size": COUNT,
        "n_features": COUNT,
        "n_outputs": COUNT,
        "exact": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def single_layer_optimal_step(
    *,
    initial_loss: float,
    n_iter: int,
    batch_size: int,
    n_features: int,
    n_outputs: int,
    exact: bool = False,
) -> float:
    """Theorem III.1's optimal constant step ``γ_o = sqrt(B f(W¹) / (e^s N))``.

    ``γ_o`` balances the two terms of (7), ``f(W¹)/(Nγ) = e^s γ/B`` (the paper uses
    ``f(W¹) ≥ D_f`` since ``f* ≥ 0``); at it both terms equal
    ``sqrt(f(W¹) e^s / (N B))``, so the bound decays as ``O(1/√N)`` and grows as
    ``O(sqrt(d_x d_y))``. It ignores the factor ``1/e_γ^s``: for small ``N`` it can
    exceed the stability limit ``16/13``. ``exact=True`` instead returns the
    minimizer of (7) over ``γ`` (a derived closed form, always ``≤ 8/13``), which
    tends to ``γ_o`` as ``N → ∞``.

    Parameters
    ----------
    initial_loss : float
        ``f(W¹) > 0`` (or ``D_f`` if ``f*`` is known), loss units. For sigmoid
        outputs and targets in ``[0, 1]``, ``f(W¹) ≤ d_y``.
    n_iter : int
        ``N``.
    batch_size : int
        ``B``.
    n_features, n_outputs : int
        ``d_x`` and ``d_y``.
    exact : bool, default=False
        Return the exact minimizer of (7) instead of the paper's ``γ_o``.

    Returns
    -------
    float
        The step ``γ``.

    Examples
    --------
    >>> single_layer_optimal_step(initial_loss=5.0, n_iter=7842, batch_size=50,
    ...                           n_features=100, n_outputs=5)
    0.03543...
    >>> single_layer_optimal_step(initial_loss=5.0, n_iter=7842, batch_size=50,
    ...                           n_features=100, n_outputs=5, exact=True)
    0.03443...
    """
    e_s = _e_s(n_features, n_outputs)
    if exact:
        return float(
            _minimizing_step(initial_loss / n_iter, e_s / batch_size, 0.0, SINGLE_LAYER_LIPSCHITZ)
        )
    return math.sqrt(batch_size * initial_loss / (e_s * n_iter))


_DIRECT = 10_000  # H_N is summed directly up to this N, then by Euler–Maclaurin


def _harmonic(n: int, order: float) -> float:
    if order == 0:
        return float(n)
    m = min(n, _DIRECT)
    head = math.fsum((np.arange(1, m + 1, dtype=np.float64) ** -order).tolist())
    if n <= _DIRECT:
        return head
    # Σ_{i=m+1}^{n} i^-θ by Euler–Maclaurin on [m, n] minus the m-th term; the next
    # correction, B_6/6! f^(5), is below θ^5 m^(-θ-5) / 30240 ≈ 1e-25 relative.
    s = order
    log_ratio = math.log(n / m)
    if s == 1:
        integral = log_ratio
    else:
        integral = m ** (1 - s) * math.expm1((1 - s) * log_ratio) / (1 - s)

    def d1(x: float) -> float:
        return -s * x ** (-s - 1)

    def d3(x: float) -> float:
        return -s * (s + 1) * (s + 2) * x ** (-s - 3)

    tail = (
        integral
        + (n ** -s - m ** -s) / 2
        + (d1(n) - d1(m)) / 12
        - (d3(n) - d3(m)) / 720
    )
    return head + tail


@validate_params(
    {"n": COUNT, "order": NON_NEGATIVE},
    prefer_skip_nested_validation=True,
)
def generalized_harmonic_number(n: int, order: float) -> float:
    """``H_N(θ) = Σ_{i=1}^{N} 1/i^θ``, the generalized harmonic number of Corollary III.2.

    Summed exactly (``math.fsum``) up to ``N = 10⁴`` and by Euler–Maclaurin beyond
    (relative error below 1e-15). ``H_N(0) = N``; ``H_N(1)`` is the harmonic number.

    Parameters
    ----------
    n : int
        ``N ≥ 1``.
    order : float
        ``θ ≥ 0`` (the decay ``ρ`` or ``2ρ`` in (8)).

    Returns
    -------
    float

    Examples
    --------
    >>> generalized_harmonic_number(4, 1.0)  # 1 + 1/2 + 1/3 + 1/4
    2.083333...
    >>> generalized_harmonic_number(10, 0.0)
    10.0
    """
    return _harmonic(int(n), float(order))


@validate_params(
    {
        "initial_gap": NON_NEGATIVE,
        "n_iter": COUNT,
        "batch_size": COUNT,
        "learning_rate": KEEP,
        "decay": NON_NEGATIVE,
        "n_features": COUNT,
        "n_outputs": COUNT,
    },
    prefer_skip_nested_validation=True,
)
def decaying_step_bound(
    *,
    initial_gap: float,
    n_iter: int,
    batch_size: int,
    learning_rate: float,
    decay: float,
    n_features: int,
    n_outputs: int,
) -> float:
    """Corollary III.2, eq. 8: the single-layer bound with steps ``γ_k = γ / k^ρ``.

    With ``p_R^k = γ_k (1 − (13/16) γ_k)`` (:func:`random_stopping_pmf` with
    ``L = 13/8``):

        E_{R,η} ‖∇_W f(W^R)‖² ≤ (16 / (3 H_N(ρ))) (D_f/γ + e^s γ H_N(2ρ) / B).

    The factor 16/3 comes from ``1 − (13/16) γ_k ≥ 3/16``, which needs ``γ ≤ 1``
    (the paper's remark assumes ``γ < 1``). As ``ρ → 0``, ``H_N(ρ) → N`` and (8)
    tends to ``(16/3) e_γ^s`` times the bound (7) of the constant step ``γ``: at
    least as large as (7), as the paper remarks. :func:`random_stopping_bound` gives
    the bound before that lower estimate of the denominator.

    Parameters
    ----------
    initial_gap : float
        ``D_f`` ≥ 0, loss units.
    n_iter : int
        ``N``.
    batch_size : int
        ``B``.
    learning_rate : float
        ``γ``, the first step, in ``(0, 1]``.
    decay : float
        ``ρ ≥ 0`` (the paper takes ``ρ > 0``; ``ρ = 0`` is the constant step).
    n_features, n_outputs : int
        ``d_x`` and ``d_y``.

    Returns
    -------
    float
        The bound on ``E‖∇_W f(W^R)‖²``.

    Raises
    ------
    ValueError
        If an argument is out of range (``γ > 1`` included).

    Examples
    --------
    >>> decaying_step_bound(initial_gap=5.0, n_iter=1000, batch_size=50,
    ...                     learning_rate=0.5, decay=0.5, n_features=100, n_outputs=5)
    1.0270...
    """
    h1 = _harmonic(n_iter, float(decay))
    h2 = _harmonic(n_iter, 2.0 * float(decay))
    e_s = _e_s(n_features, n_outputs)
    return 16.0 / (3.0 * h1) * (
        initial_gap / learning_rate + e_s * learning_rate * h2 / batch_size
    )


@validate_params(
    {
        "epsilon": POSITIVE,
        "delta": OPEN_UNIT,
        "n_runs": COUNT,
        "batch_size": COUNT,
        "n_features": COUNT,
        "n_outputs": COUNT,
        "initial_loss": POSITIVE,
    },
    prefer_skip_nested_validation=True,
)
def iterations_for_solution(
    *,
    epsilon: float,
    delta: float,
    n_runs: int,
    batch_size: int,
    n_features: int,
    n_outputs: int,
    initial_loss: float,
) -> float:
    """Corollary III.3, eq. 9: iterations ``N(ε, δ)`` for an ``(ε, δ)``-solution.

    Over ``T`` independent runs of single-layer RSG with the optimal constant step
    ``γ_o`` and ``R ~ Unif[1, N]``, the best iterate satisfies
    ``Pr(min_t ‖∇f(W^{R_t})‖² ≤ ε) ≥ 1 − δ`` (Definition 1) once

        N ≥ (4 f(W¹) e^s / (B δ^{2/T} ε²)) (1 + δ̄)²,   δ̄ = 13 B ε δ^{1/T} / (32 e^s).

    (Markov's inequality on each run and independence across runs: the bound (7)
    at ``γ_o`` must be at most ``ε δ^{1/T}``.) The paper's example: ``d_x = 100``,
    ``d_y = 5``, ``f(W¹) ≈ 5``, ``ε = δ = 0.05``, ``T = 10``, ``B = 50`` gives
    ``N > 7.8·10³``; with ``C`` epochs over ``S`` samples, ``S C ≈ B N``.

    Parameters
    ----------
    epsilon : float
        ``ε > 0``, the target squared gradient norm (units of ``‖∇f‖²``).
    delta : float
        ``δ ∈ (0, 1)``, the allowed failure probability.
    n_runs : int
        ``T ≥ 1``, independent runs (the paper takes ``T > 1``).
    batch_size : int
        ``B``.
    n_features, n_outputs : int
        ``d_x`` and ``d_y``.
    initial_loss : float
        ``f(W¹) > 0``, loss units (``≤ d_y`` for outputs and targets in ``[0, 1]``).

    Returns
    -------
    float
        The right-hand side of (9); the iteration count is its ceiling.

    Examples
    --------
    >>> iterations_for_solution(epsilon=0.05, delta=0.05, n_runs=10, batch_size=50,
    ...                         n_features=100, n_outputs=5, initial_loss=5.0)
    7841.05...
    """
    e_s = _e_s(n_features, n_outputs)
    root = delta ** (1.0 / n_runs)
    delta_bar = 13.0 * batch_size * epsilon * root / (32.0 * e_s)
    return (
        4.0 * initial_loss * e_s / (batch_size * root * root * epsilon**2) * (1.0 + delta_bar) ** 2
    )

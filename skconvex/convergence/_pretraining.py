"""Unsupervised pretraining by a box-constrained denoising autoencoder: Theorem IV.1.

The DA of eq. 4 reconstructs ``x ∈ [0, 1]^{d_x}`` from a corrupted copy
``x̃ = x * z``, ``z_i ~ Bernoulli(ζ)`` (so ``ζ`` is the probability of *keeping* an
input; ``1 − ζ`` is the corruption level), through ``σ(Wᵀ σ(W x̃))`` with tied
weights ``W ∈ [−w_m, w_m]^{d_h × d_x}``. Its bound (eq. 11) involves the data only
through ``μ_x`` and ``τ_x`` (:func:`data_moments`).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike
from sklearn.utils import check_array
from sklearn.utils._param_validation import validate_params

from ._stopping import _minimizing_step
from ._validation import COUNT, KEEP, NON_NEGATIVE, POSITIVE, UNIT_CLOSED, moments, step_below

__all__ = [
    "DataMoments",
    "data_moments",
    "denoising_bound",
    "denoising_optimal_step",
    "denoising_variance",
]


class DataMoments(NamedTuple):
    """``(μ_x, τ_x)``: the average first moment and average squared first moment.

    Examples
    --------
    >>> from skconvex.convergence import DataMoments, data_moments
    >>> moments = data_moments([[0.0, 1.0], [1.0, 1.0]])
    >>> moments
    DataMoments(mu_x=0.75, tau_x=0.625)
    >>> isinstance(moments, DataMoments), moments.mu_x, moments.tau_x
    (True, 0.75, 0.625)
    """

    mu_x: float
    tau_x: float


@validate_params(
    {"X": ["array-like", "sparse matrix"], "scale": ["boolean"]},
    prefer_skip_nested_validation=True,
)
def data_moments(X: ArrayLike, *, scale: bool = False) -> DataMoments:
    """The paper's data statistics ``μ_x`` and ``τ_x`` (Section II-A).

    ``μ_x = (1/d_x) Σ_j E x_j`` and ``τ_x = (1/d_x) Σ_j (E x_j)²``: the average of
    the per-feature means and of their squares (the paper's "average squared first
    moment", ``E² x_j = (E x_j)²``, *not* the second moment ``E x_j²``). The
    expectations are sample means over the rows of ``X``. For inputs in ``[0, 1]``
    both lie in ``[0, 1]`` and ``μ_x² ≤ τ_x ≤ μ_x``.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Inputs, which the paper assumes in ``[0, 1]``.
    scale : bool, default=False
        Min–max scale each feature to ``[0, 1]`` first (as
        :class:`sklearn.preprocessing.MinMaxScaler`; constant features become 0).
        Otherwise ``X`` must already lie in ``[0, 1]`` (e.g. pixels divided by 255),
        and is used as is: the moments then describe the inputs the network sees.

    Returns
    -------
    DataMoments
        ``(mu_x, tau_x)``, floats.

    Raises
    ------
    ValueError
        If ``X`` is not a finite 2-D array, or (``scale=False``) has entries outside
        ``[0, 1]``.

    Examples
    --------
    >>> data_moments([[0.0, 1.0], [1.0, 1.0]])  # feature means 0.5 and 1
    DataMoments(mu_x=0.75, tau_x=0.625)
    >>> data_moments([[0.0, 10.0], [4.0, 30.0]], scale=True)
    DataMoments(mu_x=0.5, tau_x=0.25)
    """
    X = check_array(X, accept_sparse=("csr", "csc"), dtype=np.float64, input_name="X")
    if sp.issparse(X):
        means = np.asarray(X.mean(axis=0)).ravel()
        lows = X.min(axis=0).toarray().ravel()
        highs = X.max(axis=0).toarray().ravel()
    else:
        means, lows, highs = X.mean(axis=0), X.min(axis=0), X.max(axis=0)
    if scale:
        spread = highs - lows
        means = np.where(spread > 0, (means - lows) / np.where(spread > 0, spread, 1.0), 0.0)
        means = np.clip(means, 0.0, 1.0)
    elif lows.min() < 0 or highs.max() > 1:
        raise ValueError(
            "X must lie in [0, 1] (the paper's assumption); got values in "
            f"[{lows.min():.6g}, {highs.max():.6g}]. Scale it first, e.g. with "
            "sklearn.preprocessing.MinMaxScaler, or pass scale=True."
        )
    return DataMoments(float(means.mean()), float(np.mean(means * means)))


def _e_da(n_visible, n_hidden, denoising_rate, box_bound, mu_x, tau_x) -> float:
    zeta = denoising_rate
    scaled = zeta * n_visible * box_bound
    quadratic = (5.0 * zeta / 16.0 - zeta * zeta / 4.0) * scaled**2 * tau_x
    bracket = 1.0 + scaled / 4.0 * mu_x + quadratic
    return n_visible * n_hidden / 16.0 * bracket


_DA_PARAMS = {
    "n_visible": COUNT,
    "n_hidden": COUNT,
    "denoising_rate": KEEP,
    "box_bound": POSITIVE,
    "mu_x": UNIT_CLOSED,
    "tau_x": UNIT_CLOSED,
}

_DA_DOC = """n_visible : int
        ``d_x``, the DA's input length (count the constant 1 if the bias is folded in).
    n_hidden : int
        ``d_h``, the hidden length.
    denoising_rate : float
        ``ζ ∈ (0, 1]``, the probability of *keeping* each input (``1 − ζ`` is the
        corruption level; ``ζ = 1`` is a plain autoencoder).
    box_bound : float
        ``w_m > 0``, the box ``[−w_m, w_m]`` on every weight (weight units).
    mu_x, tau_x : float
        The data moments of :func:`data_moments`, with ``μ_x² ≤ τ_x ≤ μ_x``."""


@validate_params(_DA_PARAMS, prefer_skip_nested_validation=True)
def denoising_variance(
    n_visible: int,
    n_hidden: int,
    *,
    denoising_rate: float,
    box_bound: float,
    mu_x: float,
    tau_x: float,
) -> float:
    """Theorem IV.1, eq. 10: the variance constant ``e^da`` of DA pretraining.

        e^da = (d_x d_h / 16) [1 + (ζ d_x w_m / 4) μ_x
                               + (5ζ/16 − ζ²/4) (ζ d_x w_m)² τ_x].

    It grows with the network (``d_x d_h``), the box ``w_m``, the data moments and
    the keep probability ``ζ``; as ``ζ → 0`` (heavy corruption) or for
    ``μ_x = τ_x = 0`` it tends to ``d_x d_h / 16``, the data no longer mattering.

    Parameters
    ----------
    {da}

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If an argument is out of range or the moments are inconsistent.

    Examples
    --------
    >>> denoising_variance(100, 50, denoising_rate=0.5, box_bound=0.1,
    ...                    mu_x=0.5, tau_x=0.3)  # 312.5 * (1 + 0.625 + 0.703125)
    727.5390625
    """
    moments(mu_x, tau_x)
    return _e_da(n_visible, n_hidden, denoising_rate, box_bound, mu_x, tau_x)


@validate_params(
    {
        "initial_gap": NON_NEGATIVE,
        "n_iter": COUNT,
        "batch_size": COUNT,
        "learning_rate": POSITIVE,
        "lipschitz": POSITIVE,
        **_DA_PARAMS,
    },
    prefer_skip_nested_validation=True,
)
def denoising_bound(
    *,
    initial_gap: float,
    n_iter: int,
    batch_size: int,
    learning_rate: float,
    lipschitz: float,
    n_visible: int,
    n_hidden: int,
    denoising_rate: float,
    box_bound: float,
    mu_x: float,
    tau_x: float,
) -> float:
    """Theorem IV.1, eq. 11: expected projected gradients of DA pretraining.

    With a constant step ``γ < 2/U_da``, ``e_γ^da = 1 − (U_da/2) γ`` and
    ``R ~ Unif[1, N]``:

        E ‖∇_W f̃(W^R)‖² ≤ D_f / (N γ e_γ^da) + (e^da / B) (1 + 1/e_γ^da),

    ``∇f̃`` being the gradient projected on the box ``[−w_m, w_m]``. Unlike (7), the
    variance term does not vanish with ``γ``: as ``N → ∞`` the bound tends to at
    least ``2 e^da / B``, which only the batch size lowers.

    Parameters
    ----------
    initial_gap : float
        ``D_f`` ≥ 0 of the DA loss (eq. 4: squared reconstruction error summed over
        the ``d_x`` inputs; ``≤ d_x`` for inputs in ``[0, 1]``).
    n_iter : int
        ``N``.
    batch_size : int
        ``B``.
    learning_rate : float
        ``γ``, below ``2 / lipschitz``.
    lipschitz : float
        ``U_da``, a Lipschitz constant of the DA's ∇f. The paper gives no value:
        the caller supplies it (e.g. estimated from Hessian–vector products).
    {da}

    Returns
    -------
    float
        The bound on the expected squared norm of the projected gradient.

    Raises
    ------
    ValueError
        If an argument is out of range, including ``γ ≥ 2 / lipschitz``.

    Examples
    --------
    >>> denoising_bound(initial_gap=100.0, n_iter=10_000, batch_size=100,
    ...                 learning_rate=0.01, lipschitz=10.0, n_visible=100, n_hidden=50,
    ...                 denoising_rate=0.5, box_bound=0.1, mu_x=0.5, tau_x=0.3)
    15.9863...
    """
    moments(mu_x, tau_x)
    step_below(learning_rate, 2.0 / lipschitz, "learning_rate", "2/lipschitz, where e_γ^da > 0")
    e_da = _e_da(n_visible, n_hidden, denoising_rate, box_bound, mu_x, tau_x)
    e_gamma = 1.0 - 0.5 * lipschitz * learning_rate
    return initial_gap / (n_iter * learning_rate * e_gamma) + e_da / batch_size * (
        1.0 + 1.0 / e_gamma
    )


@validate_params(
    {
        "initial_gap": POSITIVE,
        "n_iter": COUNT,
        "batch_size": COUNT,
        "lipschitz": POSITIVE,
        **_DA_PARAMS,
        "exact": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def denoising_optimal_step(
    *,
    initial_gap: float,
    n_iter: int,
    batch_size: int,
    lipschitz: float,
    n_visible: int,
    n_hidden: int,
    denoising_rate: float,
    box_bound: float,
    mu_x: float,
    tau_x: float,
    exact: bool = False,
) -> float:
    """Theorem IV.1's step ``γ_o ≈ sqrt(2 B D_f / (U_da e^da N))``.

    The paper's ``γ_o`` is the large-``N`` approximation of the minimizer of (11).
    ``exact=True`` returns the minimizer itself (a derived closed form:
    ``1/γ = U/2 + sqrt(U²/4 + U e^da N / (2 B D_f))``), which is at most
    ``1/U_da`` and tends to ``γ_o`` as ``N → ∞``; the approximation can exceed the
    stability limit ``2/U_da`` when ``N`` is small.

    Parameters
    ----------
    initial_gap : float
        ``D_f > 0`` of the DA loss.
    n_iter : int
        ``N``.
    batch_size : int
        ``B``.
    lipschitz : float
        ``U_da``.
    {da}
    exact : bool, default=False
        Return the exact minimizer of (11).

    Returns
    -------
    float

    Examples
    --------
    >>> kw = dict(initial_gap=100.0, n_iter=10_000, batch_size=100, lipschitz=10.0,
    ...           n_visible=100, n_hidden=50, denoising_rate=0.5, box_bound=0.1,
    ...           mu_x=0.5, tau_x=0.3)
    >>> denoising_optimal_step(**kw), denoising_optimal_step(**kw, exact=True)
    (0.01658..., 0.01526...)
    """
    moments(mu_x, tau_x)
    e_da = _e_da(n_visible, n_hidden, denoising_rate, box_bound, mu_x, tau_x)
    if exact:
        return float(
            _minimizing_step(initial_gap / n_iter, 0.0, e_da / batch_size, lipschitz)
        )
    return math.sqrt(2.0 * batch_size * initial_gap / (lipschitz * e_da * n_iter))


for _f in (denoising_variance, denoising_bound, denoising_optimal_step):
    _f.__doc__ = _f.__wrapped__.__doc__ = _f.__doc__.replace("{da}", _DA_DOC)
del _f

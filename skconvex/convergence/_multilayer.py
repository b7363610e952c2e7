"""Multi-layer networks: Corollary V.1 (layer-wise pretraining) and VI.1 (dropout).

An ``L``-layer sigmoid network with lengths ``d_0 = d_x, d_1, …, d_L = d_y`` (eq. 5),
whose ``L − 1`` hidden layers were pretrained as box-constrained DAs to an
``(α, δ_α)``-solution (Definition 1: squared projected gradient ``≤ α`` with
probability ``≥ 1 − δ_α``), then tuned by random-stopping SGD with a constant step
``γ_l`` per layer. With ``w_m^l`` the box bound of hidden layer ``l``:

    e_l^m = (γ_l / 4) d_{l−1} d_l d_{l+1} w_m^l        for l = 1, …, L − 1,
    e_L^m = 13 d_{L−1} d_L γ_L² / 256,
    e_γ^m = min{γ_L − (13/16) γ_L²,  γ_l − (α d_{l+1} w_m^l / 20) γ_l²  (l < L)}.

Reading of the paper: it prints ``w_m^l`` in both ``e_1^m`` and ``e_l^m``; it is
read as the box bound *of layer l* (a superscript index like ``h^l`` and ``z^l``),
not as ``w_m`` to the power ``l``. A scalar ``box_bound`` is used for every layer.
``e_γ^m`` has the units of a step (it is ``γ e_γ`` in the notation of (7)).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import brentq
from sklearn.utils._param_validation import validate_params

from ._validation import COUNT, KEEP, NON_NEGATIVE, layer_sizes, per_layer

__all__ = [
    "dropout_multilayer_bound",
    "multilayer_step_factor",
    "multilayer_variances",
    "optimal_keep_probability",
    "pretrained_multilayer_bound",
]


def _inputs(sizes, learning_rates, box_bound):
    d = layer_sizes(sizes)
    n_layers = len(d) - 1
    gammas = per_layer(learning_rates, n_layers, "learning_rates", what="layer l = 1, ..., L")
    if n_layers == 1 and np.ndim(box_bound) == 1 and np.size(box_bound) == 0:
        box_bound = 1.0  # no hidden layer: the box is not used
    boxes = per_layer(box_bound, n_layers - 1, "box_bound", what="hidden layer l = 1, ..., L-1")
    return d, gammas, boxes


def _variances(d, gammas, boxes) -> np.ndarray:
    n_layers = len(d) - 1
    e = np.empty(n_layers)
    for l in range(1, n_layers):  # hidden layers, 1-based as in the paper
        e[l - 1] = gammas[l - 1] / 4.0 * d[l - 1] * d[l] * d[l + 1] * boxes[l - 1]
    e[-1] = 13.0 * d[-2] * d[-1] * gammas[-1] ** 2 / 256.0
    return e


def _step_factor(d, gammas, boxes, alpha: float) -> float:
    """``e_γ^m``, checking that each of its terms is positive."""
    g_out = gammas[-1]
    if not g_out < 16 / 13:
        raise ValueError(
            f"learning_rates[L-1] (the output layer's step γ_L) must be < 16/13, where "
            f"γ_L − (13/16) γ_L² > 0; got {g_out!r}."
        )
    terms = [g_out - 13.0 / 16.0 * g_out**2]
    for l in range(1, len(d) - 1):
        curvature = alpha * d[l + 1] * boxes[l - 1] / 20.0
        g = gammas[l - 1]
        if curvature > 0 and not g < 1.0 / curvature:
            raise ValueError(
                f"learning_rates[{l - 1}] (γ_{l}) must be < 20/(alpha d_{l + 1} w_m^{l}) = "
                f"{1.0 / curvature:.6g} (Corollary V.1), got {g!r}."
            )
        terms.append(g - curvature * g * g)
    return float(min(terms))


_ML_PARAMS = {
    "layer_sizes": ["array-like"],
    "learning_rates": ["array-like", *NON_NEGATIVE],
    "alpha": NON_NEGATIVE,
    "box_bound": ["array-like", *NON_NEGATIVE],
}

_ML_DOC = """layer_sizes : sequence of int
        ``(d_0, d_1, …, d_L)``: input, hidden and output lengths (``L ≥ 1``; with
        ``L = 1`` there is no hidden layer and the result is the single-layer one).
    learning_rates : float or sequence of float
        The constant steps ``γ_1, …, γ_L`` (one for all layers if a float);
        ``γ_L < 16/13`` and ``γ_l < 20/(α d_{l+1} w_m^l)``.
    alpha : float
        ``α ≥ 0``, the accuracy to which each hidden layer was pretrained (units of
        the DA's squared projected gradient). Smaller is better pretrained.
    box_bound : float or sequence of float
        ``w_m^l > 0``, the box bound of hidden layer ``l = 1, …, L − 1`` (weight
        units; one for all layers if a float)."""

_RUN_DOC = """initial_gap : float
        ``D_f ≥ 0`` after pretraining, in loss units (squared error summed over the
        ``d_L`` outputs; ``≤ d_L`` for outputs and targets in ``[0, 1]``).
    n_iter : int
        ``N``, iterations of the supervised tuning.
    batch_size : int
        ``B``."""


@validate_params(
    {k: _ML_PARAMS[k] for k in ("layer_sizes", "learning_rates", "box_bound")},
    prefer_skip_nested_validation=True,
)
def multilayer_variances(
    layer_sizes: ArrayLike, learning_rates: float | ArrayLike, box_bound: float | ArrayLike
) -> np.ndarray:
    """Corollary V.1: the per-layer constants ``e_1^m, …, e_L^m`` of eq. 12.

    ``e_l^m = (γ_l/4) d_{l−1} d_l d_{l+1} w_m^l`` for the hidden layers and
    ``e_L^m = 13 d_{L−1} d_L γ_L² / 256`` for the output layer (the single-layer
    ``e^s γ_L²``). They encode each layer's degrees of freedom and gradient
    variance; note the cubic growth in the lengths of hidden layers.

    Parameters
    ----------
    layer_sizes : sequence of int
        ``(d_0, …, d_L)``.
    learning_rates : float or sequence of float
        ``γ_1, …, γ_L``.
    box_bound : float or sequence of float
        ``w_m^1, …, w_m^{L−1}``.

    Returns
    -------
    ndarray of shape (L,)
        ``e_l^m`` at index ``l − 1``.

    Examples
    --------
    >>> multilayer_variances([100, 50, 10], 0.1, 0.1)  # 0.025*50000*0.1, 13*500*0.01/256
    array([125.        ,   0.25390625])
    """
    d, gammas, boxes = _inputs(layer_sizes, learning_rates, box_bound)
    return _variances(d, gammas, boxes)


@validate_params(_ML_PARAMS, prefer_skip_nested_validation=True)
def multilayer_step_factor(
    layer_sizes: ArrayLike,
    learning_rates: float | ArrayLike,
    *,
    alpha: float,
    box_bound: float | ArrayLike,
) -> float:
    """Corollary V.1: ``e_γ^m``, the step factor dividing the bound (12).

        e_γ^m = min{γ_L − (13/16) γ_L²,  γ_l − (α d_{l+1} w_m^l / 20) γ_l²  (l < L)}.

    Parameters
    ----------
    {ml}

    Returns
    -------
    float
        Positive, in step units.

    Raises
    ------
    ValueError
        If a step violates ``γ_L < 16/13`` or ``γ_l < 20/(α d_{l+1} w_m^l)``.

    Examples
    --------
    >>> multilayer_step_factor([100, 50, 10], 0.1, alpha=0.5, box_bound=0.1)
    0.09187...
    """
    d, gammas, boxes = _inputs(layer_sizes, learning_rates, box_bound)
    return _step_factor(d, gammas, boxes, alpha)


def _bound(d, gammas, boxes, alpha, initial_gap, n_iter, batch_size, zeta) -> float:
    e = _variances(d, gammas, boxes)
    e_gamma = _step_factor(d, gammas, boxes, alpha)
    hidden = e[:-1]
    last_hidden = hidden[-1] if hidden.size else 0.0
    lower_hidden = float(hidden[:-1].sum()) if hidden.size > 1 else 0.0
    return float(
        initial_gap / (n_iter * e_gamma * zeta**2)
        + (e[-1] / zeta + alpha * last_hidden + alpha * zeta * lower_hidden)
        / (e_gamma * batch_size)
    )


_RUN_PARAMS = {"initial_gap": NON_NEGATIVE, "n_iter": COUNT, "batch_size": COUNT}


@validate_params({**_ML_PARAMS, **_RUN_PARAMS}, prefer_skip_nested_validation=True)
def pretrained_multilayer_bound(
    layer_sizes: ArrayLike,
    *,
    learning_rates: float | ArrayLike,
    alpha: float,
    box_bound: float | ArrayLike,
    initial_gap: float,
    n_iter: int,
    batch_size: int,
) -> float:
    """Corollary V.1, eq. 12: layer-wise pretrained ``L``-layer network, no dropout.

        E ‖∇_W f̃(W^R)‖² ≤ (1/e_γ^m) (D_f/N + (1/B) (e_L^m + α Σ_{l=1}^{L−1} e_l^m)),

    ``R ~ Unif[1, N]``, the projected gradients accumulated over all layers. Good
    pretraining (small ``α``) shrinks the hidden layers' share; with ``L = 1`` (no
    hidden layer) and ``γ_1 = γ`` this is exactly the bound (7).

    Parameters
    ----------
    {ml}
    {run}

    Returns
    -------
    float

    Raises
    ------
    ValueError
        On invalid arguments or steps outside the stable range.

    Examples
    --------
    >>> pretrained_multilayer_bound([100, 50, 10], learning_rates=0.1, alpha=0.05,
    ...                             box_bound=0.1, initial_gap=10.0, n_iter=10_000,
    ...                             batch_size=100)  # (0.01 + (0.2539 + 0.05*125)/100)/0.0919
    0.71879...
    """
    d, gammas, boxes = _inputs(layer_sizes, learning_rates, box_bound)
    return _bound(d, gammas, boxes, alpha, initial_gap, n_iter, batch_size, 1.0)


@validate_params(
    {**_ML_PARAMS, **_RUN_PARAMS, "keep_probability": KEEP}, prefer_skip_nested_validation=True
)
def dropout_multilayer_bound(
    layer_sizes: ArrayLike,
    *,
    learning_rates: float | ArrayLike,
    alpha: float,
    box_bound: float | ArrayLike,
    initial_gap: float,
    n_iter: int,
    batch_size: int,
    keep_probability: float,
) -> float:
    """Corollary VI.1, eq. 13: pretraining and dropout in all layers.

        E ‖∇_W f̃(W^R)‖² ≤ D_f / (N e_γ^m ζ²)
            + (1/(e_γ^m B)) (e_L^m/ζ + α e_{L−1}^m + α ζ Σ_{l=1}^{L−2} e_l^m),

    where each input and hidden unit is kept with probability ``ζ`` (the paper's
    "dropout rate"; PyTorch's ``Dropout(p)`` drops with ``p = 1 − ζ``). ``ζ = 1``
    gives (12). Only the last term grows with ``ζ``, so dropout can lower the
    bound only with two or more hidden layers (:func:`optimal_keep_probability`).
    Without pretraining the paper still uses (13), ``α`` then measuring how far the
    randomly initialized hidden layers are from good ones.

    Parameters
    ----------
    {ml}
    {run}
    keep_probability : float
        ``ζ ∈ (0, 1]``.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        On invalid arguments or steps outside the stable range.

    Examples
    --------
    >>> dropout_multilayer_bound([100, 50, 10], learning_rates=0.1, alpha=0.05,
    ...                          box_bound=0.1, initial_gap=10.0, n_iter=10_000,
    ...                          batch_size=100, keep_probability=0.5)
    0.77908...
    """
    d, gammas, boxes = _inputs(layer_sizes, learning_rates, box_bound)
    return _bound(d, gammas, boxes, alpha, initial_gap, n_iter, batch_size, keep_probability)


def _best_zeta(e, e_gamma, alpha, initial_gap, n_iter, batch_size) -> float:
    """argmin over ζ ∈ (0, 1] of a/ζ² + b/ζ + c ζ: the root of c ζ³ − b ζ − 2a = 0."""
    a = initial_gap / (n_iter * e_gamma)
    b = e[-1] / (e_gamma * batch_size)
    c = alpha * float(e[:-2].sum()) / (e_gamma * batch_size) if e.size > 2 else 0.0
    g1 = c - b - 2.0 * a  # the cubic at ζ = 1
    if c == 0.0 or g1 <= 0.0:
        return 1.0
    if a == 0.0:
        return float(np.sqrt(b / c))
    return float(brentq(lambda z: c * z**3 - b * z - 2.0 * a, 0.0, 1.0, xtol=1e-15))


@validate_params({**_ML_PARAMS, **_RUN_PARAMS}, prefer_skip_nested_validation=True)
def optimal_keep_probability(
    layer_sizes: ArrayLike,
    *,
    learning_rates: float | ArrayLike,
    alpha: float,
    box_bound: float | ArrayLike,
    initial_gap: float,
    n_iter: int,
    batch_size: int,
) -> float:
    """The keep probability ``ζ ∈ (0, 1]`` that minimizes the bound (13).

    As a function of ``ζ``, (13) is ``a/ζ² + b/ζ + c ζ + const`` with
    ``a = D_f/(N e_γ^m)``, ``b = e_L^m/(e_γ^m B)`` and
    ``c = α Σ_{l=1}^{L−2} e_l^m/(e_γ^m B)``: convex for ``ζ > 0``, minimized at the
    positive root of ``c ζ³ − b ζ − 2a = 0``, clipped to 1. (Derived; the paper
    discusses the trade-off in words: ``ζ ≈ 1`` after good pretraining, ``≈ 0.5``
    for some values without it.) With fewer than two hidden layers ``c = 0`` and
    the answer is 1: no dropout.

    Parameters
    ----------
    {ml}
    {run}

    Returns
    -------
    float

    Examples
    --------
    >>> optimal_keep_probability([100, 50, 10], learning_rates=0.1, alpha=0.05,
    ...                          box_bound=0.1, initial_gap=10.0, n_iter=10_000,
    ...                          batch_size=100)
    1.0
    >>> optimal_keep_probability([100, 50, 50, 50, 10], learning_rates=0.1, alpha=0.003,
    ...                          box_bound=0.1, initial_gap=10.0, n_iter=10_000,
    ...                          batch_size=100)
    0.4863...
    """
    d, gammas, boxes = _inputs(layer_sizes, learning_rates, box_bound)
    e = _variances(d, gammas, boxes)
    e_gamma = _step_factor(d, gammas, boxes, alpha)
    return _best_zeta(e, e_gamma, alpha, initial_gap, n_iter, batch_size)


for _f in (
    multilayer_step_factor,
    pretrained_multilayer_bound,
    dropout_multilayer_bound,
    optimal_keep_probability,
):
    _f.__doc__ = _f.__wrapped__.__doc__ = (
        _f.__doc__.replace("{ml}", _ML_DOC).replace("{run}", _RUN_DOC)
    )
del _f

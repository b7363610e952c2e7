"""Closed forms for the no-overlap ReLU network with Gaussian inputs.

For an input ``x ∈ R^{k·d}`` cut into ``k`` disjoint patches ``x_i ∈ R^d`` and a
filter ``w ∈ R^d``, the no-overlap network (Brutzkus & Globerson 2017; RVSM paper,
Dinh & Xin, arXiv 1812.05719, section 3.1) is

    f(x; w) = (1/k) Σ_i σ(w · x_i),   σ = ReLU,

:class:`skconvex.nn.NoOverlapCNN` with one filter. With ``x ~ N(0, I)`` and labels
from a ground truth ``w*`` (:func:`skconvex.datasets.make_no_overlap_regression`),
its population loss and gradient have the closed forms below (RVSM paper, eqs. 4,
5 and 13). Everything is computed in float64 numpy; vectors are 1-D array-likes.

Convention: :func:`population_loss` is ``E[(f(x; w) − f(x; w*))²]``, **without** a
factor ½ (as eq. 3 of the paper); ``half=True`` gives ``½ E[…]`` and the gradient
functions follow the same flag.
"""

from __future__ import annotations

import math
from numbers import Integral

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["angle", "g", "population_gradient", "population_loss", "rvsm_population"]


def _vector(value: ArrayLike, name: str) -> np.ndarray:
    """``value`` as a finite 1-D float64 array, or a ValueError naming ``name``."""
    array = np.asarray(value, dtype=np.float64)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D vector, got shape {array.shape}.")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite.")
    return array


def _pair(u: ArrayLike, v: ArrayLike, names: tuple[str, str]) -> tuple[np.ndarray, np.ndarray]:
    """Two vectors of the same length."""
    a, b = _vector(u, names[0]), _vector(v, names[1])
    if a.shape != b.shape:
        raise ValueError(
            f"{names[0]} and {names[1]} must have the same shape, got {a.shape} and {b.shape}."
        )
    return a, b


def _n_patches(k) -> int:
    """``k`` as an int ≥ 1, or a ValueError."""
    if isinstance(k, bool) or not isinstance(k, Integral) or k < 1:
        raise ValueError(f"k (the number of patches) must be an integer >= 1, got {k!r}.")
    return int(k)


def _angle(u: np.ndarray, v: np.ndarray) -> float:
    nu, nv = np.linalg.norm(u), np.linalg.norm(v)
    if nu == 0 or nv == 0:
        return math.pi / 2
    # Kahan's formula: accurate near 0 and π, where arccos of the cosine loses
    # half the digits; the result is always in [0, π] (no clipping needed).
    a, b = u / nu, v / nv
    return float(2.0 * math.atan2(np.linalg.norm(a - b), np.linalg.norm(a + b)))


def angle(u: ArrayLike, v: ArrayLike) -> float:
    """The angle θ between two vectors, in radians, in ``[0, π]``.

    Computed as ``2·atan2(‖û − v̂‖, ‖û + v̂‖)`` with ``û = u/‖u‖``, which equals
    ``arccos`` of the cosine clipped to ``[−1, 1]`` but keeps full precision for
    nearly parallel or antiparallel vectors (``angle(w, w)`` is exactly 0).

    If ``u`` or ``v`` is zero the angle is undefined; it is taken to be ``π/2``
    (as if the cosine ``u·v / (‖u‖‖v‖)`` were 0). Every formula of this module
    that uses the angle multiplies it by ``‖u‖‖v‖`` or by the zero vector, so the
    choice does not change :func:`g`, :func:`population_loss` or
    :func:`population_gradient`.

    Parameters
    ----------
    u, v : array-like of shape (d,)

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If ``u`` and ``v`` are not finite 1-D vectors of the same length.

    Examples
    --------
    >>> angle([1, 0], [0, 2])
    1.5707963267948966
    >>> angle([1, 1], [2, 2]), angle([1, 0], [-3, 0])
    (0.0, 3.141592653589793)
    >>> angle([0, 0], [1, 0])
    1.5707963267948966
    """
    return _angle(*_pair(u, v, ("u", "v")))


def g(u: ArrayLike, v: ArrayLike) -> float:
    """``E[σ(u·x) σ(v·x)]`` for ``x ~ N(0, I)`` and σ = ReLU (RVSM paper, Lemma 1).

    ``g(u, v) = ‖u‖‖v‖ (sin θ + (π − θ) cos θ) / (2π)``, θ = :func:`angle` ``(u, v)``
    (Cho & Saul's arc-cosine kernel of degree 1). ``g(u, u) = ‖u‖²/2`` and ``g`` is
    0 if either vector is 0.

    Parameters
    ----------
    u, v : array-like of shape (d,)

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If ``u`` and ``v`` are not finite 1-D vectors of the same length.

    Examples
    --------
    >>> g([1, 0], [1, 0])
    0.5
    >>> g([1, 0], [0, 1])  # 1 / (2π)
    0.159...
    >>> round(g([3, 0], [-1, 0]), 12)
    0.0
    """
    a, b = _pair(u, v, ("u", "v"))
    theta = _angle(a, b)
    norms = float(np.linalg.norm(a) * np.linalg.norm(b))
    return norms * (math.sin(theta) + (math.pi - theta) * math.cos(theta)) / (2 * math.pi)


def population_loss(w: ArrayLike, w_star: ArrayLike, k: int, *, half: bool = False) -> float:
    """Population loss ``E[(f(x; w) − f(x; w*))²]`` of the no-overlap network.

    ``f(x; w) = (1/k) Σ_i σ(w · x_i)`` on ``k`` disjoint patches, ``x ~ N(0, I)``.
    With ``a = k/2 + (k² − k)/(2π)``, ``b = (k² − k)/(2π)`` (RVSM paper, eq. 5):

        ℓ(w) = (1/k²) [a (‖w‖² + ‖w*‖²) − 2k g(w, w*) − 2b ‖w‖‖w*‖],

    evaluated in the equivalent, rounding-friendly form
    ``(1/k²)[a (‖w‖ − ‖w*‖)² + (k‖w‖‖w*‖/π)(π − sin θ − (π − θ) cos θ)]``, which is
    a sum of non-negative terms and exactly 0 at ``w = w*``.

    Parameters
    ----------
    w : array-like of shape (d,)
        The filter.
    w_star : array-like of shape (d,)
        The ground-truth filter.
    k : int
        Number of patches, ``k ≥ 1``.
    half : bool, default=False
        Return ``½ E[…]`` instead (the convention of some papers).

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If the vectors are not finite 1-D vectors of the same length, or ``k`` is
        not an integer ≥ 1.

    Examples
    --------
    >>> w_star = [0.6, 0.8]
    >>> population_loss(w_star, w_star, k=3)
    0.0
    >>> round(population_loss([-0.6, -0.8], w_star, k=1), 12)  # E[z²] = 1
    1.0
    >>> population_loss([0.0, 0.0], w_star, k=2, half=True)  # (1 + 1/π) / 8
    0.164788...
    """
    a_vec, b_vec = _pair(w, w_star, ("w", "w_star"))
    k = _n_patches(k)
    n, m = float(np.linalg.norm(a_vec)), float(np.linalg.norm(b_vec))
    theta = _angle(a_vec, b_vec)
    a = k / 2 + (k * k - k) / (2 * math.pi)
    gap = math.pi - math.sin(theta) - (math.pi - theta) * math.cos(theta)
    loss = (a * (n - m) ** 2 + k * n * m * gap / math.pi) / (k * k)
    return loss / 2 if half else loss


def population_gradient(
    w: ArrayLike, w_star: ArrayLike, k: int, *, half: bool = False
) -> np.ndarray:
    """Gradient of :func:`population_loss` with respect to ``w`` (RVSM paper, eq. 13).

    With θ = :func:`angle` ``(w, w*)`` and ``r = ‖w*‖ / ‖w‖``:

        ∇ℓ(w) = (1/k²) [(k + (k² − k)/π − k r sin θ / π − (k² − k) r / π) w
                        − (k (π − θ) / π) w*],

    the gradient of the loss without ½ (halved with ``half=True``). It vanishes at
    ``w = w*`` (exactly, in floating point) and, for ``k > 1``, at the saddle
    ``w = −(k² − k)/(k² + (π − 1)k) w*``.

    Parameters
    ----------
    w : array-like of shape (d,)
        The filter; must be non-zero (the loss is not differentiable at 0).
    w_star : array-like of shape (d,)
        The ground-truth filter.
    k : int
        Number of patches, ``k ≥ 1``.
    half : bool, default=False
        Gradient of ``½ E[…]`` instead.

    Returns
    -------
    ndarray of shape (d,)

    Raises
    ------
    ValueError
        For invalid inputs as :func:`population_loss`, or if ``w`` is zero.

    Examples
    --------
    >>> population_gradient([0.6, 0.8], [0.6, 0.8], k=2)
    array([0., 0.])
    >>> population_gradient([2.0, 0.0], [1.0, 0.0], k=1)  # ℓ = (‖w‖ − 1)²/2 on this ray
    array([1., 0.])
    """
    a_vec, b_vec = _pair(w, w_star, ("w", "w_star"))
    k = _n_patches(k)
    n, m = float(np.linalg.norm(a_vec)), float(np.linalg.norm(b_vec))
    if n == 0:
        raise ValueError("The population loss is not differentiable at w = 0.")
    theta = _angle(a_vec, b_vec)
    r = m / n
    # k + (k²−k)/π − k r sinθ/π − (k²−k) r/π, grouped so that it is exactly k at w = w*.
    coef = k * (1 - r * math.sin(theta) / math.pi) + (k * k - k) * (1 - r) / math.pi
    grad = (coef * a_vec - (k * (math.pi - theta) / math.pi) * b_vec) / (k * k)
    return grad / 2 if half else grad


def rvsm_population(
    w0: ArrayLike,
    w_star: ArrayLike,
    k: int,
    *,
    penalty: str = "l1",
    lam: float,
    beta: float,
    a: float = 1.0,
    learning_rate: float,
    n_iter: int,
    half: bool = False,
) -> dict:
    """RVSM (Algorithm 1 of the RVSM paper) on the closed-form population loss.

    The Relaxed Variable Splitting Method minimizes the augmented Lagrangian
    (RVSM paper, eq. 8, with ``P`` any of the penalties of
    :mod:`skconvex.thresholds`)

        L_β(w, u) = f(w) + λ P(u) + (β/2) ‖w − u‖²,

    with ``f(w) =`` :func:`population_loss` ``(w, w_star, k, half=half)`` (eq. 5)
    and ``∇f`` = :func:`population_gradient` (eq. 13), by

        u⁰ = T(w⁰),
        w^{t+1} = w^t − η ∇f(w^t) − η β (w^t − u^t),
        u^{t+1} = T(w^{t+1}),

    where ``T = threshold(·, penalty, lam, beta, a)`` is the exact minimizer of
    ``λ P(u) + (β/2)‖w − u‖²`` (soft thresholding ``S_{λ/β}`` for ℓ1, hard
    thresholding at ``sqrt(2λ/β)`` for ℓ0, the transformed-ℓ1 operator for
    ``"tl1"``). So ``u^t = T(w^t)`` at every ``t``, which is the ordering used in
    the proofs of Lemmas 5 and 6 (the w-step uses the ``u`` thresholded from the
    current ``w``); Algorithm 1's listing, read literally, thresholds the
    previous iterate instead.

    Everything is float64 numpy; the thresholding calls :mod:`skconvex.thresholds`
    on float64 torch tensors. ``half`` selects the ½ convention of ``f``: the
    default ``half=False`` is the paper's ``f = E[(·)²]`` (eq. 3, no ½), for
    which Theorem 1 is stated; ``half=True`` uses ``½ E[(·)²]`` and its gradient
    (the penalty and splitting terms are not halved: the iterates equal those of
    ``half=False`` with ``(2λ, 2β, η/2)``, and the Lagrangian is half of its one).

    Parameters
    ----------
    w0 : array-like of shape (d,)
        Initial filter; non-zero (``f`` is not differentiable at 0).
    w_star : array-like of shape (d,)
        Ground-truth filter (the theory assumes ``‖w*‖ = 1``; not enforced).
    k : int
        Number of patches, ``k ≥ 1`` (Theorem 1 needs ``k ≥ 2``).
    penalty : {"l1", "l0", "tl1"}, default="l1"
        The sparse penalty ``P``.
    lam : float
        Penalty weight ``λ ≥ 0``.
    beta : float
        Splitting weight ``β > 0``.
    a : float, default=1.0
        Shape parameter of transformed ℓ1, ``a > 0``.
    learning_rate : float
        Step size ``η > 0`` (Theorem 1: ``η ≤ 1/(β + L)``, ``L`` a Lipschitz
        constant of ``∇f`` on the region the iterates visit).
    n_iter : int
        Number of iterations ``≥ 0``.
    half : bool, default=False
        Use ``f = ½ E[…]`` instead of ``E[…]``.

    Returns
    -------
    dict
        ``"w"``, ``"u"``: ndarrays of shape (d,), the last iterates ``w^T`` and
        ``u^T = T(w^T)``; and ndarrays of shape (n_iter + 1,), indexed by
        ``t = 0, …, n_iter``: ``"lagrangian"`` ``L_β(w^t, u^t)``, ``"loss"``
        ``f(w^t)``, ``"angle"`` ``θ(w^t, w*)`` (:func:`angle`) and
        ``"distance"`` ``‖w^t − w*‖``.

    Raises
    ------
    ValueError
        For invalid vectors, ``k``, ``penalty``, ``lam``, ``beta``, ``a``,
        ``learning_rate`` or ``n_iter``, if ``w0`` is zero, or if an iterate
        reaches 0 or stops being finite (a step far too large).

    Examples
    --------
    >>> w_star = [0.8, 0.6, 0.0, 0.0]
    >>> res = rvsm_population([0.1, 0.5, 0.4, -0.3], w_star, k=4, penalty="l1",
    ...                       lam=1e-3, beta=1e-2, learning_rate=1.0, n_iter=300)
    >>> res["u"].round(3)             # S_{0.1}(w̄): sparse, like w*
    array([0.698, 0.498, 0.   , 0.   ])
    >>> res["w"].round(3)             # close to w*
    array([ 0.798,  0.598,  0.   , -0.   ])
    >>> bool(np.all(np.diff(res["lagrangian"]) <= 1e-15))
    True
    >>> bool(res["angle"][-1] < 1e-3 and res["distance"][-1] < 1e-2)
    True
    """
    import torch

    from skconvex import thresholds as _thr

    w, w_star_arr = _pair(w0, w_star, ("w0", "w_star"))
    k = _n_patches(k)
    if penalty not in _thr.KINDS:
        raise ValueError(
            f"penalty must be one of {', '.join(map(repr, _thr.KINDS))}, got {penalty!r}."
        )
    scalars = {}
    for name, value, lower, strict in (
        ("lam", lam, 0.0, False),
        ("beta", beta, 0.0, True),
        ("a", a, 0.0, True),
        ("learning_rate", learning_rate, 0.0, True),
    ):
        if isinstance(value, bool):
            raise ValueError(f"{name} must be a real number, got {value!r}.")
        try:
            x = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be a real number, got {value!r}.") from None
        if not math.isfinite(x) or x < lower or (strict and x == lower):
            relation = ">" if strict else ">="
            raise ValueError(f"{name} must be finite and {relation} {lower:g}, got {value!r}.")
        scalars[name] = x
    lam, beta, a, eta = scalars["lam"], scalars["beta"], scalars["a"], scalars["learning_rate"]
    if isinstance(n_iter, bool) or not isinstance(n_iter, Integral) or n_iter < 0:
        raise ValueError(f"n_iter must be an integer >= 0, got {n_iter!r}.")
    n_iter = int(n_iter)
    if not np.any(w):
        raise ValueError("w0 must be non-zero (the population loss is not differentiable at 0).")

    def thresh(v: np.ndarray) -> np.ndarray:
        return _thr.threshold(torch.from_numpy(v), penalty, lam, beta, a).numpy().copy()

    def record(t: int, w_t: np.ndarray, u_t: np.ndarray) -> None:
        f_t = population_loss(w_t, w_star_arr, k, half=half)
        p_t = float(_thr.penalty(torch.from_numpy(u_t), penalty, a))
        diff = w_t - u_t
        loss[t] = f_t
        lagrangian[t] = f_t + lam * p_t + 0.5 * beta * float(diff @ diff)
        angles[t] = _angle(w_t, w_star_arr)
        distance[t] = float(np.linalg.norm(w_t - w_star_arr))

    lagrangian, loss, angles, distance = (np.empty(n_iter + 1) for _ in range(4))
    u = thresh(w)
    record(0, w, u)
    for t in range(1, n_iter + 1):
        grad = population_gradient(w, w_star_arr, k, half=half)
        w = w - eta * grad - eta * beta * (w - u)
        if not np.all(np.isfinite(w)) or not np.any(w):
            raise ValueError(
                f"RVSM iterate {t} is zero or not finite; the step (learning_rate) is too large?"
            )
        u = thresh(w)
        record(t, w, u)
    return {
        "w": w,
        "u": u,
        "lagrangian": lagrangian,
        "loss": loss,
        "angle": angles,
        "distance": distance,
    }

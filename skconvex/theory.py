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

__all__ = ["angle", "g", "population_gradient", "population_loss"]


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

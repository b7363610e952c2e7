"""Regression data of the no-overlap network with Gaussian inputs (RVSM paper, section 3)."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, validate_params

__all__ = ["make_no_overlap_regression"]


@validate_params(
    {
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "n_patches": [Interval(Integral, 1, None, closed="left")],
        "patch_size": [Interval(Integral, 1, None, closed="left")],
        "noise": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
        "return_coef": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def make_no_overlap_regression(
    n_samples: int = 1000,
    n_patches: int = 4,
    patch_size: int = 8,
    *,
    noise: float = 0.0,
    random_state=None,
    return_coef: bool = False,
):
    """Generate Gaussian inputs labelled by a no-overlap ReLU network.

    ``x ~ N(0, I_{k·d})`` is split into ``k = n_patches`` consecutive disjoint
    patches ``x_1, …, x_k`` of size ``d = patch_size``, and

        y = (1/k) Σ_i σ(w* · x_i) + noise · ε,   σ = ReLU,  ε ~ N(0, 1),

    with a ground-truth filter ``w*`` drawn uniformly on the unit sphere of ``R^d``:
    the teacher network of Brutzkus & Globerson and of the RVSM paper (Dinh & Xin,
    arXiv 1812.05719, section 3.1). ``y`` (with ``noise=0``) is the output of
    :class:`skconvex.nn.NoOverlapCNN` whose filter is ``w*``, and the population
    loss of a filter ``w`` is :func:`skconvex.theory.population_loss`.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of samples.
    n_patches : int, default=4
        k, the number of patches.
    patch_size : int, default=8
        d, the size of each patch and of ``w*``.
    noise : float, default=0.0
        Standard deviation of the Gaussian noise added to ``y``.
    random_state : int, RandomState instance or None, default=None
        Draws, in this order, ``w*``, then ``X``, then (only if ``noise > 0``) the
        noise; so ``X`` and ``w*`` do not depend on ``noise``.
    return_coef : bool, default=False
        Also return ``w*``.

    Returns
    -------
    X : ndarray of shape (n_samples, n_patches * patch_size)
        Float64 standard Gaussian features, patch ``i`` in columns
        ``i·d, …, (i+1)·d − 1``.
    y : ndarray of shape (n_samples,)
        Float64 targets.
    coef : ndarray of shape (patch_size,)
        The unit-norm ground-truth filter ``w*``; only with ``return_coef=True``.

    Examples
    --------
    >>> import numpy as np
    >>> from skconvex.datasets import make_no_overlap_regression
    >>> X, y, w_star = make_no_overlap_regression(
    ...     500, n_patches=3, patch_size=4, random_state=0, return_coef=True
    ... )
    >>> X.shape, y.shape, w_star.shape
    ((500, 12), (500,), (4,))
    >>> round(float(np.linalg.norm(w_star)), 12)
    1.0
    >>> bool(np.allclose(y, np.maximum(X.reshape(500, 3, 4) @ w_star, 0).mean(axis=1)))
    True
    """
    rng = check_random_state(random_state)
    w_star = rng.standard_normal(patch_size)
    w_star /= np.linalg.norm(w_star)
    X = rng.standard_normal((n_samples, n_patches * patch_size))
    y = np.maximum(X.reshape(n_samples, n_patches, patch_size) @ w_star, 0.0).mean(axis=1)
    if noise > 0:
        y = y + noise * rng.standard_normal(n_samples)
    if return_coef:
        return X, y, w_star
    return X, y

"""The k-dimensional XOR data of the CPNA paper (section 2)."""

from __future__ import annotations

from numbers import Integral

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, validate_params

__all__ = ["make_xor"]


@validate_params(
    {
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "n_features": [Interval(Integral, 1, None, closed="left")],
        "n_informative": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "return_informative": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def make_xor(
    n_samples: int = 3000,
    n_features: int = 20,
    n_informative: int = 3,
    *,
    shuffle: bool = True,
    random_state=None,
    return_informative: bool = False,
):
    """Generate k-D XOR data in p dimensions with irrelevant features.

    ``x`` is drawn uniformly from ``[-1, 1]^p`` and ``y = 1[x_{i_1}·…·x_{i_k} > 0]``
    for the ``k = n_informative`` informative features; the other ``p − k``
    features are irrelevant. Every marginal model of fewer than ``k`` features has
    no discriminative power, which is what makes the problem hard for a network
    (Guo & Barbu, *Finding deep local optima using network pruning*, section 2).
    The classes are balanced in expectation.

    Parameters
    ----------
    n_samples : int, default=3000
        Number of samples (the paper's Table 1 uses 3000 for training and 3000 for
        testing).
    n_features : int, default=20
        p, the total number of features.
    n_informative : int, default=3
        k, the order of the interaction; ``k ≤ p``.
    shuffle : bool, default=True
        Put the informative features at random columns. With ``shuffle=False``
        they are the first ``k`` columns.
    random_state : int, RandomState instance or None, default=None
        Seeds the features and, with ``shuffle``, the informative columns.
    return_informative : bool, default=False
        Also return the indices of the informative columns.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        Float64 features in ``[-1, 1]``.
    y : ndarray of shape (n_samples,)
        Int labels in {0, 1}.
    informative : ndarray of shape (n_informative,)
        Sorted column indices of the informative features; only with
        ``return_informative=True``.

    Examples
    --------
    >>> from skconvex.datasets import make_xor
    >>> X, y, informative = make_xor(
    ...     1000, n_features=10, n_informative=3, random_state=0, return_informative=True
    ... )
    >>> X.shape, informative.tolist()
    ((1000, 10), [4, 6, 9])
    >>> bool(((X[:, informative].prod(axis=1) > 0) == y).all())
    True
    """
    if n_informative > n_features:
        raise ValueError(
            f"n_informative={n_informative} must be at most n_features={n_features}."
        )
    rng = check_random_state(random_state)
    X = rng.uniform(-1.0, 1.0, size=(n_samples, n_features))
    if shuffle:
        informative = np.sort(rng.choice(n_features, size=n_informative, replace=False))
    else:
        informative = np.arange(n_informative)
    y = (np.prod(X[:, informative], axis=1) > 0).astype(np.int64)
    if return_informative:
        return X, y, informative
    return X, y

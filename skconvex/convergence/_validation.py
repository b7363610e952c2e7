"""Argument checks shared by the convergence formulas (private).

Scalars are checked with scikit-learn's ``validate_params`` on each public function
(so the messages read like scikit-learn's); the helpers below check what those
constraints cannot express: sequences of layer sizes, per-layer values given as a
scalar or a sequence, and conditions that tie several arguments together.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from numpy.typing import ArrayLike
from sklearn.utils._param_validation import Interval

__all__: list[str] = []

# Constraints reused by the public functions' ``validate_params`` dictionaries.
POSITIVE = [Interval(Real, 0, None, closed="neither")]
NON_NEGATIVE = [Interval(Real, 0, None, closed="left")]
COUNT = [Interval(Integral, 1, None, closed="left")]
UNIT_CLOSED = [Interval(Real, 0, 1, closed="both")]
KEEP = [Interval(Real, 0, 1, closed="right")]
OPEN_UNIT = [Interval(Real, 0, 1, closed="neither")]


def layer_sizes(value, name: str = "layer_sizes") -> tuple[int, ...]:
    """``value`` as a tuple of ≥ 2 positive ints ``(d_0, …, d_L)``, or a ValueError."""
    sizes = _int_tuple(value, name)
    if len(sizes) < 2:
        raise ValueError(
            f"{name} must list at least the input and output sizes (d_0, ..., d_L), "
            f"got {value!r}."
        )
    return sizes


def hidden_sizes(value, name: str = "hidden_layer_sizes") -> tuple[int, ...]:
    """``value`` as a (possibly empty) tuple of positive ints, or a ValueError."""
    if isinstance(value, Integral) and not isinstance(value, bool):
        value = (value,)
    return _int_tuple(value, name)


def _int_tuple(value, name: str) -> tuple[int, ...]:
    try:
        items = list(value)
    except TypeError:
        raise ValueError(f"{name} must be a sequence of positive integers, got {value!r}.")
    if not all(isinstance(v, Integral) and not isinstance(v, bool) and v >= 1 for v in items):
        raise ValueError(f"{name} must be a sequence of positive integers, got {value!r}.")
    return tuple(int(v) for v in items)


def per_layer(value: float | ArrayLike, n: int, name: str, *, what: str) -> np.ndarray:
    """A scalar or ``n`` positive finite floats, as a float64 array of length ``n``."""
    array = np.asarray(value, dtype=np.float64) if _is_numeric(value) else None
    if array is None or array.ndim > 1 or (array.ndim == 1 and array.size != n):
        raise ValueError(
            f"{name} must be a positive float or a sequence of {n} positive floats "
            f"(one per {what}), got {value!r}."
        )
    if not np.all(np.isfinite(array)) or np.any(array <= 0):
        raise ValueError(f"{name} must be positive and finite, got {value!r}.")
    return np.broadcast_to(array, (n,)).astype(np.float64)


def _is_numeric(value) -> bool:
    if isinstance(value, (bool, np.bool_, str, bytes)):
        return False
    try:
        array = np.asarray(value)
    except (ValueError, TypeError):  # ragged sequences
        return False
    return array.dtype.kind in "iuf" and array.dtype != np.bool_


def moments(mu_x: float, tau_x: float) -> None:
    """μ_x² ≤ τ_x ≤ μ_x: what the first moments of inputs in [0, 1] can be."""
    tol = 1e-12
    if not (mu_x * mu_x - tol <= tau_x <= mu_x + tol):
        raise ValueError(
            "mu_x and tau_x must satisfy mu_x**2 <= tau_x <= mu_x (the average first "
            "moment and average squared first moment of inputs in [0, 1]); got "
            f"mu_x={mu_x!r}, tau_x={tau_x!r}."
        )


def step_below(step: float, limit: float, name: str, why: str) -> None:
    """``step < limit`` or a ValueError that says why the limit exists."""
    if not step < limit:
        raise ValueError(f"{name} must be < {limit:.6g} ({why}), got {step!r}.")

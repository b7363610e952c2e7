"""A fit that fails leaves the estimator exactly as it was.

``fit``, ``partial_fit`` and warm starts assign fitted attributes as they go and
train ``module_`` in place; an error half-way (a one-class refit, a module that
cannot be built, a diverged network, Ctrl-C during the set-up) would leave a
mixture of the old and the new model. :func:`keep_fitted_state_on_error` saves the
fitted state first and puts it back when the fit raises.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterator
from contextlib import contextmanager

import torch

from .exceptions import TrainingDivergedError

#: Fitted objects that a continued fit changes in place: copied together, so the
#: optimizer's state still refers to the copied module's parameters.
_MUTABLE = ("module_", "_optimizer_", "_strategy_")


@contextmanager
def keep_fitted_state_on_error(estimator, in_place: bool = True) -> Iterator[None]:
    """Run a fit; on any exception restore every attribute the fit may have changed.

    The estimator's ``__dict__`` is copied (shallow: a fit replaces fitted arrays,
    it does not edit them) and ``module_``, the optimizer and the strategy, which a
    continued fit trains in place, are deep-copied together (only with ``in_place``:
    a fit from scratch builds new ones and leaves the old ones untouched). On an exception,
    KeyboardInterrupt included, the copy becomes the estimator again: a first fit
    that fails leaves an unfitted estimator, a refit leaves the previous model,
    predictions and pickles included.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> est = SimpleNamespace(coef_=1)
    >>> try:
    ...     with keep_fitted_state_on_error(est):
    ...         est.coef_, est.classes_ = 2, [0]
    ...         raise ValueError("one class")
    ... except ValueError:
    ...     pass
    >>> vars(est)
    {'coef_': 1}
    """
    saved = dict(vars(estimator))
    # A fresh fit builds new objects: only a continued one (``in_place``) trains the
    # fitted module and optimizer in place, and needs them copied.
    live = {k: saved[k] for k in _MUTABLE if k in saved} if in_place else {}
    backup = copy.deepcopy(live) if live else {}
    try:
        yield
    except BaseException:
        vars(estimator).clear()
        vars(estimator).update(saved)
        vars(estimator).update(backup)
        raise


def check_finite_module(module: torch.nn.Module, name: str) -> None:
    """Raise :class:`TrainingDivergedError` unless every parameter and buffer is finite."""
    for key, value in module.state_dict().items():
        if value.is_floating_point() and not bool(torch.isfinite(value).all()):
            raise TrainingDivergedError(
                f"{name} training produced non-finite weights ({key}) and no finite "
                "weights to fall back on; the estimator was left as it was before this "
                "fit. Lower learning_rate_init, or scale X and y."
            )


def atomic_fit(fit):
    """Decorate a ``fit`` method so that it runs under :func:`keep_fitted_state_on_error`.

    For fits made of several steps (a meta-estimator's inner fit, pruning and
    retraining; CPNA's path and its refit): any step that fails puts the whole
    estimator back as it was before ``fit``.
    """

    @functools.wraps(fit)
    def guarded(self, *args, **kwargs):
        with keep_fitted_state_on_error(self):
            return fit(self, *args, **kwargs)

    return guarded

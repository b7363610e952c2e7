"""Warnings and errors specific to skconvex."""

from __future__ import annotations

__all__ = ["InconsistentVersionWarning", "TrainingDivergedError"]


class InconsistentVersionWarning(UserWarning):
    """A model pickled under one skconvex version is loaded under another.

    Examples
    --------
    >>> w = InconsistentVersionWarning("GDCClassifier", "0.0.1", "0.1.0")
    >>> print(w)
    Trying to unpickle GDCClassifier from skconvex version 0.0.1 when using version 0.1.0. This might lead to breaking code or invalid results. Use at your own risk.
    """

    def __init__(self, estimator_name: str, original_version: str | None, current_version: str):
        self.estimator_name = estimator_name
        self.original_version = original_version
        self.current_version = current_version

    def __str__(self) -> str:
        return (
            f"Trying to unpickle {self.estimator_name} from skconvex version "
            f"{self.original_version} when using version {self.current_version}. This "
            "might lead to breaking code or invalid results. Use at your own risk."
        )


class TrainingDivergedError(ValueError):
    """Training produced no finite model; the estimator keeps its previous state.

    Raised by ``fit``/``partial_fit`` when the network's weights are not finite at
    the end and no earlier finite weights could be restored. A ``ValueError``, so
    ``GridSearchCV``'s ``error_score`` handles it like any failed fit.

    Examples
    --------
    >>> issubclass(TrainingDivergedError, ValueError)
    True
    """

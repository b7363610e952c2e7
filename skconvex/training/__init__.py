"""The one training loop and the strategies plugged into it (no scikit-learn here)."""

from .loop import History, per_sample_errors, train
from .strategies import (
    AUTO_LAMBDA_SPREAD,
    AdaptiveLambda,
    ConstantNRAE,
    GradualDeconvexification,
    MeanLoss,
    Strategy,
    auto_lambda,
)

__all__ = [
    "AUTO_LAMBDA_SPREAD",
    "AdaptiveLambda",
    "ConstantNRAE",
    "GradualDeconvexification",
    "History",
    "MeanLoss",
    "Strategy",
    "auto_lambda",
    "per_sample_errors",
    "train",
]

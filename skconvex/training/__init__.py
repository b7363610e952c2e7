"""The one training loop and the strategies plugged into it (no scikit-learn here)."""

from .cpna import ConnectionPruning, fsa_count, fsa_schedule
from .rvsm import ADMMSplitting, RelaxedSplitting
from .loop import History, per_sample_errors, train
from .pretraining import BoxProjection, DenoisingAutoencoder, pretrain_denoising
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
    "ADMMSplitting",
    "AUTO_LAMBDA_SPREAD",
    "AdaptiveLambda",
    "BoxProjection",
    "ConnectionPruning",
    "ConstantNRAE",
    "DenoisingAutoencoder",
    "GradualDeconvexification",
    "History",
    "MeanLoss",
    "RelaxedSplitting",
    "Strategy",
    "auto_lambda",
    "fsa_count",
    "fsa_schedule",
    "per_sample_errors",
    "pretrain_denoising",
    "train",
]

"""The one training loop and the strategies plugged into it (no scikit-learn here)."""

from .callbacks import (
    BestWeights,
    Callback,
    Convergence,
    EarlyStopping,
    GradientNormRecorder,
    LearningRateSteps,
    ProgressBar,
    RandomStopping,
    Stagnancy,
    TrainingContext,
    ValidationScore,
    WeightDecay,
)
from .cpna import ConnectionPruning, fsa_count, fsa_schedule
from .rvsm import ADMMSplitting, RelaxedSplitting
from .loop import History, param_groups, per_sample_errors, train
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
    "BestWeights",
    "BoxProjection",
    "Callback",
    "ConnectionPruning",
    "ConstantNRAE",
    "Convergence",
    "DenoisingAutoencoder",
    "EarlyStopping",
    "GradientNormRecorder",
    "GradualDeconvexification",
    "History",
    "LearningRateSteps",
    "MeanLoss",
    "ProgressBar",
    "RandomStopping",
    "RelaxedSplitting",
    "Stagnancy",
    "Strategy",
    "TrainingContext",
    "ValidationScore",
    "WeightDecay",
    "auto_lambda",
    "fsa_count",
    "fsa_schedule",
    "param_groups",
    "per_sample_errors",
    "pretrain_denoising",
    "train",
]

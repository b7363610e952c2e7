"""skconvex: scikit-learn estimators for convexified training and sparsification of neural networks.

Public API
----------
CPNAClassifier
    Connection/node pruning with normalization and annealing; also a feature selector.
GDCClassifier, GDCRegressor
    NRAE/RAE training with gradual deconvexification (and ANRAT's adaptive λ).
StatisticalPruning, GradualStatisticalPruning
    Pruning by the z-test as a post-fit step, with retraining (Algorithms 2 and 3).
RVSMRegressor, RVSMClassifier
    Sparse networks by relaxed variable splitting (ℓ0, ℓ1, transformed ℓ1 thresholds).
PAPER_RECIPE
    The exact settings of the GDC paper's experiments.

Modules: ``skconvex.datasets`` (generators and loaders), ``skconvex.convergence`` (the
interplay paper's bounds and random stopping), ``skconvex.thresholds``,
``skconvex.theory``, ``skconvex.plotting``, ``skconvex.experiments``.
"""

from ._cpna import CPNAClassifier
from ._gdc import PAPER_RECIPE, GDCClassifier, GDCRegressor
from ._rvsm import RVSMClassifier, RVSMRegressor
from ._version import __version__
from .pruning import GradualStatisticalPruning, StatisticalPruning

__all__ = [
    "CPNAClassifier",
    "GDCClassifier",
    "GDCRegressor",
    "GradualStatisticalPruning",
    "PAPER_RECIPE",
    "RVSMClassifier",
    "RVSMRegressor",
    "StatisticalPruning",
    "__version__",
]

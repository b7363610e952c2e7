"""skconvex: scikit-learn estimators for convexified training and sparsification of neural networks.

Public API
----------
GDCClassifier, GDCRegressor
    NRAE/RAE training with gradual deconvexification (and ANRAT's adaptive λ).
PAPER_RECIPE
    The exact settings of the GDC paper's experiments.
"""

from ._gdc import PAPER_RECIPE, GDCClassifier, GDCRegressor
from ._version import __version__

__all__ = ["GDCClassifier", "GDCRegressor", "PAPER_RECIPE", "__version__"]

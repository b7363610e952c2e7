"""Pruning as a post-fit step: statistical pruning (SP) and gradual statistical pruning (GSP).

The meta-estimators wrap any skconvex network estimator; the z-statistics are in
:mod:`skconvex.pruning.zstatistics` (pure torch) and the masks they set in
:mod:`skconvex.nn.masks`.
"""

from ._statistical import GradualStatisticalPruning, StatisticalPruning
from .zstatistics import z_statistics

__all__ = ["GradualStatisticalPruning", "StatisticalPruning", "z_statistics"]

"""scikit-learn's estimator checks over every schedule and criterion, no xfail.

Small settings keep the suite fast. ``dtype="float64"`` makes a weighted fit equal a
fit on repeated rows up to float rounding, which is what
``check_sample_weight_equivalence_on_dense_data`` measures (rtol 1e-7): in float32
the network's own rounding after a few hundred steps is larger than that. For the
same reason the large-λ instances keep λ₀ moderate: at λ₀ = 1e4 the minimax dynamics
amplify a 1e-16 difference in summation order by λ at every step (tests/test_gdc.py
checks weighted = repeated there over a few epochs instead).
"""

from __future__ import annotations

import warnings

import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import parametrize_with_checks

from skconvex import GDCClassifier, GDCRegressor

SMALL = dict(
    hidden_layer_sizes=(16,), max_iter=100, learning_rate_init=0.01, random_state=0, dtype="float64"
)

ESTIMATORS = [
    *(
        GDCClassifier(criterion=criterion, schedule=schedule, **SMALL)
        for schedule in ("gdc", "constant", "adaptive", "none")
        for criterion in ("sse", "cross_entropy", "true_class_squared")
    ),
    GDCClassifier(schedule="gdc", normalizer="global", lambda_init=100.0, **SMALL),
    GDCClassifier(
        schedule="gdc", fast_gradient=True, lambda_init=1e4, lambda_patience=1, lambda_decay=0.5, **SMALL
    ),
    *(GDCRegressor(schedule=schedule, **SMALL) for schedule in ("gdc", "constant", "adaptive", "none")),
    GDCRegressor(schedule="gdc", normalizer="global", lambda_init=100.0, **SMALL),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)

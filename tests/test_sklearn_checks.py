"""scikit-learn's estimator checks: every public estimator with its defaults, and
small float64 configurations over every schedule and criterion.

``DEFAULTS`` holds every public estimator constructed with no arguments (the
meta-estimators around a default inner estimator); they pass the whole suite except
two precision checks in float32, the default dtype, marked per instance with the
reason below and run again in float64 by ``test_float32_marks_pass_in_float64``.

Expected failures, with their reasons:

* weighted = repeated rows under dropout or denoising corruption (per-row random
  masks);
* in float32 only, ``check_sample_weight_equivalence_on_dense_data`` (rtol 1e-7) and
  ``check_methods_subset_invariance`` (atol 1e-7): float32 rounds at about 6e-8, a
  weighted fit sums its batch in another order than the repeated rows, and a forward
  pass over a subset rounds differently from one over the whole batch (the matrix
  products block differently). Both are float rounding, not a difference in the
  model: the same checks pass in float64.

Small settings keep the rest fast. ``dtype="float64"`` makes a weighted fit equal a
fit on repeated rows up to float rounding. For the same reason the large-λ instances
keep λ₀ moderate: at λ₀ = 1e4 the minimax dynamics amplify a 1e-16 difference in
summation order by λ at every step (tests/test_gdc.py checks weighted = repeated there
over a few epochs instead).
"""

from __future__ import annotations

import warnings

import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import (
    check_methods_subset_invariance,
    check_sample_weight_equivalence_on_dense_data,
    parametrize_with_checks,
)

from skconvex import (
    CPNAClassifier,
    GDCClassifier,
    GDCRegressor,
    GradualStatisticalPruning,
    RVSMClassifier,
    RVSMRegressor,
    StatisticalPruning,
)

SMALL = dict(
    hidden_layer_sizes=(16,), max_iter=100, learning_rate_init=0.01, random_state=0, dtype="float64"
)

ESTIMATORS = [
    # Every schedule and every criterion, each criterion with GDC's own schedule; the
    # full product adds six more runs of the ~60 checks for no new code path.
    *(GDCClassifier(criterion=criterion, **SMALL) for criterion in ("sse", "cross_entropy", "true_class_squared")),
    GDCClassifier(criterion="cross_entropy", schedule="constant", **SMALL),
    GDCClassifier(criterion="sse", schedule="adaptive", **SMALL),
    GDCClassifier(criterion="true_class_squared", schedule="none", **SMALL),
    GDCClassifier(schedule="gdc", normalizer="global", lambda_init=100.0, **SMALL),
    GDCClassifier(
        schedule="gdc", fast_gradient=True, lambda_init=1e4, lambda_patience=1, lambda_decay=0.5, **SMALL
    ),
    *(GDCRegressor(schedule=schedule, **SMALL) for schedule in ("gdc", "constant", "adaptive", "none")),
    GDCRegressor(schedule="gdc", normalizer="global", lambda_init=100.0, **SMALL),
]

# The pruning meta-estimators around small GDC nets. GSP holds out its default tenth
# of the rows: the hold-out is a function of the data (a hash of each row), so it does
# not depend on the order of the rows and a weight of k equals k copies of a row,
# which two of the checks measure. The paper's z-statistic is of order 1e-4 on a
# converged net (it is proportional to ∂P/∂w), so its instances use critical values
# of that order; z_c = 1 would prune everything.
GRID = dict(z_start=0.5, z_max=1.5, z_step=0.5, retrain_epochs=2, random_state=0)
PAPER_GRID = dict(z_start=1e-4, z_max=3e-4, z_step=1e-4, retrain_epochs=2, random_state=0)
META = [
    StatisticalPruning(
        GDCClassifier(**SMALL), z_crit=1e-4, retrain_epochs=2, variance="paper", random_state=0
    ),
    StatisticalPruning(GDCRegressor(**SMALL), z_crit=1.0, retrain_epochs=2, random_state=0),
    GradualStatisticalPruning(GDCClassifier(criterion="cross_entropy", **SMALL), **GRID),
    GradualStatisticalPruning(GDCRegressor(**SMALL), variance="paper", **PAPER_GRID),
    GradualStatisticalPruning(GDCClassifier(**SMALL), validation_fraction=None, **GRID),
]
ESTIMATORS += META

# CPNA: connections of both layers (features selected), and the node variant without
# normalization (CPA). Iterations are epochs; a short schedule keeps the checks fast.
CPNA_SMALL = dict(
    hidden_layer_sizes=(16,), pretrain_iter=20, prune_iter=10, learning_rate_init=0.01,
    random_state=0, dtype="float64",
)
ESTIMATORS += [
    CPNAClassifier(n_connections={"hidden": 0.5, "input": 0.75}, **CPNA_SMALL),
    CPNAClassifier(
        n_connections={"hidden": 8}, prune="nodes", normalize=False, alpha=0.0, **CPNA_SMALL
    ),
]


# RVSM: ℓ0 on an MLP for both tasks; transformed ℓ1 with the ADMM baseline for the classifier.
RVSM_SMALL = dict(hidden_layer_sizes=(16,), max_iter=100, lam=1e-4, random_state=0, dtype="float64")
ESTIMATORS += [
    RVSMRegressor(**RVSM_SMALL),
    RVSMClassifier(**RVSM_SMALL),
    RVSMClassifier(penalty="tl1", method="admm", **RVSM_SMALL),
]

# The interplay paper's training: random stopping, denoising pretraining, dropout.
# Pretraining weighs its reconstruction error with sample_weight, so without random
# corruption a weighted fit equals the repeated-rows fit.
ESTIMATORS += [
    GDCClassifier(criterion="cross_entropy", stopping="random", record_grad_norm=True, **SMALL),
    GDCRegressor(pretrain="denoising", denoising_rate=1.0, pretrain_iter=2, record_grad_norm=True, **SMALL),
    GDCClassifier(pretrain="denoising", denoising_rate=0.8, dropout=0.2, pretrain_iter=2, **SMALL),
]


# Every public estimator with its defaults (float32).
DEFAULTS = [
    GDCClassifier(),
    GDCRegressor(),
    CPNAClassifier(),
    RVSMClassifier(),
    RVSMRegressor(),
    StatisticalPruning(GDCClassifier()),
    StatisticalPruning(GDCRegressor()),
    GradualStatisticalPruning(GDCClassifier()),
    GradualStatisticalPruning(GDCRegressor()),
]
ESTIMATORS += DEFAULTS

FLOAT32_ROUNDING = (
    "float32 rounds at about 6e-8, above the check's tolerance of 1e-7 after training: "
    "weighted rows sum in another order than repeated ones, and a forward pass over a "
    "subset blocks its matrix products differently from one over the whole batch. The "
    "same check passes in float64 (test_float32_marks_pass_in_float64)."
)
# Exactly the float32 checks each default instance fails (measured).
FLOAT32_FAILS = {
    "GDCClassifier()": ("check_sample_weight_equivalence_on_dense_data", "check_methods_subset_invariance"),
    "GDCRegressor()": ("check_sample_weight_equivalence_on_dense_data", "check_methods_subset_invariance"),
    "CPNAClassifier()": ("check_sample_weight_equivalence_on_dense_data", "check_methods_subset_invariance"),
    "RVSMClassifier()": ("check_sample_weight_equivalence_on_dense_data", "check_methods_subset_invariance"),
    "RVSMRegressor()": ("check_sample_weight_equivalence_on_dense_data", "check_methods_subset_invariance"),
    "StatisticalPruning(estimator=GDCClassifier())": ("check_sample_weight_equivalence_on_dense_data",),
    "StatisticalPruning(estimator=GDCRegressor())": (),  # within 1e-7 in float32 too
    "GradualStatisticalPruning(estimator=GDCClassifier())": (
        "check_sample_weight_equivalence_on_dense_data", "check_methods_subset_invariance",
    ),
    "GradualStatisticalPruning(estimator=GDCRegressor())": (
        "check_sample_weight_equivalence_on_dense_data", "check_methods_subset_invariance",
    ),
}


def _expected_failed_checks(estimator):
    if repr(estimator) in FLOAT32_FAILS:  # a default instance
        return {check: FLOAT32_ROUNDING for check in FLOAT32_FAILS[repr(estimator)]}
    corrupts = getattr(estimator, "pretrain", None) is not None and estimator.denoising_rate < 1
    if getattr(estimator, "dropout", 0) > 0 or corrupts:
        return {
            "check_sample_weight_equivalence_on_dense_data": (
                "Dropout and denoising corruption draw an independent mask per row, so a "
                "repeated row gets two masks where a weighted row gets one: the fits "
                "differ by design, like any stochastic per-row regularizer."
            )
        }
    return {}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failed_checks)
def test_sklearn_compatible(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)


def _in_float64(estimator):
    estimator = clone(estimator)
    key = "estimator__dtype" if "estimator" in estimator.get_params() else "dtype"
    return estimator.set_params(**{key: "float64"})


@pytest.mark.parametrize(
    "estimator, check",
    [
        (estimator, check)
        for estimator in DEFAULTS
        for check in (check_sample_weight_equivalence_on_dense_data, check_methods_subset_invariance)
        if check.__name__ in FLOAT32_FAILS[repr(estimator)]
    ],
    ids=lambda value: value.__name__ if callable(value) and not hasattr(value, "fit") else repr(value),
)
def test_float32_marks_pass_in_float64(estimator, check):
    # The defaults with only the dtype changed pass the checks marked in float32.
    assert repr(estimator) in FLOAT32_FAILS
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(type(estimator).__name__, _in_float64(estimator))

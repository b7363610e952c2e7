"""Convergence bounds of random-stopping SGD for sigmoid networks (the interplay paper).

V. K. Ithapu, S. N. Ravi, V. Singh, *On the interplay of network structure and
gradient convergence in deep learning* (arXiv 1511.05297). Each function is one of
the paper's results, named with its equation; ``docs/convergence.md`` explains them
and how the ambiguous places were read.

Random stopping (eq. 6; Ghadimi & Lan 2013)
    :func:`random_stopping_pmf`, :func:`draw_stopping_iteration`,
    :func:`random_stopping_bound`.
Single-layer networks (Section III)
    :func:`single_layer_variance` (``e^s``), :func:`single_layer_step_factor`
    (``e_γ^s``), :func:`single_layer_bound` (eq. 7), :func:`single_layer_optimal_step`
    (``γ_o``), :func:`decaying_step_bound` (eq. 8) with
    :func:`generalized_harmonic_number`, :func:`iterations_for_solution` (eq. 9).
Denoising-autoencoder pretraining (Section IV)
    :func:`data_moments` (``μ_x``, ``τ_x``), :func:`denoising_variance` (eq. 10),
    :func:`denoising_bound` (eq. 11), :func:`denoising_optimal_step`.
Multi-layer networks (Sections V and VI)
    :func:`multilayer_variances` (``e_l^m``), :func:`multilayer_step_factor`
    (``e_γ^m``), :func:`pretrained_multilayer_bound` (eq. 12),
    :func:`dropout_multilayer_bound` (eq. 13), :func:`optimal_keep_probability`.
Guidance
    :func:`suggest_training_parameters`.

Conventions: the loss is the squared error summed over the outputs and averaged over
samples, without ½ (eqs. 3–5; skconvex's ``"sse"`` criterion); steps ``γ`` act as
``W ← W − γ G``; bounds are on the expected squared Frobenius norm of the gradient
over all weights; ``N`` counts iterations (updates), ``B`` samples per batch; the
paper's denoising and dropout "rates" ``ζ`` are *keep* probabilities.
"""

from ._multilayer import (
    dropout_multilayer_bound,
    multilayer_step_factor,
    multilayer_variances,
    optimal_keep_probability,
    pretrained_multilayer_bound,
)
from ._pretraining import (
    DataMoments,
    data_moments,
    denoising_bound,
    denoising_optimal_step,
    denoising_variance,
)
from ._single_layer import (
    SINGLE_LAYER_LIPSCHITZ,
    decaying_step_bound,
    generalized_harmonic_number,
    iterations_for_solution,
    single_layer_bound,
    single_layer_optimal_step,
    single_layer_step_factor,
    single_layer_variance,
)
from ._stopping import draw_stopping_iteration, random_stopping_bound, random_stopping_pmf
from ._suggest import TrainingSuggestion, suggest_training_parameters

__all__ = [
    "SINGLE_LAYER_LIPSCHITZ",
    "DataMoments",
    "TrainingSuggestion",
    "data_moments",
    "decaying_step_bound",
    "denoising_bound",
    "denoising_optimal_step",
    "denoising_variance",
    "draw_stopping_iteration",
    "dropout_multilayer_bound",
    "generalized_harmonic_number",
    "iterations_for_solution",
    "multilayer_step_factor",
    "multilayer_variances",
    "optimal_keep_probability",
    "pretrained_multilayer_bound",
    "random_stopping_bound",
    "random_stopping_pmf",
    "single_layer_bound",
    "single_layer_optimal_step",
    "single_layer_step_factor",
    "single_layer_variance",
    "suggest_training_parameters",
]

"""skconvex.convergence against the interplay paper (Ithapu, Ravi & Singh, arXiv 1511.05297).

Every formula is checked against values worked out by hand from the paper's
statement (eqs. 6-13, Theorems III.1 and IV.1, Corollaries III.2, III.3, V.1 and
VI.1), the worked example after Corollary III.3, and the limits the remarks state.
The random-stopping sampler is checked against P_R with a fixed seed.
"""

from __future__ import annotations

import math
import warnings
from fractions import Fraction

import numpy as np
import pytest
import scipy.sparse as sp
from scipy import stats
from scipy.optimize import minimize_scalar

from skconvex import convergence as cv
from skconvex.convergence import (
    SINGLE_LAYER_LIPSCHITZ,
    data_moments,
    decaying_step_bound,
    denoising_bound,
    denoising_optimal_step,
    denoising_variance,
    draw_stopping_iteration,
    dropout_multilayer_bound,
    generalized_harmonic_number,
    iterations_for_solution,
    multilayer_step_factor,
    multilayer_variances,
    optimal_keep_probability,
    pretrained_multilayer_bound,
    random_stopping_bound,
    random_stopping_pmf,
    single_layer_bound,
    single_layer_optimal_step,
    single_layer_step_factor,
    single_layer_variance,
    suggest_training_parameters,
)

TIGHT = 1e-13

# The worked example after Corollary III.3.
EXAMPLE = dict(epsilon=0.05, delta=0.05, n_runs=10, batch_size=50, n_features=100,
               n_outputs=5, initial_loss=5.0)


def single(**kw):
    base = dict(initial_gap=5.0, n_iter=1000, batch_size=50, learning_rate=0.1,
                n_features=100, n_outputs=5)
    return {**base, **kw}


# --------------------------------------------------------------------------- eq. 6


def test_pmf_is_uniform_for_a_constant_step():
    for n, step in [(1, 0.3), (7, 1.2), (1000, 0.05)]:
        pmf = random_stopping_pmf([step] * n, lipschitz=13 / 8)
        assert pmf.shape == (n,)
        assert np.all(pmf == 1.0 / n)


def test_pmf_by_hand():
    # γ = 1, 1/2, 1/3 and L = 13/8: weights γ(1 − 13γ/16) = 3/16, 19/64, 35/144.
    weights = [Fraction(3, 16), Fraction(19, 64), Fraction(35, 144)]
    total = sum(weights)
    pmf = random_stopping_pmf([1.0, 1 / 2, 1 / 3], lipschitz=13 / 8)
    assert pmf.tolist() == pytest.approx([float(w / total) for w in weights], rel=TIGHT)


def test_pmf_of_corollary_III_2():
    gamma, rho, n = 0.8, 0.6, 50
    steps = gamma / np.arange(1, n + 1) ** rho
    p = steps * (1 - 13 / 16 * steps)  # p_R^k of Corollary III.2
    pmf = random_stopping_pmf(steps, SINGLE_LAYER_LIPSCHITZ)
    np.testing.assert_allclose(pmf, p / p.sum(), rtol=TIGHT)
    assert pmf.sum() == pytest.approx(1.0, abs=1e-15)


def test_strong_decay_stops_early():
    # Remark after Corollary III.2: large ρ makes p_R^k decrease in k, so R ≪ N.
    n = 1000
    k = np.arange(1, n + 1)
    mean_r = [float(k @ random_stopping_pmf(0.5 / k**rho, 13 / 8)) for rho in (0.0, 1.0, 2.0)]
    assert mean_r[0] == pytest.approx((n + 1) / 2)
    assert mean_r[0] > mean_r[1] > mean_r[2]
    assert mean_r[2] < n / 100


@pytest.mark.parametrize(
    "steps, lipschitz, match",
    [
        ([0.5, 1.0], 2.0, r"step_sizes must all be < 2/lipschitz = 1.*step_sizes\[1\]"),
        ([0.5, 1.3], 2.0, r"step_sizes\[1\]"),
        ([0.5, 0.0], 2.0, "step_sizes must be positive"),
        ([0.5, -0.1], 2.0, "step_sizes must be positive"),
        ([0.5, np.nan], 2.0, "step_sizes must be positive and finite"),
        ([], 2.0, "step_sizes must be a non-empty 1-D"),
        ([[0.1, 0.1]], 2.0, "step_sizes must be a non-empty 1-D"),
        (0.1, 2.0, "'step_sizes' parameter"),
        ([0.1], 0.0, "'lipschitz' parameter"),
        ([0.1], -1.0, "'lipschitz' parameter"),
    ],
)
def test_pmf_validation(steps, lipschitz, match):
    with pytest.raises(ValueError, match=match):
        random_stopping_pmf(steps, lipschitz)


def test_draw_is_reproducible_and_one_based():
    pmf = random_stopping_pmf(0.9 / np.arange(1, 101) ** 0.7, 13 / 8)
    r = draw_stopping_iteration(pmf, random_state=42)
    assert isinstance(r, int) and 1 <= r <= 100
    assert all(draw_stopping_iteration(pmf, 42) == r for _ in range(5))
    gen = [draw_stopping_iteration(pmf, np.random.default_rng(7)) for _ in range(3)]
    assert gen == [gen[0]] * 3
    states = [np.random.RandomState(3), np.random.RandomState(3)]
    assert draw_stopping_iteration(pmf, states[0]) == draw_stopping_iteration(pmf, states[1])
    # A distribution on one iteration always returns it, 1-based.
    assert draw_stopping_iteration([1.0, 0.0, 0.0], 0) == 1
    assert set(draw_stopping_iteration([0.0, 0.0, 1.0], 0, size=50).tolist()) == {3}
    # Zero-probability iterations are never drawn.
    draws = draw_stopping_iteration([0.5, 0.0, 0.5], 1, size=1000)
    assert set(draws.tolist()) == {1, 3}


def test_sequential_draws_equal_one_vector_of_draws():
    pmf = random_stopping_pmf(np.full(20, 0.1), 13 / 8)
    rng_a, rng_b = np.random.default_rng(11), np.random.default_rng(11)
    one_by_one = [draw_stopping_iteration(pmf, rng_a) for _ in range(200)]
    assert draw_stopping_iteration(pmf, rng_b, size=200).tolist() == one_by_one


def test_empirical_distribution_of_R_matches_P_R():
    n, draws = 12, 120_000
    pmf = random_stopping_pmf(1.1 / np.arange(1, n + 1) ** 0.8, 13 / 8)
    r = draw_stopping_iteration(pmf, np.random.default_rng(2024), size=draws)
    counts = np.bincount(r, minlength=n + 1)[1:]
    # Exact: the draws are the inverse CDF of the same uniforms.
    u = np.random.default_rng(2024).random(draws)
    expected_r = np.searchsorted(np.cumsum(pmf) / pmf.sum(), u, side="right") + 1
    assert np.array_equal(r, expected_r)
    # Statistical: Pearson's chi-square, far from rejection at the fixed seed.
    chi2, p_value = stats.chisquare(counts, draws * pmf)
    assert chi2 < stats.chi2.ppf(0.999, df=n - 1)
    assert p_value > 0.01
    # Uniform for a constant step.
    r = draw_stopping_iteration(random_stopping_pmf([0.2] * n, 13 / 8), 5, size=draws)
    counts = np.bincount(r, minlength=n + 1)[1:]
    assert stats.chisquare(counts).pvalue > 0.01


@pytest.mark.parametrize(
    "pmf, kwargs, match",
    [
        ([0.5, 0.6], {}, "pmf must sum to 1"),
        ([1.2, -0.2], {}, "pmf must be non-negative"),
        ([], {}, "pmf must be a non-empty 1-D"),
        ([0.5, 0.5], {"size": 0}, "size must be None or an int >= 1"),
        ([0.5, 0.5], {"size": 2.0}, "size must be None or an int >= 1"),
        ([0.5, 0.5], {"random_state": "seed"}, "cannot be used to seed"),
    ],
)
def test_draw_validation(pmf, kwargs, match):
    with pytest.raises(ValueError, match=match):
        draw_stopping_iteration(pmf, **kwargs)


def test_random_stopping_bound_by_hand():
    # (5 + (25/50)(100 · 0.01)) / (100 · 0.1 · (1 − 13/160)) = 5.5 / 9.1875.
    value = random_stopping_bound([0.1] * 100, initial_gap=5.0, batch_size=50,
                                  variance=25.0, lipschitz=13 / 8)
    assert value == pytest.approx(5.5 / 9.1875, rel=TIGHT)


def test_random_stopping_bound_is_eq_7_for_a_constant_step():
    e_s = single_layer_variance(100, 5)
    for gamma in (0.01, 0.1, 1.0):
        general = random_stopping_bound([gamma] * 1000, initial_gap=5.0, batch_size=50,
                                        variance=e_s, lipschitz=SINGLE_LAYER_LIPSCHITZ)
        assert general == pytest.approx(single_layer_bound(**single(learning_rate=gamma)),
                                        rel=1e-12)


def test_random_stopping_bound_is_below_eq_8():
    e_s = single_layer_variance(100, 5)
    for gamma, rho in [(1.0, 0.5), (0.5, 0.2), (0.3, 1.5)]:
        steps = gamma / np.arange(1, 1001) ** rho
        general = random_stopping_bound(steps, initial_gap=5.0, batch_size=50, variance=e_s,
                                        lipschitz=13 / 8)
        assert general <= decaying_step_bound(**single(learning_rate=gamma, decay=rho))


# ------------------------------------------------------------------- Theorem III.1


def test_single_layer_constants_by_hand():
    assert single_layer_variance(100, 5) == 25.390625  # 13 · 500 / 256
    assert single_layer_variance(1, 1) == 13 / 256
    assert single_layer_step_factor(0.16) == pytest.approx(0.87, rel=TIGHT)
    assert single_layer_step_factor(16 / 13 * 0.5) == pytest.approx(0.5, rel=TIGHT)
    assert SINGLE_LAYER_LIPSCHITZ == 1.625


def test_eq_7_by_hand():
    # (5/(1000 · 0.1) + 25.390625 · 0.1/50) / (1 − 1.3/16) = 0.10078125 / 0.91875.
    assert single_layer_bound(**single()) == pytest.approx(0.10078125 / 0.91875, rel=TIGHT)
    # D_f = 0: only the variance term.
    assert single_layer_bound(**single(initial_gap=0.0)) == pytest.approx(
        0.05078125 / 0.91875, rel=TIGHT
    )


def test_eq_7_trends():
    base = single_layer_bound(**single())
    assert single_layer_bound(**single(n_iter=2000)) < base  # more iterations
    assert single_layer_bound(**single(batch_size=100)) < base  # larger batches
    assert single_layer_bound(**single(n_features=200)) > base  # fatter networks
    # Network size matters less for large batches: the variance term is e^s γ / B.
    small, large = dict(n_features=10), dict(n_features=1000)
    gap_b = [single_layer_bound(**single(batch_size=b, **large))
             - single_layer_bound(**single(batch_size=b, **small)) for b in (10, 10_000)]
    assert gap_b[1] < gap_b[0] / 100


def test_optimal_step_by_hand_and_balance():
    n = 7842
    gamma_o = single_layer_optimal_step(initial_loss=5.0, n_iter=n, batch_size=50,
                                        n_features=100, n_outputs=5)
    assert gamma_o == pytest.approx(math.sqrt(50 * 5 / (25.390625 * n)), rel=TIGHT)
    # γ_o balances the two terms of (7).
    assert 5.0 / (n * gamma_o) == pytest.approx(25.390625 * gamma_o / 50, rel=TIGHT)


def test_bound_at_optimal_step_decays_as_one_over_sqrt_n():
    def at(n):
        g = single_layer_optimal_step(initial_loss=5.0, n_iter=n, batch_size=50,
                                      n_features=100, n_outputs=5)
        return single_layer_bound(**single(initial_gap=5.0, n_iter=n, learning_rate=g))

    assert at(4 * 10**8) / at(10**8) == pytest.approx(0.5, rel=1e-3)
    # ... and grows as sqrt(d_x d_y) at fixed N (for large N, e_γ → 1).
    def at_size(dx):
        g = single_layer_optimal_step(initial_loss=5.0, n_iter=10**10, batch_size=50,
                                      n_features=dx, n_outputs=5)
        return single_layer_bound(**single(n_iter=10**10, learning_rate=g, n_features=dx))

    assert at_size(400) / at_size(100) == pytest.approx(2.0, rel=1e-3)


def test_exact_optimal_step_minimizes_eq_7():
    for n, b in [(100, 10), (7842, 50), (10**6, 500)]:
        kw = dict(initial_loss=5.0, n_iter=n, batch_size=b, n_features=100, n_outputs=5)
        exact = single_layer_optimal_step(**kw, exact=True)
        res = minimize_scalar(
            lambda g: single_layer_bound(**single(n_iter=n, batch_size=b, learning_rate=g)),
            bounds=(1e-9, 16 / 13 - 1e-9), method="bounded", options={"xatol": 1e-12},
        )
        assert exact == pytest.approx(res.x, rel=1e-5)
        assert exact <= 8 / 13
    kw = dict(initial_loss=5.0, n_iter=10**12, batch_size=50, n_features=100, n_outputs=5)
    assert single_layer_optimal_step(**kw, exact=True) == pytest.approx(
        single_layer_optimal_step(**kw), rel=1e-4
    )


# ------------------------------------------------------------------ Corollary III.2


def test_generalized_harmonic_numbers():
    assert generalized_harmonic_number(4, 1.0) == pytest.approx(25 / 12, rel=1e-15)
    assert generalized_harmonic_number(3, 2) == pytest.approx(49 / 36, rel=1e-15)
    assert generalized_harmonic_number(12345, 0.0) == 12345.0
    assert generalized_harmonic_number(1, 3.5) == 1.0
    # Euler–Maclaurin beyond 10^4 against an exact sum.
    for n in (10_001, 123_457):
        for theta in (0.25, 0.5, 1.0, 1.5, 2.0, 3.0):
            exact = math.fsum(i ** -theta for i in range(1, n + 1))
            assert generalized_harmonic_number(n, theta) == pytest.approx(exact, rel=1e-14)
    # H_N(2) → π²/6 − 1/N.
    assert generalized_harmonic_number(10**9, 2.0) == pytest.approx(
        math.pi**2 / 6 - 1e-9, rel=1e-14
    )


def test_eq_8_by_hand():
    # N = 4, ρ = 1, γ = 1/2, B = 10, D_f = 2, d_x = 10, d_y = 2:
    # e^s = 260/256, H_4(1) = 25/12, H_4(2) = 205/144.
    e_s = Fraction(260, 256)
    h1, h2 = Fraction(25, 12), Fraction(205, 144)
    gamma = Fraction(1, 2)
    expected = Fraction(16, 3) / h1 * (2 / gamma + e_s * gamma * h2 / 10)
    value = decaying_step_bound(initial_gap=2.0, n_iter=4, batch_size=10, learning_rate=0.5,
                                decay=1.0, n_features=10, n_outputs=2)
    assert value == pytest.approx(float(expected), rel=TIGHT)


def test_eq_8_as_rho_goes_to_zero():
    # H_N(ρ) → N: (8) → (16/3) e_γ^s · (7), at least as large as (7) (remark).
    for gamma in (0.05, 0.5, 1.0):
        at_zero = decaying_step_bound(**single(learning_rate=gamma, decay=0.0))
        eq7 = single_layer_bound(**single(learning_rate=gamma))
        assert at_zero == pytest.approx(16 / 3 * single_layer_step_factor(gamma) * eq7,
                                        rel=TIGHT)
        assert at_zero >= eq7
        assert decaying_step_bound(**single(learning_rate=gamma, decay=1e-9)) == pytest.approx(
            at_zero, rel=1e-6
        )


def test_eq_8_first_decreases_then_increases_in_rho():
    values = [decaying_step_bound(**single(learning_rate=0.5, decay=rho))
              for rho in (0.0, 0.1, 0.2, 0.3, 0.5, 1.0, 2.0)]
    assert values[0] > values[1] > values[2] > values[3]
    assert values[3] < values[4] < values[5] < values[6]


def test_eq_8_needs_gamma_at_most_one():
    with pytest.raises(ValueError, match="'learning_rate' parameter of decaying_step_bound"):
        decaying_step_bound(**single(learning_rate=1.01, decay=0.5))
    decaying_step_bound(**single(learning_rate=1.0, decay=0.5))


# ----------------------------------------------------------------- Corollary III.3


def test_worked_example_after_corollary_III_3():
    n = iterations_for_solution(**EXAMPLE)
    root = 0.05 ** 0.1
    delta_bar = 13 * 50 * 0.05 * root / (32 * 25.390625)
    by_hand = 4 * 5 * 25.390625 / (50 * root**2 * 0.05**2) * (1 + delta_bar) ** 2
    assert n == pytest.approx(by_hand, rel=TIGHT)
    assert 7.8e3 < n < 7.9e3  # "N > 7.8 × 10^3"
    # With C = 200 epochs and S C ≈ B N: "~2000 instances".
    assert 50 * n / 200 == pytest.approx(1960, abs=1)


def test_eq_9_is_where_eq_7_at_gamma_o_reaches_epsilon_delta_to_the_1_over_t():
    theta = 0.05 * 0.05 ** 0.1
    n = iterations_for_solution(**EXAMPLE)

    def bound_at(n_iter):
        g = single_layer_optimal_step(initial_loss=5.0, n_iter=n_iter, batch_size=50,
                                      n_features=100, n_outputs=5)
        return single_layer_bound(**single(n_iter=n_iter, learning_rate=g))

    assert bound_at(math.ceil(n)) <= theta < bound_at(math.floor(n))
    assert bound_at(math.ceil(n)) == pytest.approx(theta, rel=1e-4)


def test_eq_9_trends():
    base = iterations_for_solution(**EXAMPLE)
    assert iterations_for_solution(**{**EXAMPLE, "n_features": 200}) > base
    assert iterations_for_solution(**{**EXAMPLE, "initial_loss": 10.0}) > base
    assert iterations_for_solution(**{**EXAMPLE, "epsilon": 0.01}) > base
    assert iterations_for_solution(**{**EXAMPLE, "delta": 0.01}) > base


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"delta": 1.0}, "'delta' parameter"),
        ({"delta": 0.0}, "'delta' parameter"),
        ({"epsilon": 0.0}, "'epsilon' parameter"),
        ({"n_runs": 0}, "'n_runs' parameter"),
        ({"batch_size": 2.5}, "'batch_size' parameter"),
        ({"initial_loss": -1.0}, "'initial_loss' parameter"),
    ],
)
def test_eq_9_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        iterations_for_solution(**{**EXAMPLE, **kwargs})


@pytest.mark.parametrize(
    "func, kwargs, match",
    [
        (single_layer_bound, {"learning_rate": 16 / 13}, "learning_rate must be < 1.23077"),
        (single_layer_bound, {"n_iter": 0}, "'n_iter' parameter"),
        (single_layer_bound, {"initial_gap": -0.1}, "'initial_gap' parameter"),
        (single_layer_bound, {"n_features": 0}, "'n_features' parameter"),
        (single_layer_bound, {"learning_rate": np.inf}, "'learning_rate' parameter"),
    ],
)
def test_single_layer_validation(func, kwargs, match):
    with pytest.raises(ValueError, match=match):
        func(**single(**kwargs))
    with pytest.raises(ValueError, match="learning_rate must be < 1.23077"):
        single_layer_step_factor(1.3)


# ------------------------------------------------------------------- Theorem IV.1


def test_data_moments_by_hand():
    assert data_moments([[0.0, 1.0], [1.0, 1.0]]) == (0.75, 0.625)
    m = data_moments([[0.0, 10.0, 3.0], [4.0, 30.0, 3.0]], scale=True)
    assert m.mu_x == pytest.approx(1 / 3) and m.tau_x == pytest.approx(1 / 6)  # constant → 0
    X = np.random.default_rng(0).random((500, 40)) ** 2
    m = data_moments(X)
    means = X.mean(axis=0)
    assert m.mu_x == pytest.approx(means.mean(), rel=TIGHT)
    assert m.tau_x == pytest.approx((means**2).mean(), rel=TIGHT)
    assert m.mu_x**2 <= m.tau_x <= m.mu_x
    assert data_moments(sp.csr_matrix(X)) == (pytest.approx(m.mu_x), pytest.approx(m.tau_x))
    assert data_moments(sp.csc_matrix(X * 7 - 1), scale=True) == (
        pytest.approx(data_moments(X * 7 - 1, scale=True).mu_x),
        pytest.approx(data_moments(X * 7 - 1, scale=True).tau_x),
    )
    with pytest.raises(ValueError, match=r"X must lie in \[0, 1\]"):
        data_moments(X + 0.5)
    with pytest.raises(ValueError, match="X must lie"):
        data_moments(-X)
    with pytest.raises(ValueError):
        data_moments([[np.nan, 0.5]])


def test_eq_10_by_hand_and_limits():
    # d_x = 100, d_h = 50, ζ = 0.5, w_m = 0.1: ζ d_x w_m = 5,
    # 312.5 · (1 + (5/4) 0.5 + (5/32 − 1/16) · 25 · 0.3) = 312.5 · 2.328125.
    value = denoising_variance(100, 50, denoising_rate=0.5, box_bound=0.1, mu_x=0.5, tau_x=0.3)
    assert value == pytest.approx(727.5390625, rel=TIGHT)
    da = dict(denoising_rate=0.7, box_bound=0.2)
    # "Small data moments": e^da = d_x d_h / 16.
    assert denoising_variance(100, 50, **da, mu_x=0.0, tau_x=0.0) == 312.5
    # "Large denoising rate" (ζ ≪ 1): e^da ≈ d_x d_h / 16.
    assert denoising_variance(100, 50, denoising_rate=1e-9, box_bound=0.2, mu_x=0.9,
                              tau_x=0.85) == pytest.approx(312.5, rel=1e-6)
    # Grows with the box, the moments and the keep probability.
    base = denoising_variance(100, 50, **da, mu_x=0.5, tau_x=0.3)
    assert denoising_variance(100, 50, denoising_rate=0.7, box_bound=0.4, mu_x=0.5,
                              tau_x=0.3) > base
    assert denoising_variance(100, 50, **da, mu_x=0.6, tau_x=0.4) > base
    assert denoising_variance(100, 50, denoising_rate=0.9, box_bound=0.2, mu_x=0.5,
                              tau_x=0.3) > base
    # The visible length counts more than the hidden one (remark after Theorem IV.1).
    assert denoising_variance(200, 50, **da, mu_x=0.5, tau_x=0.3) > denoising_variance(
        100, 100, **da, mu_x=0.5, tau_x=0.3
    )


DA = dict(initial_gap=100.0, n_iter=10_000, batch_size=100, lipschitz=10.0, n_visible=100,
          n_hidden=50, denoising_rate=0.5, box_bound=0.1, mu_x=0.5, tau_x=0.3)


def test_eq_11_by_hand_and_limit():
    # γ = 0.01, U = 10: e_γ^da = 0.95; 100/(10^4 · 0.01 · 0.95) + 7.275390625 · (1 + 1/0.95).
    value = denoising_bound(**DA, learning_rate=0.01)
    assert value == pytest.approx(100 / 95 + 7.275390625 * (1 + 1 / 0.95), rel=TIGHT)
    # N → ∞: the variance floor (e^da / B)(1 + 1/e_γ^da), at least 2 e^da / B.
    far = denoising_bound(**{**DA, "n_iter": 10**15}, learning_rate=0.01)
    assert far == pytest.approx(7.275390625 * (1 + 1 / 0.95), rel=1e-9)
    assert far > 2 * 7.275390625
    with pytest.raises(ValueError, match="learning_rate must be < 0.2"):
        denoising_bound(**DA, learning_rate=0.2)
    with pytest.raises(ValueError, match="mu_x and tau_x must satisfy"):
        denoising_bound(**{**DA, "tau_x": 0.6}, learning_rate=0.01)


def test_theorem_IV_1_step():
    gamma_o = denoising_optimal_step(**DA)
    assert gamma_o == pytest.approx(math.sqrt(2 * 100 * 100 / (10 * 727.5390625 * 10_000)),
                                    rel=TIGHT)
    exact = denoising_optimal_step(**DA, exact=True)
    res = minimize_scalar(lambda g: denoising_bound(**DA, learning_rate=g),
                          bounds=(1e-9, 0.2 - 1e-9), method="bounded",
                          options={"xatol": 1e-12})
    assert exact == pytest.approx(res.x, rel=1e-5)
    assert exact <= 1 / 10
    big = {**DA, "n_iter": 10**13}
    assert denoising_optimal_step(**big, exact=True) == pytest.approx(
        denoising_optimal_step(**big), rel=1e-4
    )


# ---------------------------------------------------------------- Corollary V.1


ML = dict(learning_rates=0.1, alpha=0.05, box_bound=0.1, initial_gap=10.0, n_iter=10_000,
          batch_size=100)


def test_multilayer_constants_by_hand():
    np.testing.assert_allclose(multilayer_variances([100, 50, 10], 0.1, 0.1),
                               [0.1 / 4 * 100 * 50 * 10 * 0.1, 13 * 50 * 10 * 0.01 / 256],
                               rtol=TIGHT)
    # Four layers, per-layer steps and boxes.
    e = multilayer_variances([20, 10, 8, 6, 3], [0.1, 0.2, 0.3, 0.4], [0.5, 0.25, 0.125])
    np.testing.assert_allclose(
        e,
        [0.1 / 4 * 20 * 10 * 8 * 0.5, 0.2 / 4 * 10 * 8 * 6 * 0.25, 0.3 / 4 * 8 * 6 * 3 * 0.125,
         13 * 6 * 3 * 0.16 / 256],
        rtol=TIGHT,
    )
    # e_γ^m: min{0.1 − (13/16) 0.01, 0.1 − (0.5 · 10 · 0.1 / 20) 0.01}.
    assert multilayer_step_factor([100, 50, 10], 0.1, alpha=0.5, box_bound=0.1) == (
        pytest.approx(0.1 - 0.13 / 16, rel=TIGHT)
    )
    assert multilayer_step_factor([100, 50, 10], 0.1, alpha=50.0, box_bound=0.1) == (
        pytest.approx(0.1 - 2.5 * 0.01, rel=TIGHT)
    )


def test_eq_12_by_hand():
    e_gamma = 0.1 - 13 / 16 * 0.01
    expected = (10.0 / 10_000 + (13 * 500 * 0.01 / 256 + 0.05 * 125.0) / 100) / e_gamma
    assert pretrained_multilayer_bound([100, 50, 10], **ML) == pytest.approx(expected, rel=TIGHT)


def test_eq_12_without_hidden_layers_is_eq_7():
    for gamma in (0.05, 0.3, 1.0):
        ml = pretrained_multilayer_bound([100, 5], learning_rates=gamma, alpha=0.3,
                                         box_bound=1.0, initial_gap=5.0, n_iter=1000,
                                         batch_size=50)
        assert ml == pytest.approx(single_layer_bound(**single(learning_rate=gamma)), rel=TIGHT)
        assert multilayer_variances([100, 5], gamma, []) == pytest.approx(
            [single_layer_variance(100, 5) * gamma**2], rel=TIGHT
        )


def test_eq_12_trends():
    base = pretrained_multilayer_bound([100, 50, 10], **ML)
    assert pretrained_multilayer_bound([100, 50, 10], **{**ML, "alpha": 0.01}) < base
    assert pretrained_multilayer_bound([100, 100, 10], **ML) > base  # fatter
    assert pretrained_multilayer_bound([100, 50, 50, 10], **ML) > base  # deeper
    assert pretrained_multilayer_bound([100, 50, 10], **{**ML, "batch_size": 1000}) < base


def test_multilayer_validation():
    with pytest.raises(ValueError, match=r"learning_rates\[L-1\].*16/13"):
        pretrained_multilayer_bound([100, 50, 10], **{**ML, "learning_rates": [0.1, 1.3]})
    # γ_1 < 20/(α d_2 w_m^1) = 20/(5 · 10 · 0.1) = 4.
    with pytest.raises(ValueError, match=r"learning_rates\[0\] \(γ_1\) must be < 20/\(alpha"):
        pretrained_multilayer_bound([100, 50, 10], **{**ML, "alpha": 5.0,
                                                     "learning_rates": [4.0, 0.1]})
    # α = 0: no condition on the hidden steps.
    pretrained_multilayer_bound([100, 50, 10], **{**ML, "alpha": 0.0,
                                                 "learning_rates": [40.0, 0.1]})
    with pytest.raises(ValueError, match="layer_sizes must list at least"):
        pretrained_multilayer_bound([100], **ML)
    with pytest.raises(ValueError, match="layer_sizes must be a sequence of positive"):
        pretrained_multilayer_bound([100, 0, 10], **ML)
    with pytest.raises(ValueError, match="box_bound must be a positive float or a sequence of 1"):
        pretrained_multilayer_bound([100, 50, 10], **{**ML, "box_bound": [0.1, 0.1]})
    with pytest.raises(ValueError, match="learning_rates must be a positive float or a sequence"):
        pretrained_multilayer_bound([100, 50, 10], **{**ML, "learning_rates": [0.1]})
    with pytest.raises(ValueError, match="learning_rates must be positive"):
        pretrained_multilayer_bound([100, 50, 10], **{**ML, "learning_rates": [0.0, 0.1]})
    with pytest.raises(ValueError, match="'alpha' parameter"):
        pretrained_multilayer_bound([100, 50, 10], **{**ML, "alpha": -1.0})


# --------------------------------------------------------------- Corollary VI.1


def test_eq_13_by_hand():
    sizes, gammas, boxes = [20, 10, 8, 6, 3], [0.1, 0.2, 0.3, 0.4], [0.5, 0.25, 0.125]
    alpha, zeta = 0.2, 0.6
    e = [0.1 / 4 * 20 * 10 * 8 * 0.5, 0.2 / 4 * 10 * 8 * 6 * 0.25,
         0.3 / 4 * 8 * 6 * 3 * 0.125, 13 * 6 * 3 * 0.16 / 256]
    # γ_l − (α d_{l+1} w_m^l / 20) γ_l² with d_2, d_3, d_4 = 8, 6, 3.
    e_gamma = min(0.4 - 13 / 16 * 0.16, 0.1 - alpha * 8 * 0.5 / 20 * 0.01,
                  0.2 - alpha * 6 * 0.25 / 20 * 0.04, 0.3 - alpha * 3 * 0.125 / 20 * 0.09)
    expected = 3.0 / (500 * e_gamma * zeta**2) + (
        e[3] / zeta + alpha * e[2] + alpha * zeta * (e[0] + e[1])
    ) / (e_gamma * 32)
    value = dropout_multilayer_bound(sizes, learning_rates=gammas, alpha=alpha, box_bound=boxes,
                                     initial_gap=3.0, n_iter=500, batch_size=32,
                                     keep_probability=zeta)
    assert value == pytest.approx(expected, rel=TIGHT)


def test_eq_13_without_dropout_is_eq_12():
    for sizes in ([100, 5], [100, 50, 10], [100, 50, 40, 30, 10]):
        assert dropout_multilayer_bound(sizes, **ML, keep_probability=1.0) == pytest.approx(
            pretrained_multilayer_bound(sizes, **ML), rel=TIGHT
        )


def test_optimal_keep_probability():
    # Fewer than two hidden layers: only the first two terms depend on ζ, both fall.
    assert optimal_keep_probability([100, 5], **ML) == 1.0
    assert optimal_keep_probability([100, 50, 10], **ML) == 1.0
    # Good pretraining (small α): ζ ≈ 1; poor pretraining: ζ well below 1.
    sizes = [100, 50, 50, 50, 10]
    assert optimal_keep_probability(sizes, **{**ML, "alpha": 1e-5}) == 1.0
    kw = {**ML, "alpha": 0.003}
    zeta = optimal_keep_probability(sizes, **kw)
    assert 0.4 < zeta < 0.6
    # It is the root of c ζ³ − b ζ − 2a = 0 and the minimum of (13).
    e = multilayer_variances(sizes, 0.1, 0.1)
    e_gamma = multilayer_step_factor(sizes, 0.1, alpha=0.003, box_bound=0.1)
    a = 10.0 / (10_000 * e_gamma)
    b = e[-1] / (e_gamma * 100)
    c = 0.003 * e[:-2].sum() / (e_gamma * 100)
    assert c * zeta**3 - b * zeta - 2 * a == pytest.approx(0.0, abs=1e-12)
    value = dropout_multilayer_bound(sizes, **kw, keep_probability=zeta)
    for other in (zeta * 0.999, zeta * 1.001, 1.0, 0.5 * zeta):
        assert value < dropout_multilayer_bound(sizes, **kw, keep_probability=other)
    with pytest.raises(ValueError, match="'keep_probability' parameter"):
        dropout_multilayer_bound(sizes, **kw, keep_probability=0.0)


# ----------------------------------------------------- suggest_training_parameters


def example_x(n_samples=1960, n_features=100, seed=0):
    return np.random.default_rng(seed).random((n_samples, n_features))


def test_suggest_reproduces_the_worked_example():
    X = example_x()
    s = suggest_training_parameters(X, (), n_outputs=5, intercept=False)
    assert (s.batch_size, s.n_iter, s.keep_probability, s.dropout) == (50, 7835, 1.0, 0.0)
    assert s.target_met and s.layer_sizes == (100, 5) and s.lipschitz == 1.625
    assert s.initial_loss == 5.0  # f(W¹) ≤ d_y
    # N is eq. 9 with the exact optimal step: eq. 9 · (1 + 2δ̄)/(1 + δ̄)².
    delta_bar = 13 * 50 * 0.05 * 0.05**0.1 / (32 * 25.390625)
    eq9 = iterations_for_solution(**EXAMPLE)
    assert s.n_iter == math.ceil(eq9 * (1 + 2 * delta_bar) / (1 + delta_bar) ** 2)
    assert s.n_iter <= math.ceil(eq9)
    # The step is the exact minimizer of (7) at that N (≈ γ_o of Theorem III.1).
    kw = dict(initial_loss=5.0, n_iter=s.n_iter, batch_size=50, n_features=100, n_outputs=5)
    assert s.learning_rate == pytest.approx(single_layer_optimal_step(**kw, exact=True),
                                            rel=TIGHT)
    assert s.learning_rate == pytest.approx(single_layer_optimal_step(**kw), rel=0.03)
    # It meets the target, within the budget, and is the largest batch that does.
    theta = 0.05 * 0.05**0.1
    assert s.bound == pytest.approx(
        single_layer_bound(**single(n_iter=s.n_iter, learning_rate=s.learning_rate)), rel=TIGHT
    )
    assert s.bound <= theta and s.epsilon <= 0.05
    assert s.n_epochs == pytest.approx(s.n_iter * 50 / 1960) and s.n_epochs <= 200
    e_s = 25.390625

    def n_needed(b):
        return 4 * 5.0 * (e_s / b + theta * 1.625 / 2) / theta**2

    assert math.ceil(n_needed(51)) * 51 > 1960 * 200
    # The moments are reported.
    assert (s.mu_x, s.tau_x) == data_moments(X)
    # A fixed batch size gives the same answer.
    fixed = suggest_training_parameters(X, (), n_outputs=5, intercept=False, batch_size=50)
    assert (fixed.batch_size, fixed.n_iter) == (50, 7835)


def test_suggest_with_hidden_layers():
    X = example_x(n_features=30)
    s = suggest_training_parameters(X, (8, 8, 8), alpha=1.0, box_bound=0.05, n_epochs=500)
    assert s.target_met and s.layer_sizes == (31, 9, 9, 9, 1)
    assert s.keep_probability == 0.9 and s.dropout == pytest.approx(0.1)
    # The reported bound is eq. 13 at the suggested settings, below θ.
    value = dropout_multilayer_bound(s.layer_sizes, learning_rates=s.learning_rate, alpha=1.0,
                                     box_bound=0.05, initial_gap=1.0, n_iter=s.n_iter,
                                     batch_size=s.batch_size,
                                     keep_probability=s.keep_probability)
    assert s.bound == pytest.approx(value, rel=TIGHT)
    assert s.bound <= 0.05 * 0.05**0.1
    assert s.learning_rate <= 1 / s.lipschitz
    # One hidden layer: dropout never lowers (13).
    one = suggest_training_parameters(X, 16, alpha=1.0, box_bound=0.05)
    assert one.keep_probability == 1.0 and one.layer_sizes == (31, 17, 1)
    # Better pretraining allows fewer iterations.
    good = suggest_training_parameters(X, (8, 8, 8), alpha=0.01, box_bound=0.05, n_epochs=500)
    assert good.keep_probability == 1.0 and good.n_iter < s.n_iter
    # A fixed keep probability is used as given (here too much dropout for the target).
    with pytest.warns(UserWarning, match="largest batch within 1% of the smallest bound"):
        fixed = suggest_training_parameters(X, (8, 8, 8), alpha=1.0, box_bound=0.05,
                                            n_epochs=500, keep_probability=0.5)
    assert fixed.keep_probability == 0.5 and not fixed.target_met


def test_suggest_warns_when_the_target_is_out_of_reach():
    X = example_x(n_samples=500, n_features=64)
    with pytest.warns(UserWarning, match="No batch size up to n_samples=500 reaches"):
        s = suggest_training_parameters(X, (64, 64), alpha=0.5, n_epochs=50)
    assert not s.target_met and s.epsilon > 0.05
    assert s.n_epochs <= 50
    assert s.bound == pytest.approx(s.epsilon * 0.05**0.1, rel=TIGHT)
    # Within 1 % of the best the budget allows, e.g. of full-batch gradient descent
    # for 50 iterations at any keep probability and step.
    for zeta in (1.0, 0.5, s.keep_probability):
        for gamma in np.geomspace(1e-3, 0.99 / s.lipschitz, 60):
            other = dropout_multilayer_bound(
                s.layer_sizes, learning_rates=gamma, alpha=0.5, box_bound=1.0,
                initial_gap=1.0, n_iter=50, batch_size=500, keep_probability=zeta,
            )
            assert s.bound <= 1.01 * other * (1 + 1e-12)
    # No warning when the target is within reach.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        suggest_training_parameters(example_x(), (), n_outputs=5)


def test_suggest_validation():
    X = example_x(n_samples=50, n_features=4)
    with pytest.raises(ValueError, match=r"X must lie in \[0, 1\]"):
        suggest_training_parameters(X * 2, ())
    with pytest.raises(ValueError, match="hidden_layer_sizes must be a sequence of positive"):
        suggest_training_parameters(X, (4, 0))
    with pytest.raises(ValueError, match="'hidden_layer_sizes' parameter"):
        suggest_training_parameters(X, 0)
    with pytest.raises(ValueError, match="'delta' parameter"):
        suggest_training_parameters(X, (), delta=1.0)
    with pytest.raises(ValueError, match="'keep_probability' parameter"):
        suggest_training_parameters(X, (3, 3), keep_probability=1.5)
    with pytest.raises(ValueError, match="box_bound must be a positive float or a sequence of 2"):
        suggest_training_parameters(X, (3, 3), box_bound=[0.1])
    # batch_size is clipped to n_samples.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert suggest_training_parameters(X, (), batch_size=500).batch_size == 50


def test_public_api_is_documented():
    for name in cv.__all__:
        obj = getattr(cv, name)
        if callable(obj) and not isinstance(obj, type):
            doc = obj.__doc__
            assert "Examples" in doc and ">>>" in doc, name
            assert "{" + "ml}" not in doc and "{" + "da}" not in doc, name

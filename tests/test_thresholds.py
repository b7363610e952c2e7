"""Tests of the RVSM thresholding operators (proximal maps of ℓ1, ℓ0, transformed ℓ1)."""

from __future__ import annotations

import math

import pytest
import torch

from skconvex.thresholds import (
    KINDS,
    THRESHOLDS,
    hard_threshold,
    penalty,
    soft_threshold,
    threshold,
    threshold_value,
    transformed_l1_threshold,
)

N_GRID = 200_001
N_FINE = 2_001


# --------------------------------------------------------------------------- helpers
def _elementwise_penalty(u: torch.Tensor, kind: str, a: float) -> torch.Tensor:
    if kind == "l1":
        return u.abs()
    if kind == "l0":
        return (u != 0).to(u.dtype)
    return (a + 1.0) * u.abs() / (a + u.abs())


def _objective(u, w, kind, lam, beta, a):
    """Scalar proximal objective λP(u) + (β/2)(w − u)², broadcast over u and w."""
    return lam * _elementwise_penalty(u, kind, a) + 0.5 * beta * (w - u) ** 2


def _brute_force(ws, kind, lam, beta, a, chunk=8):
    """Minimize the objective over a 200001-point grid on [−|w|−1, |w|+1] (plus 0),
    then over a fine grid of ±2 steps around the coarse argmin. Returns (min, argmin)."""
    base = torch.linspace(-1.0, 1.0, N_GRID, dtype=torch.float64)
    fine = torch.linspace(-2.0, 2.0, N_FINE, dtype=torch.float64)
    mins, args = [], []
    for w in ws.split(chunk):
        radius = w.abs() + 1.0
        h = 2.0 * radius / (N_GRID - 1)
        grid = torch.cat([base[None, :] * radius[:, None], torch.zeros(len(w), 1,
                                                                       dtype=torch.float64)], 1)
        obj = _objective(grid, w[:, None], kind, lam, beta, a)
        val, idx = obj.min(1)
        arg = grid.gather(1, idx[:, None])[:, 0]
        grid2 = arg[:, None] + fine[None, :] * h[:, None]
        obj2 = _objective(grid2, w[:, None], kind, lam, beta, a)
        val2, idx2 = obj2.min(1)
        arg2 = grid2.gather(1, idx2[:, None])[:, 0]
        better = val2 < val
        mins.append(torch.where(better, val2, val))
        args.append(torch.where(better, arg2, arg))
    return torch.cat(mins), torch.cat(args)


def _test_points(t: float) -> torch.Tensor:
    """Many w ≥ 0 around and beyond the threshold t, and their negatives."""
    pos = [torch.linspace(0.0, 3.0 * t + 2.0, 41, dtype=torch.float64)]
    offsets = torch.tensor([1e-9, 1e-6, 1e-3, 1e-2, 1e-1], dtype=torch.float64)
    pos += [t - offsets, t + offsets, torch.tensor([t], dtype=torch.float64)]
    pos = torch.cat(pos).clamp(min=0.0)
    return torch.cat([pos, -pos])


def _check_against_brute_force(kind, lam, beta, a, op):
    t = threshold_value(kind, lam, beta, a)
    ws = _test_points(t)
    u = op(ws)
    obj_op = _objective(u, ws, kind, lam, beta, a)
    best, arg = _brute_force(ws, kind, lam, beta, a)
    # The operator is an exact minimizer: never worse than any grid point ...
    scale = 1.0 + best.abs()
    assert torch.all(obj_op <= best + 1e-12 * scale), (obj_op - best).max()
    # ... and the refined grid gets within 1e-9 of it.
    assert torch.all(best - obj_op <= 1e-9 * scale), (best - obj_op).max()
    # Away from the threshold the minimizer is unique: compare u itself.
    away = (ws.abs() - t).abs() > 1e-2
    assert torch.allclose(u[away], arg[away], rtol=0, atol=1e-5), (u - arg)[away].abs().max()
    # u = 0 exactly at and below the threshold, nonzero above it (λ > 0).
    assert torch.all(u[ws.abs() <= t] == 0)
    if lam > 0:
        assert torch.all(u[ws.abs() > t] != 0)
    return t


# ------------------------------------------------------------- brute-force checks
LAM_BETA = [(1.0, 1.0), (0.3, 2.0), (0.01, 0.01), (5.0, 0.5), (0.0, 1.0)]


@pytest.mark.parametrize("lam,beta", LAM_BETA)
def test_soft_threshold_is_prox(lam, beta):
    t = _check_against_brute_force("l1", lam, beta, 1.0,
                                   lambda w: soft_threshold(w, lam, beta))
    assert t == pytest.approx(lam / beta)


@pytest.mark.parametrize("lam,beta", LAM_BETA)
def test_hard_threshold_is_prox(lam, beta):
    t = _check_against_brute_force("l0", lam, beta, 1.0,
                                   lambda w: hard_threshold(w, lam, beta))
    assert t == pytest.approx(math.sqrt(2 * lam / beta))


def _tl1_cases():
    cases = []
    for a in (0.1, 1.0, 5.0):
        c = a * a / (2 * (a + 1))  # regime boundary for μ
        for mu in (c / 4, c, 2 * c, 4.0):
            cases.append((a, mu, 1.0))
    cases += [(1.0, 0.1, 2.5), (1.0, 1.0, 0.5), (2.0, 3.0, 3.0), (1.0, 0.0, 1.0)]
    return cases


@pytest.mark.parametrize("a,mu,beta", _tl1_cases())
def test_transformed_l1_is_prox(a, mu, beta):
    lam = mu * beta
    t = _check_against_brute_force("tl1", lam, beta, a,
                                   lambda w: transformed_l1_threshold(w, lam, beta, a))
    if mu <= a * a / (2 * (a + 1)):
        assert t == pytest.approx(mu * (a + 1) / a)
    else:
        assert t == pytest.approx(math.sqrt(2 * mu * (a + 1)) - a / 2)


def test_both_tl1_regimes_are_covered():
    regimes = {mu <= a * a / (2 * (a + 1)) for a, mu, _ in _tl1_cases()}
    assert regimes == {True, False}


def test_tl1_continuous_regime_has_no_jump_and_second_regime_jumps():
    a = 1.0
    t1 = threshold_value("tl1", 0.1, 1.0, a)  # μ = 0.1 ≤ 0.25
    just_above = torch.tensor([t1 + 1e-7], dtype=torch.float64)
    assert transformed_l1_threshold(just_above, 0.1, 1.0, a).item() < 1e-6
    t2 = threshold_value("tl1", 1.0, 1.0, a)  # μ = 1 > 0.25
    just_above = torch.tensor([t2 + 1e-9], dtype=torch.float64)
    assert transformed_l1_threshold(just_above, 1.0, 1.0, a).item() > 0.5


# ------------------------------------------------------------------ the known bug
def test_tl1_threshold_for_a1_mu1_is_one_and_a_half():
    assert threshold_value("tl1", 1.0, 1.0, a=1.0) == pytest.approx(1.5)
    assert threshold_value("tl1", 2.0, 2.0, a=1.0) == pytest.approx(1.5)
    w = torch.tensor([1.5, 1.5 + 1e-9, 1.75, 1.99, 2.0], dtype=torch.float64)
    u = transformed_l1_threshold(w, 1.0, 1.0, a=1.0)
    assert u[0] == 0  # at the threshold: 0 (documented tie-break)
    assert torch.all(u[1:] > 0)  # the first-branch-only bug (t = 2) zeroes these
    # 0 is strictly worse than u for w in (1.5, 2]:
    obj = _objective(u, w, "tl1", 1.0, 1.0, 1.0)
    obj0 = _objective(torch.zeros_like(w), w, "tl1", 1.0, 1.0, 1.0)
    assert torch.all(obj[2:] < obj0[2:])
    # At w = 1.5 both minimizers tie: 0 and g(1.5+) have the same objective.
    tie = _objective(u[1], w[1], "tl1", 1.0, 1.0, 1.0).item()
    assert obj0[0].item() == pytest.approx(tie, abs=1e-7)


def test_ties_at_threshold_return_zero():
    t = math.sqrt(2 * 0.5 / 0.25)
    w = torch.tensor([t, -t], dtype=torch.float64)
    assert torch.all(hard_threshold(w, 0.5, 0.25) == 0)
    tw = threshold_value("tl1", 1.0, 1.0, a=1.0)
    w = torch.tensor([tw, -tw], dtype=torch.float64)
    assert torch.all(transformed_l1_threshold(w, 1.0, 1.0, a=1.0) == 0)


# ------------------------------------------------------- shapes, dtypes, numerics
OPS = {
    "l1": lambda w: soft_threshold(w, 0.3, 1.0),
    "l0": lambda w: hard_threshold(w, 0.3, 1.0),
    "tl1": lambda w: transformed_l1_threshold(w, 0.3, 1.0, a=1.0),
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("shape", [(), (7,), (5, 3), (4, 3, 3, 3), (0, 4)])
def test_shape_dtype_device_preserved(kind, dtype, shape):
    gen = torch.Generator().manual_seed(0)
    w = torch.randn(shape, generator=gen, dtype=dtype)
    w_copy = w.clone()
    u = threshold(w, kind, 0.3, 1.0)
    assert u.shape == w.shape and u.dtype == dtype and u.device == w.device
    assert torch.equal(w, w_copy)  # input untouched
    assert torch.equal(u, OPS[kind](w))
    if w.numel():
        assert u.data_ptr() != w.data_ptr()


@pytest.mark.parametrize("kind", KINDS)
def test_float32_matches_float64(kind):
    w = torch.linspace(-5, 5, 1001, dtype=torch.float64)
    t = threshold_value(kind, 0.7, 1.3, 0.5)
    w = w[(w.abs() - t).abs() > 1e-4]  # a float32 rounding of w may cross t
    u64 = threshold(w, kind, 0.7, 1.3, a=0.5)
    u32 = threshold(w.float(), kind, 0.7, 1.3, a=0.5)
    assert torch.allclose(u32.double(), u64, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kind", KINDS)
def test_half_precision_dtype_preserved(kind):
    w = torch.tensor([-2.0, 0.1, 3.0], dtype=torch.float16)
    u = threshold(w, kind, 0.3, 1.0)
    assert u.dtype == torch.float16
    assert torch.allclose(u.float(), threshold(w.float(), kind, 0.3, 1.0), atol=1e-2)


@pytest.mark.parametrize("kind", KINDS)
def test_requires_grad_input_is_detached(kind):
    w = torch.randn(3, 4, generator=torch.Generator().manual_seed(1), requires_grad=True)
    u = threshold(w, kind, 0.1, 1.0)
    assert not u.requires_grad and u.grad_fn is None


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("a", [1e-12, 1e-3, 1.0, 1e6])
def test_no_nan_for_zero_huge_and_extreme_a(kind, dtype, a):
    big = 1e30 if dtype == torch.float32 else 1e300
    w = torch.tensor([0.0, -0.0, 1e-30, -big, big, 3.0e38 if dtype == torch.float32 else 1e308],
                     dtype=dtype)
    for lam, beta in [(1.0, 1.0), (1e-8, 1.0), (1e3, 1e-3)]:
        u = threshold(w, kind, lam, beta, a=a)
        assert torch.all(torch.isfinite(u)), (lam, beta, u)
        assert torch.all(u[:3] == 0)
        # huge weights are (relatively) unchanged
        assert torch.allclose(u[3:], w[3:], rtol=1e-5)


def test_tiny_and_huge_a_limits():
    w = torch.linspace(-4, 4, 801, dtype=torch.float64)
    # small a: transformed ℓ1 → ℓ0 (threshold sqrt(2μ), u → w)
    assert threshold_value("tl1", 1.0, 1.0, a=1e-12) == pytest.approx(math.sqrt(2))
    far = (w.abs() - math.sqrt(2)).abs() > 1e-2
    u = transformed_l1_threshold(w, 1.0, 1.0, a=1e-12)
    assert torch.allclose(u[far], hard_threshold(w, 1.0, 1.0)[far], atol=1e-3)
    # large a: transformed ℓ1 → ℓ1
    u = transformed_l1_threshold(w, 1.0, 1.0, a=1e6)
    assert torch.allclose(u, soft_threshold(w, 1.0, 1.0), atol=1e-4)


def test_nan_and_inf_propagate():
    w = torch.tensor([float("nan"), float("inf"), -float("inf")])
    for kind in KINDS:
        u = threshold(w, kind, 1.0, 1.0)
        assert torch.isnan(u[0])
        assert u[1] == float("inf") and u[2] == -float("inf")


def test_lambda_zero_is_identity():
    w = torch.randn(50, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    for kind in KINDS:
        assert torch.allclose(threshold(w, kind, 0.0, 1.0), w, rtol=1e-12, atol=1e-12)
    assert torch.equal(soft_threshold(w, 0.0, 1.0), w)
    assert torch.equal(hard_threshold(w, 0.0, 1.0), w)


# -------------------------------------------------- oddness, monotonicity, zeros
PARAMS = [(1.0, 1.0, 1.0), (0.1, 1.0, 1.0), (2.0, 0.5, 0.2), (0.5, 2.0, 5.0)]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("lam,beta,a", PARAMS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_odd_monotone_zero_below_threshold(kind, lam, beta, a, dtype):
    w = torch.linspace(-10, 10, 20_001, dtype=dtype)
    u = threshold(w, kind, lam, beta, a=a)
    assert torch.equal(threshold(-w, kind, lam, beta, a=a), -u)  # odd
    assert torch.all(u[1:] >= u[:-1])  # non-decreasing
    t = threshold_value(kind, lam, beta, a)
    assert torch.all(u[w.abs() <= t] == 0)
    assert torch.all(u[w.abs() > t] != 0)
    # |u| ≤ |w| and sign(u) ∈ {0, sign(w)}: the prox shrinks towards 0
    assert torch.all(u.abs() <= w.abs())
    assert torch.all(u * w >= 0)


# -------------------------------------------------------------------- penalties
def test_penalty_values_by_hand():
    u = torch.tensor([0.0, -1.0, 3.0, 0.5], dtype=torch.float64)
    assert penalty(u, "l1").item() == pytest.approx(4.5)
    assert penalty(u, "l0").item() == 3
    # ρ_1: 2|x|/(1+|x|): 0, 1, 1.5, 2/3
    assert penalty(u, "tl1").item() == pytest.approx(1 + 1.5 + 2 / 3)
    # ρ_2: 3|x|/(2+|x|): 0, 1, 1.8, 0.6
    assert penalty(u, "tl1", a=2.0).item() == pytest.approx(3.4)
    assert penalty(torch.zeros(2, 3), "l0").item() == 0
    for kind in KINDS:
        p = penalty(u.float().reshape(2, 2), kind)
        assert p.dim() == 0 and p.dtype == torch.float32
    # huge values: ρ_a → a + 1, no overflow
    assert penalty(torch.tensor([3e38]), "tl1").item() == pytest.approx(2.0)


def test_penalty_errors():
    u = torch.ones(3)
    with pytest.raises(ValueError, match="'l1', 'l0', 'tl1'"):
        penalty(u, "l2")
    with pytest.raises(ValueError, match="a must be"):
        penalty(u, "tl1", a=0.0)


# -------------------------------------------------------------------- dispatcher
def test_thresholds_mapping():
    assert set(THRESHOLDS) == set(KINDS) == {"l1", "l0", "tl1"}
    assert THRESHOLDS["l1"] is soft_threshold
    assert THRESHOLDS["l0"] is hard_threshold
    assert THRESHOLDS["tl1"] is transformed_l1_threshold
    w = torch.linspace(-3, 3, 61)
    assert torch.equal(threshold(w, "tl1", 0.4, 0.5, a=2.0),
                       transformed_l1_threshold(w, 0.4, 0.5, 2.0))
    assert torch.equal(threshold(w, "l1", 0.4, 0.5), soft_threshold(w, 0.4, 0.5))
    assert torch.equal(threshold(w, "l0", 0.4, 0.5), hard_threshold(w, 0.4, 0.5))


@pytest.mark.parametrize("kwargs,match", [
    (dict(kind="L1"), "unknown penalty kind 'L1'; valid kinds are 'l1', 'l0', 'tl1'"),
    (dict(kind="scad"), "valid kinds are 'l1', 'l0', 'tl1'"),
    (dict(lam=-1e-9), "lam must be"),
    (dict(lam=float("nan")), "lam must be"),
    (dict(beta=0.0), "beta must be"),
    (dict(beta=-1.0), "beta must be"),
    (dict(beta=float("inf")), "beta must be"),
    (dict(a=0.0), "a must be"),
    (dict(a=-2.0), "a must be"),
])
def test_dispatcher_errors(kwargs, match):
    args = dict(kind="tl1", lam=1.0, beta=1.0, a=1.0)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        threshold(torch.ones(3), **args)


@pytest.mark.parametrize("op", [soft_threshold, hard_threshold, transformed_l1_threshold])
def test_operators_validate_parameters(op):
    with pytest.raises(ValueError, match="lam must be"):
        op(torch.ones(2), -1.0, 1.0)
    with pytest.raises(ValueError, match="beta must be"):
        op(torch.ones(2), 1.0, 0.0)


def test_non_float_and_complex_inputs():
    u = threshold(torch.tensor([0, 1, 3]), "l1", 1.0, 1.0)
    assert u.dtype == torch.get_default_dtype()
    assert u.tolist() == [0.0, 0.0, 2.0]
    with pytest.raises(TypeError, match="real tensor"):
        threshold(torch.ones(2, dtype=torch.complex64), "l1", 1.0, 1.0)

"""Tests of ``skconvex.criteria``: RAE / NRAE / λ_c / ANRAT criteria.

Every numerical claim is checked against a 50-digit mpmath reference or an exact
identity. All inputs are fixed tensors or come from seeded generators.
"""

from __future__ import annotations

import copy
import math

import mpmath
import pytest
import torch

from skconvex import criteria as cr

LAMBDAS = [1e-8, 1e-2, 1.0, 1e4, 1e9, 1e30]
DTYPES = [torch.float32, torch.float64]
K = 37
EPS64 = torch.finfo(torch.float64).eps
EPS32 = torch.finfo(torch.float32).eps
F64_MAX = torch.finfo(torch.float64).max


# --------------------------------------------------------------------------- helpers


def _errors(dtype=torch.float64, ties=False, k=K, seed=0):
    """K errors uniform in [0, 2] (as float64, then rounded to ``dtype``)."""
    g = torch.Generator().manual_seed(seed)
    e = 2.0 * torch.rand(k, generator=g, dtype=torch.float64)
    if ties:
        m = e.max()
        e[5] = m
        e[11] = m
        e[23] = m
    return e.to(dtype)


def _mp(values):
    return [mpmath.mpf(float(v)) for v in values.detach().to(torch.float64).tolist()]


def _mp_log_rae(errors, lam):
    """ln Σ exp(λ e_k) with 50 digits."""
    with mpmath.workdps(50):
        lam_mp = mpmath.mpf(float(lam))
        return mpmath.log(mpmath.fsum(mpmath.exp(lam_mp * e) for e in _mp(errors)))


def _mp_nrae(errors, lam):
    """(1/λ) ln((1/K) Σ exp(λ e_k)) with 50 digits."""
    with mpmath.workdps(50):
        lam_mp = mpmath.mpf(float(lam))
        k = errors.numel()
        return (_mp_log_rae(errors, lam) - mpmath.log(k)) / lam_mp


def _mp_nrae_dlam(errors, lam):
    """dC_λ/dλ = (Σ π_k e_k − C_λ)/λ = KL(π ‖ uniform)/λ² ≥ 0, with 50 digits."""
    with mpmath.workdps(50):
        lam_mp = mpmath.mpf(float(lam))
        es = _mp(errors)
        em = max(es)
        w = [mpmath.exp(lam_mp * (e - em)) for e in es]
        tot = mpmath.fsum(w)
        mean_pi = mpmath.fsum(wi * e for wi, e in zip(w, es)) / tot
        return (mean_pi - _mp_nrae(errors, lam)) / lam_mp


def _assert_rel(got, ref, rtol):
    got = float(got.detach()) if isinstance(got, torch.Tensor) else float(got)
    ref = float(ref.detach()) if isinstance(ref, torch.Tensor) else float(ref)
    assert math.isfinite(got), got
    assert abs(got - ref) <= rtol * abs(ref), (got, ref, abs(got - ref) / abs(ref))


def _net_and_data(seed=1, k=K):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(k, 3, generator=g)
    y = torch.randn(k, 2, generator=g)
    torch.manual_seed(seed)
    net = torch.nn.Linear(3, 2)
    return net, x, y


def _param_grads(net):
    return [p.grad.detach().to(torch.float64).clone() for p in net.parameters()]


# --------------------------------------------------------------------------- NRAE value


@pytest.mark.parametrize("ties", [False, True], ids=["spread", "ties"])
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("lam", LAMBDAS)
def test_nrae_matches_mpmath(lam, dtype, ties):
    e = _errors(dtype, ties=ties)
    c = cr.nrae(e, lam)
    assert c.dtype == torch.float64
    assert c.dim() == 0
    assert torch.isfinite(c)
    _assert_rel(c, _mp_nrae(e, lam), 1e-5)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("lam", LAMBDAS)
def test_nrae_matches_mpmath_tightly_in_float64(lam, dtype):
    # The stable form is accurate to a few ulps, far better than the 1e-5 required.
    e = _errors(dtype)
    _assert_rel(cr.nrae(e, lam), _mp_nrae(e, lam), 1e-13)


@pytest.mark.parametrize("ties", [False, True], ids=["spread", "ties"])
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("lam", LAMBDAS)
def test_nrae_bounds(lam, dtype, ties):
    e = _errors(dtype, ties=ties)
    e64 = e.to(torch.float64)
    e_m = float(e64.max())
    c = float(cr.nrae(e, lam))
    tol = 4 * EPS64 * abs(e_m)
    assert c <= e_m + tol
    assert c >= e_m - math.log(K) / lam - tol
    # Jensen: the NRAE is never below the mean error.
    assert c >= float(e64.mean()) - tol


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_nrae_small_lambda_limit_is_mean(dtype):
    e = _errors(dtype)
    e64 = e.to(torch.float64)
    lam = 1e-8
    mean = float(e64.mean())
    c = float(cr.nrae(e, lam))
    # Hoeffding's lemma: 0 ≤ C_λ − mean ≤ λ (e_max − e_min)² / 8 (+ rounding).
    spread = float(e64.max() - e64.min())
    assert -1e-14 <= c - mean <= lam * spread**2 / 8 + 1e-14
    assert abs(c - mean) <= 1e-7
    # To first order C_λ − mean = λ var/2.
    var = float(e64.var(unbiased=False))
    assert c - mean == pytest.approx(lam * var / 2, rel=1e-3, abs=1e-15)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_nrae_lambda_1e300_is_exactly_mean(dtype):
    e = _errors(dtype)
    mean = float(e.to(torch.float64).mean())
    c = float(cr.nrae(e, 1e-300))
    assert math.isfinite(c)
    assert c == pytest.approx(mean, rel=1e-12)


def test_nrae_lambda_zero_is_mean():
    e = _errors()
    assert float(cr.nrae(e, 0.0)) == pytest.approx(float(e.mean()), rel=1e-15)
    s = torch.arange(1, K + 1, dtype=torch.float64)
    assert float(cr.nrae(e, 0, sample_weight=s)) == pytest.approx(
        float((s * e).sum() / s.sum()), rel=1e-15
    )


@pytest.mark.parametrize("ties", [False, True], ids=["spread", "ties"])
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("lam", [1e4, 1e9, 1e30])
def test_nrae_large_lambda_limit_is_max(lam, dtype, ties):
    e = _errors(dtype, ties=ties)
    e_m = float(e.to(torch.float64).max())
    c = float(cr.nrae(e, lam))
    assert abs(c - e_m) <= math.log(K) / lam + 4 * EPS64 * e_m
    if ties:
        # Exactly (1/λ) ln(m/K) below e_M with m = 4 tied maxima (no others count).
        assert c - e_m == pytest.approx(-math.log(K / 4) / lam, rel=1e-6, abs=4 * EPS64 * e_m)


def test_nrae_single_sample_is_its_error():
    e = torch.tensor([0.7312], dtype=torch.float64)
    for lam in LAMBDAS:
        assert float(cr.nrae(e, lam)) == pytest.approx(0.7312, rel=1e-15)


def test_nrae_is_monotone_in_lambda():
    e = _errors()
    lams = [1e-8, 1e-4, 1e-2, 0.1, 1.0, 10.0, 1e2, 1e4, 1e9, 1e30]
    vals = [float(cr.nrae(e, lam)) for lam in lams]
    assert all(b >= a - 1e-15 for a, b in zip(vals, vals[1:])), vals


def test_nrae_empty_raises():
    with pytest.raises(ValueError):
        cr.nrae(torch.zeros(0, dtype=torch.float64), 1.0)


def test_naive_nrae_overflows_but_stable_one_does_not():
    e = _errors()
    naive = torch.log(torch.exp(1e4 * e).mean()) / 1e4
    assert torch.isinf(naive)
    assert torch.isfinite(cr.nrae(e, 1e4))


# --------------------------------------------------------------------------- NRAE gradient


@pytest.mark.parametrize("ties", [False, True], ids=["spread", "ties"])
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("lam", LAMBDAS)
def test_nrae_gradient_is_softmax_weights(lam, dtype, ties):
    e = _errors(dtype, ties=ties).requires_grad_(True)
    cr.nrae(e, lam).backward()
    g = e.grad
    assert g.dtype == dtype
    assert torch.isfinite(g).all()
    w = cr.nrae_weights(e.detach(), lam)
    atol = 1e-12 if dtype == torch.float64 else 1e-6
    torch.testing.assert_close(g.to(torch.float64), w, atol=atol, rtol=0)
    assert float(g.to(torch.float64).sum()) == pytest.approx(1.0, abs=50 * torch.finfo(dtype).eps)
    if ties and lam >= 1e4:
        # The four tied maxima share the weight, everything else gets none.
        top = e.detach() == e.detach().max()
        assert int(top.sum()) == 4
        torch.testing.assert_close(g[top].to(torch.float64), torch.full((4,), 0.25, dtype=torch.float64))
        assert (g[~top] == 0).all()


@pytest.mark.parametrize("lam", LAMBDAS)
def test_nrae_weights_against_mpmath(lam):
    e = _errors()
    w = cr.nrae_weights(e, lam)
    with mpmath.workdps(50):
        lam_mp = mpmath.mpf(lam)
        es = _mp(e)
        em = max(es)
        ex = [mpmath.exp(lam_mp * (x - em)) for x in es]
        tot = mpmath.fsum(ex)
        ref = torch.tensor([float(v / tot) for v in ex], dtype=torch.float64)
    torch.testing.assert_close(w, ref, atol=1e-14, rtol=1e-12)


def test_nrae_weights_accurate_for_close_errors_at_large_lambda():
    e = torch.tensor([1.5, 1.5 + 3e-9], dtype=torch.float64)
    lam = 1e9
    with mpmath.workdps(50):
        d = mpmath.mpf(lam) * (mpmath.mpf(float(e[1])) - mpmath.mpf(float(e[0])))
        p1 = 1 / (1 + mpmath.exp(-d))
        ref = torch.tensor([float(1 - p1), float(p1)], dtype=torch.float64)
    # The NRAE gradient itself is right:
    ee = e.clone().requires_grad_(True)
    cr.nrae(ee, lam).backward()
    torch.testing.assert_close(ee.grad, ref, atol=1e-14, rtol=0)
    # nrae_weights is not:
    torch.testing.assert_close(cr.nrae_weights(e, lam), ref, atol=1e-12, rtol=0)


@pytest.mark.parametrize("lam", LAMBDAS)
def test_network_gradient_float32_matches_float64(lam):
    net32, x, y = _net_and_data()
    net64 = copy.deepcopy(net32).double()
    cr.nrae(cr.squared_errors(net32(x), y), lam).backward()
    cr.nrae(cr.squared_errors(net64(x.double()), y.double()), lam).backward()
    g32 = _param_grads(net32)
    g64 = _param_grads(net64)
    for p in net32.parameters():
        assert p.grad.dtype == torch.float32
    for a, b in zip(g32, g64):
        assert torch.isfinite(a).all()
        assert torch.isfinite(b).all()
        if lam <= 1e4:
            torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6 * float(b.abs().max()))


@pytest.mark.parametrize("lam", LAMBDAS)
def test_chain_rule_eq16_per_sample(lam):
    net, x, y = _net_and_data(seed=3)
    net = net.double()
    x = x.double()
    y = y.double()
    params = list(net.parameters())
    e = cr.squared_errors(net(x), y)
    grad_c = torch.autograd.grad(cr.nrae(e, lam), params)
    pi = cr.nrae_weights(e.detach(), lam)
    acc = [torch.zeros_like(p) for p in params]
    for k in range(K):
        ek = cr.squared_errors(net(x[k : k + 1]), y[k : k + 1])[0]
        gk = torch.autograd.grad(ek, params)
        for a, g in zip(acc, gk):
            a.add_(pi[k] * g)
    for a, b in zip(grad_c, acc):
        assert torch.isfinite(a).all()
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-13)


# --------------------------------------------------------------------------- RAE


@pytest.mark.parametrize("ties", [False, True], ids=["spread", "ties"])
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("lam", LAMBDAS + [100.0, 300.0])
def test_rae_and_log_rae_match_mpmath(lam, dtype, ties):
    e = _errors(dtype, ties=ties)
    ref_log = _mp_log_rae(e, lam)
    log_j = cr.log_rae(e, lam)
    assert log_j.dtype == torch.float64
    assert torch.isfinite(log_j)
    _assert_rel(log_j, ref_log, 1e-13)
    j = cr.rae(e, lam)
    assert j.dtype == torch.float64
    lam_c = cr.lambda_critical(float(e.to(torch.float64).max()), K)
    with mpmath.workdps(50):
        ref_j = mpmath.exp(ref_log)
        representable = ref_j < F64_MAX
    assert representable == (lam < lam_c)
    if representable:
        _assert_rel(j, ref_j, 1e-12)
    else:
        assert torch.isinf(j) and j > 0


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("lam", LAMBDAS)
def test_log_rae_equals_lambda_nrae_plus_log_k(lam, dtype):
    e = _errors(dtype)
    lhs = float(cr.log_rae(e, lam))
    rhs = lam * float(cr.nrae(e, lam)) + math.log(K)
    assert lhs == pytest.approx(rhs, rel=1e-12)


@pytest.mark.parametrize("lam", [1e-8, 1e-2, 1.0, 10.0, 100.0, 300.0])
def test_rae_gradient_parallel_to_nrae_gradient(lam):
    e = _errors().requires_grad_(True)
    j = cr.rae(e, lam)
    assert torch.isfinite(j)
    (gj,) = torch.autograd.grad(j, e)
    (gc,) = torch.autograd.grad(cr.nrae(e, lam), e)
    # Components below eps₆₄ of the largest are flushed to 0 in NRAE (flush_log_cutoff):
    # compare them on the scale of the largest component.
    ref = lam * j.detach() * gc
    torch.testing.assert_close(gj, ref, rtol=1e-9, atol=1e-15 * float(ref.abs().max()))
    # Hence equal unit directions: the normalized RAE step is the NRAE step.
    # (Scale by the largest entry first: ‖∇J‖² itself overflows at λ = 300.)
    uj = gj / gj.abs().max()
    uc = gc / gc.abs().max()
    torch.testing.assert_close(uj / uj.norm(), uc / uc.norm(), rtol=1e-9, atol=1e-15)


# --------------------------------------------------------------------------- λ_c


@pytest.mark.parametrize(
    "dtype, log_fmax", [(torch.float64, 709.78), (torch.float32, 88.72)], ids=["f64", "f32"]
)
def test_lambda_critical(dtype, log_fmax):
    assert cr.log_float_max(dtype) == pytest.approx(log_fmax, abs=0.005)
    e = _errors(dtype)
    e_m = float(e.max())
    lam_c = cr.lambda_critical(e_m, K, dtype)
    assert lam_c == pytest.approx(
        (math.log(torch.finfo(dtype).max) - math.log(K)) / e_m, rel=1e-15
    )
    # Just below λ_c the naive sum in that dtype is finite ...
    below = torch.exp(0.999 * lam_c * e).sum()
    assert below.dtype == dtype
    assert torch.isfinite(below)
    # ... and just above it overflows when all errors equal e_M.
    flat = torch.full((K,), e_m, dtype=dtype)
    above = torch.exp(1.01 * lam_c * flat).sum()
    assert above.dtype == dtype
    assert torch.isinf(above)
    # The float64 RAE follows the float64 λ_c.
    if dtype == torch.float64:
        assert torch.isfinite(cr.rae(e, 0.999 * lam_c))
        assert torch.isinf(cr.rae(flat, 1.01 * lam_c))


def test_lambda_critical_examples():
    assert cr.lambda_critical(0.0, 10) == math.inf
    assert cr.lambda_critical(0.0, 10, torch.float32) == math.inf
    assert cr.lambda_critical(2.0, 100) == pytest.approx((709.782712893384 - math.log(100)) / 2)
    assert cr.lambda_critical(1.0, 1, torch.float32) == pytest.approx(88.72283935546875)


# --------------------------------------------------------------------------- sample weights


@pytest.mark.parametrize("lam", LAMBDAS)
def test_integer_weights_equal_repeated_rows(lam):
    e = _errors()
    g = torch.Generator().manual_seed(5)
    counts = torch.randint(0, 4, (K,), generator=g)
    counts[int(e.argmax())] = 2  # the worst sample carries weight
    rep = e.repeat_interleave(counts)
    s = counts.to(torch.float64)
    _assert_rel(cr.nrae(e, lam, sample_weight=s), cr.nrae(rep, lam), 1e-12)
    _assert_rel(cr.log_rae(e, lam, sample_weight=s), cr.log_rae(rep, lam), 1e-12)
    w = cr.nrae_weights(e, lam, sample_weight=s)
    w_rep = torch.zeros(K, dtype=torch.float64).index_add_(
        0, torch.arange(K).repeat_interleave(counts), cr.nrae_weights(rep, lam)
    )
    torch.testing.assert_close(w, w_rep, rtol=1e-12, atol=1e-15)
    # The autograd gradient is still those weights.
    ee = e.clone().requires_grad_(True)
    cr.nrae(ee, lam, sample_weight=s).backward()
    assert torch.isfinite(ee.grad).all()
    torch.testing.assert_close(ee.grad, w, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("lam", LAMBDAS)
def test_weights_of_ones_equal_no_weights(lam):
    e = _errors(ties=True)
    ones = torch.ones(K, dtype=torch.float64)
    _assert_rel(cr.nrae(e, lam, sample_weight=ones), cr.nrae(e, lam), 1e-14)
    _assert_rel(cr.log_rae(e, lam, sample_weight=ones), cr.log_rae(e, lam), 1e-14)
    torch.testing.assert_close(
        cr.nrae_weights(e, lam, sample_weight=ones), cr.nrae_weights(e, lam), rtol=1e-14, atol=0
    )


def _zero_weight_case(kind):
    if kind == "spread":
        e = torch.cat([_errors(), torch.tensor([3.0], dtype=torch.float64)])
    else:  # every weighted sample ties at the maximum
        e = torch.cat([torch.full((K,), 1.25, dtype=torch.float64), torch.tensor([3.0], dtype=torch.float64)])
    s = torch.cat([torch.ones(K, dtype=torch.float64), torch.zeros(1, dtype=torch.float64)])
    return e, s


def _check_zero_weight_ignored(lam, kind):
    e, s = _zero_weight_case(kind)
    ee = e.clone().requires_grad_(True)
    c = cr.nrae(ee, lam, sample_weight=s)
    sub = e[:K].clone().requires_grad_(True)
    c_ref = cr.nrae(sub, lam)
    assert torch.isfinite(c), float(c.detach())
    _assert_rel(c, c_ref, 1e-12)
    c.backward()
    c_ref.backward()
    assert torch.isfinite(ee.grad).all(), ee.grad
    assert ee.grad[K] == 0
    torch.testing.assert_close(ee.grad[:K], sub.grad, rtol=1e-12, atol=1e-15)
    _assert_rel(cr.log_rae(e, lam, sample_weight=s), cr.log_rae(e[:K], lam), 1e-14)
    assert float(cr.nrae_weights(e, lam, sample_weight=s)[K]) == 0.0


@pytest.mark.parametrize("kind", ["spread", "ties"])
@pytest.mark.parametrize("lam", [1e-8, 1e-2, 1.0])
def test_zero_weight_sample_with_largest_error_is_ignored(lam, kind):
    _check_zero_weight_ignored(lam, kind)


@pytest.mark.parametrize("kind", ["spread", "ties"])
@pytest.mark.parametrize("lam", [1e4, 1e9, 1e30])
def test_zero_weight_sample_with_largest_error_is_ignored_large_lambda(lam, kind):
    _check_zero_weight_ignored(lam, kind)


# --------------------------------------------------------------------------- fast gradient


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_fast_gradient_log_cutoff_value(dtype):
    assert cr.fast_gradient_log_cutoff(K, dtype) == pytest.approx(
        math.log(torch.finfo(dtype).eps) - math.log(K), rel=1e-15
    )
    assert cr.fast_gradient_log_cutoff(K) == cr.fast_gradient_log_cutoff(K, torch.float32)
    assert cr.fast_gradient_log_cutoff(K, torch.float32) == pytest.approx(-19.5533, abs=1e-4)


@pytest.mark.parametrize("lam", [1e-2, 12.0, 20.0, 1e4, 1e9])
def test_nrae_with_log_cutoff(lam):
    e = _errors(ties=True)
    cut = cr.fast_gradient_log_cutoff(K, torch.float32)
    x = lam * (e - e.max())
    dropped = x < cut
    if lam in (12.0, 20.0):
        assert 0 < int(dropped.sum()) < K - 4  # some dropped, some kept besides the maxima
    ee = e.clone().requires_grad_(True)
    c_cut = cr.nrae(ee, lam, log_cutoff=cut)
    c_cut.backward()
    c_full = cr.nrae(e, lam)
    assert torch.isfinite(c_cut)
    assert torch.isfinite(ee.grad).all()
    # Dropped samples get exactly zero gradient; kept ones get exp(x_k)/Σ_kept exp(x_j).
    assert (ee.grad[dropped] == 0).all()
    w_kept = torch.softmax(x[~dropped], dim=0)
    torch.testing.assert_close(ee.grad[~dropped], w_kept, rtol=1e-12, atol=1e-15)
    # The dropped mass D = Σ_dropped exp(x_k) < eps; C_full − C_cut = ln(1 + D/S_kept)/λ.
    mass = float(torch.exp(x[dropped]).sum())
    assert mass < EPS32
    s_kept = float(torch.exp(x[~dropped]).sum())
    diff = float(c_full) - float(c_cut.detach())
    assert -4 * EPS64 <= diff <= EPS32 / lam + 4 * EPS64
    assert diff == pytest.approx(math.log1p(mass / s_kept) / lam, rel=1e-6, abs=4 * EPS64)


# --------------------------------------------------------------------------- classification errors


@pytest.mark.parametrize("n_classes", [2, 5, 10])
def test_classification_errors_uniform_logits(n_classes):
    logits = torch.zeros(4, n_classes, dtype=torch.float32)
    target = torch.tensor([0, 1, 0, n_classes - 1])
    ce = cr.cross_entropy_errors(logits, target)
    assert ce.dtype == torch.float64
    torch.testing.assert_close(ce, torch.full((4,), math.log(n_classes), dtype=torch.float64))
    sq = cr.true_class_squared_errors(logits, target)
    assert sq.dtype == torch.float64
    torch.testing.assert_close(sq, torch.full((4,), (1 - 1 / n_classes) ** 2, dtype=torch.float64))


def test_classification_errors_hand_computed():
    logits = torch.tensor([[1.0, 2.0, 3.0], [0.5, -1.0, 0.0]], requires_grad=True)
    target = torch.tensor([0, 2])
    z0 = math.exp(1) + math.exp(2) + math.exp(3)
    z1 = math.exp(0.5) + math.exp(-1.0) + math.exp(0.0)
    ce = cr.cross_entropy_errors(logits, target)
    torch.testing.assert_close(
        ce, torch.tensor([math.log(z0) - 1.0, math.log(z1) - 0.0], dtype=torch.float64)
    )
    sq = cr.true_class_squared_errors(logits, target)
    torch.testing.assert_close(
        sq, torch.tensor([(1 - math.e / z0) ** 2, (1 - 1 / z1) ** 2], dtype=torch.float64)
    )
    # Gradient flows back to the float32 logits: ∂CE/∂z = softmax − onehot.
    ce.sum().backward()
    p = torch.softmax(logits.detach().double(), dim=1)
    onehot = torch.nn.functional.one_hot(target, 3).double()
    assert logits.grad.dtype == torch.float32
    torch.testing.assert_close(logits.grad.double(), p - onehot, rtol=1e-6, atol=1e-7)


def test_true_class_squared_errors_confident():
    logits = torch.tensor([[50.0, 0.0], [0.0, 50.0]], dtype=torch.float64)
    sq = cr.true_class_squared_errors(logits, torch.tensor([0, 0]))
    assert float(sq[0]) == pytest.approx(math.exp(-100), rel=1e-10)
    assert float(sq[1]) == pytest.approx(1.0, rel=1e-15)


# --------------------------------------------------------------------------- ANRAT


def _anrat_errors():
    g = torch.Generator().manual_seed(7)
    return torch.rand(K, generator=g, dtype=torch.float64)


@pytest.mark.parametrize("q", [1.0, 2.0])
@pytest.mark.parametrize("lam", [0.5, 8.0, 1e3])
def test_anrat_objective_power2(lam, q):
    L = _anrat_errors()
    got = float(cr.anrat_objective(L, lam, power=2, a=0.01, q=q))
    ref = float(cr.nrae(L, lam**2)) + 0.01 / lam**q
    assert got == pytest.approx(ref, rel=1e-15)
    with mpmath.workdps(50):
        ref_mp = _mp_nrae(L, lam**2) + mpmath.mpf("0.01") / mpmath.mpf(lam) ** q
    _assert_rel(got, ref_mp, 1e-13)


def test_anrat_objective_power1_is_nrae_plus_penalty():
    L = _anrat_errors()
    got = float(cr.anrat_objective(L, 3.0))
    assert got == pytest.approx(float(cr.nrae(L, 3.0)) + 0.01 / 3.0, rel=1e-15)
    assert cr.lambda_penalty(8.0, a=0.01, q=1.0) == pytest.approx(0.00125)


@pytest.mark.parametrize("lam", [0.5, 8.0, 100.0])
def test_anrat_gradient_wrt_lambda(lam):
    L = _anrat_errors()
    lam_t = torch.tensor(lam, dtype=torch.float64, requires_grad=True)
    obj = cr.anrat_objective(L, lam_t, power=2, a=0.01, q=1.0)
    obj.backward()
    g = float(lam_t.grad)
    assert math.isfinite(g)
    # d/dλ [C(λ²) + a/λ] = 2λ C'(λ²) − a/λ²
    ref = 2 * lam * float(_mp_nrae_dlam(L, lam**2)) - 0.01 / lam**2
    assert g == pytest.approx(ref, rel=1e-8, abs=1e-15)


@pytest.mark.parametrize("lam", LAMBDAS)
def test_nrae_derivative_in_lambda_is_nonnegative(lam):
    e = _errors()
    lam_t = torch.tensor(lam, dtype=torch.float64, requires_grad=True)
    cr.nrae(e, lam_t).backward()
    g = float(lam_t.grad)
    assert math.isfinite(g)
    assert g >= 0.0
    ref = float(_mp_nrae_dlam(e, lam))
    assert ref >= 0.0
    if 1e-2 <= lam <= 1e4:
        assert g == pytest.approx(ref, rel=1e-8)
    # Numerically, by central differences (where the step is resolvable).
    if 1e-2 <= lam <= 1e4:
        h = 1e-6 * lam
        fd = (float(cr.nrae(e, lam + h)) - float(cr.nrae(e, lam - h))) / (2 * h)
        assert fd >= 0.0
        assert fd == pytest.approx(ref, rel=1e-4)


@pytest.mark.parametrize("q", [1.0, 2.0])
@pytest.mark.parametrize("lam", [0.5, 8.0, 1e3])
def test_anrat_penalty_derivative_at_equal_errors(lam, q):
    L = torch.full((K,), 0.3, dtype=torch.float64)
    lam_t = torch.tensor(lam, dtype=torch.float64, requires_grad=True)
    a = 0.01
    obj = cr.anrat_objective(L, lam_t, power=2, a=a, q=q)
    assert float(obj.detach()) == pytest.approx(0.3 + a * lam ** (-q), rel=1e-15)
    obj.backward()
    assert float(lam_t.grad) == pytest.approx(-a * q * lam ** (-q - 1), rel=1e-12)
    # The NRAE part alone is flat in λ.
    lam2 = torch.tensor(lam, dtype=torch.float64, requires_grad=True)
    cr.nrae(L, lam2**2).backward()
    assert float(lam2.grad) == 0.0


def test_anrat_objective_through_network_is_finite():
    torch.manual_seed(11)
    net = torch.nn.Linear(4, 3)
    g = torch.Generator().manual_seed(11)
    x = torch.randn(16, 4, generator=g)
    y = torch.randint(0, 3, (16,), generator=g)
    lam_t = torch.tensor(10.0, requires_grad=True)  # float32, as a network parameter
    obj = cr.anrat_objective(cr.true_class_squared_errors(net(x), y), lam_t, power=2, a=0.01, q=2)
    assert obj.dtype == torch.float64
    obj.backward()
    assert torch.isfinite(lam_t.grad)
    assert all(torch.isfinite(p.grad).all() for p in net.parameters())


# --------------------------------------------------------------------------- squared_errors


def test_squared_errors_float32_2d():
    out = torch.tensor([[0.0, 1.0], [0.1, 0.2]], dtype=torch.float32, requires_grad=True)
    tgt = torch.tensor([[1.0, -1.0], [0.3, 0.2]], dtype=torch.float32)
    e = cr.squared_errors(out, tgt)
    assert e.dtype == torch.float64
    assert e.shape == (2,)
    o64 = out.detach().double()
    t64 = tgt.double()
    torch.testing.assert_close(e, ((t64 - o64) ** 2).sum(1), rtol=0, atol=0)
    assert float(e[0].detach()) == 5.0
    e.sum().backward()
    assert out.grad.dtype == torch.float32
    torch.testing.assert_close(out.grad, (2 * (o64 - t64)).float())


def test_squared_errors_1d():
    out = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float32)
    tgt = torch.tensor([0.0, 1.0, 2.0], dtype=torch.float32)
    e = cr.squared_errors(out, tgt)
    assert e.dtype == torch.float64
    assert e.shape == (3,)
    torch.testing.assert_close(e, torch.tensor([0.25, 4.0, 0.0], dtype=torch.float64), rtol=0, atol=0)


def test_squared_errors_float64_unchanged():
    out = torch.tensor([[1.0, 2.0, 3.0]], dtype=torch.float64)
    tgt = torch.zeros(1, 3, dtype=torch.float64)
    torch.testing.assert_close(cr.squared_errors(out, tgt), torch.tensor([14.0], dtype=torch.float64))


# ------------------------------------------------------- the training step's NRAE scalar
@pytest.mark.parametrize("lam", [1e-3, 1.0, 37.0, 1e4, 1e9])
@pytest.mark.parametrize("out_dtype", [torch.float32, torch.float64])
def test_nrae_step_loss_has_the_gradient_of_nrae(lam, out_dtype):
    g = torch.Generator().manual_seed(3)
    out = torch.randn(50, 4, generator=g).to(out_dtype).requires_grad_(True)
    target = torch.randn(50, 4, generator=g, dtype=torch.float64)
    (ref,) = torch.autograd.grad(cr.nrae(cr.squared_errors(out, target), lam), out)
    (got,) = torch.autograd.grad(cr.nrae_step_loss(cr.squared_errors(out, target), lam), out)
    assert got.dtype == out_dtype
    assert torch.isfinite(got).all()
    # Same weights up to the rounding of their normalization (the flushed weights'
    # share, < eps64, stays in softmax's denominator).
    assert torch.allclose(got, ref, rtol=1e-12 if out_dtype == torch.float64 else 1e-6, atol=0)


def test_nrae_step_loss_flushes_negligible_weights_to_zero():
    e = torch.tensor([0.0, 0.5, 1.0], dtype=torch.float64, requires_grad=True)
    cr.nrae_step_loss(e, 1e3).backward()
    assert e.grad.tolist() == [0.0, 0.0, 1.0]  # exp(-500), exp(-1000) < eps64/3


@pytest.mark.parametrize("loss", [cr.squared_errors, cr.cross_entropy_errors, cr.true_class_squared_errors])
def test_per_sample_errors_in_the_output_dtype_on_request(loss):
    out = torch.tensor([[0.5, -1.0, 2.0]], dtype=torch.float32)
    target = torch.tensor([1]) if loss is not cr.squared_errors else torch.tensor([[1.0, -1.0, -1.0]])
    assert loss(out, target).dtype == torch.float64
    plain = loss(out, target, dtype=None)
    assert plain.dtype == torch.float32
    assert float(plain) == pytest.approx(float(loss(out, target)), rel=1e-6)

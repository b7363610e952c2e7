"""Tests for the no-overlap network, its data generator and its closed forms."""

import math

import numpy as np
import pytest
import torch

from skconvex.datasets import make_no_overlap_regression
from skconvex.nn import BUILTIN_MODULES, NoOverlapCNN, build_module
from skconvex.nn import masks
from skconvex.nn.factory import module_param_names
from skconvex.theory import angle, g, population_gradient, population_loss

RELU = lambda z: np.maximum(z, 0.0)  # noqa: E731


def hand_forward(x, filters, k, d, head=None):
    """Numpy loop over samples, filters and patches."""
    n, m = x.shape[0], filters.shape[0]
    hidden = np.zeros((n, m))
    for s in range(n):
        for j in range(m):
            hidden[s, j] = sum(RELU(filters[j] @ x[s, i * d:(i + 1) * d]) for i in range(k)) / k
    if head is None:
        return hidden.mean(axis=1, keepdims=True)
    weight, bias = head
    return hidden @ weight.T + bias


def to_numpy(t):
    return t.detach().cpu().numpy()


# --------------------------------------------------------------------------
# module


def test_single_filter_matches_hand_computation():
    torch.manual_seed(0)
    net = NoOverlapCNN(15, patch_size=3).double()
    x = torch.randn(7, 15, dtype=torch.float64)
    out = net(x)
    assert out.shape == (7, 1)
    assert net.n_patches == 5 and net.patch_size == 3 and net.head is None
    assert tuple(net.filter.shape) == (1, 3)
    expected = hand_forward(to_numpy(x), to_numpy(net.filter), 5, 3)
    np.testing.assert_allclose(to_numpy(out), expected, rtol=1e-12, atol=1e-14)


def test_several_filters_linear_readout_matches_hand_computation():
    torch.manual_seed(1)
    net = NoOverlapCNN(12, 3, patch_size=4, n_filters=5, readout="linear").double()
    x = torch.randn(6, 12, dtype=torch.float64)
    out = net(x)
    assert out.shape == (6, 3)
    assert tuple(net.filter.shape) == (5, 4)
    head = (to_numpy(net.head.weight), to_numpy(net.head.bias))
    expected = hand_forward(to_numpy(x), to_numpy(net.filter), 3, 4, head)
    np.testing.assert_allclose(to_numpy(out), expected, rtol=1e-12, atol=1e-14)


def test_several_filters_average_readout_averages_filters():
    torch.manual_seed(2)
    net = NoOverlapCNN(8, patch_size=2, n_filters=3).double()
    x = torch.randn(5, 8, dtype=torch.float64)
    expected = hand_forward(to_numpy(x), to_numpy(net.filter), 4, 2)
    np.testing.assert_allclose(to_numpy(net(x)), expected, rtol=1e-12, atol=1e-14)


def test_inputs_are_flattened():
    torch.manual_seed(3)
    net = NoOverlapCNN(12, patch_size=4)
    x = torch.randn(2, 1, 3, 4)
    torch.testing.assert_close(net(x), net(x.reshape(2, 12)))


def test_errors():
    with pytest.raises(ValueError, match=r"n_features=10 .*patch_size=3"):
        NoOverlapCNN(10, patch_size=3)
    with pytest.raises(ValueError, match="readout"):
        NoOverlapCNN(10, patch_size=5, readout="max")
    with pytest.raises(ValueError, match="init"):
        NoOverlapCNN(10, patch_size=5, init="glorot")
    with pytest.raises(ValueError, match="n_outputs=2"):
        NoOverlapCNN(10, 2, patch_size=5)
    with pytest.raises(ValueError, match="n_filters"):
        NoOverlapCNN(10, patch_size=5, n_filters=0)
    with pytest.raises(ValueError, match="patch_size"):
        NoOverlapCNN(10, patch_size=0)
    with pytest.raises(TypeError):
        NoOverlapCNN(10)  # patch_size is required


def test_init_reproducible_and_unit_norm():
    torch.manual_seed(4)
    a = NoOverlapCNN(20, 2, patch_size=5, n_filters=3, readout="linear")
    torch.manual_seed(4)
    b = NoOverlapCNN(20, 2, patch_size=5, n_filters=3, readout="linear")
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert torch.equal(pa, pb)
    torch.testing.assert_close(a.filter.detach().norm(dim=1), torch.ones(3))
    torch.manual_seed(4)
    c = NoOverlapCNN(20, patch_size=5, n_filters=3, init="torch")
    assert not torch.equal(c.filter, a.filter)
    assert float(c.filter.detach().abs().max()) <= 1 / math.sqrt(5)


def test_masks_prune_filter_entries():
    torch.manual_seed(5)
    net = NoOverlapCNN(12, 2, patch_size=4, n_filters=2, readout="linear").double()
    names = set(masks.add_masks(net))
    assert names == {"conv.weight", "head.weight"}
    keep = torch.tensor([[True, False, True, True], [False, True, True, False]])
    before = to_numpy(net.filter).copy()
    masks.prune_(net, {"conv.weight": keep})
    pruned = before * keep.numpy()
    np.testing.assert_array_equal(to_numpy(net.filter), pruned)
    x = torch.randn(9, 12, dtype=torch.float64)
    head = (to_numpy(net.head.weight), to_numpy(net.head.bias))
    expected = hand_forward(to_numpy(x), pruned, 3, 4, head)
    np.testing.assert_allclose(to_numpy(net(x)), expected, rtol=1e-12, atol=1e-14)
    # pruned entries receive no gradient after mask_gradients_
    net(x).sum().backward()
    masks.mask_gradients_(net)
    assert bool((net.filter.grad[~keep] == 0).all())


def test_factory():
    assert BUILTIN_MODULES["no_overlap_cnn"] is NoOverlapCNN
    net = build_module("no_overlap_cnn", 12, 1, patch_size=4, n_filters=2)
    assert isinstance(net, NoOverlapCNN)
    assert (net.n_patches, net.patch_size, tuple(net.filter.shape)) == (3, 4, (2, 4))
    net = build_module("no_overlap_cnn", 12, 3, patch_size=3, readout="linear")
    assert net(torch.zeros(1, 12)).shape == (1, 3)
    assert module_param_names("no_overlap_cnn") == {"patch_size", "n_filters", "readout", "init"}


# --------------------------------------------------------------------------
# data


def test_make_no_overlap_regression():
    X, y, w_star = make_no_overlap_regression(
        300, n_patches=5, patch_size=3, random_state=0, return_coef=True
    )
    assert X.shape == (300, 15) and y.shape == (300,) and w_star.shape == (3,)
    assert X.dtype == y.dtype == w_star.dtype == np.float64
    assert math.isclose(np.linalg.norm(w_star), 1.0, rel_tol=1e-14)
    net = NoOverlapCNN(15, patch_size=3).double()
    with torch.no_grad():
        net.filter.copy_(torch.from_numpy(w_star)[None])
        out = net(torch.from_numpy(X))
    np.testing.assert_allclose(to_numpy(out)[:, 0], y, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(hand_forward(X[:20], w_star[None], 5, 3)[:, 0], y[:20], rtol=1e-12)

    X2, y2 = make_no_overlap_regression(300, n_patches=5, patch_size=3, random_state=0)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    X3, _, w3 = make_no_overlap_regression(
        300, n_patches=5, patch_size=3, random_state=1, return_coef=True
    )
    assert not np.array_equal(X, X3) and not np.array_equal(w_star, w3)


def test_make_no_overlap_regression_noise():
    kwargs = dict(n_patches=2, patch_size=4, random_state=3, return_coef=True)
    X, y, w = make_no_overlap_regression(20000, **kwargs)
    Xn, yn, wn = make_no_overlap_regression(20000, noise=0.5, **kwargs)
    np.testing.assert_array_equal(X, Xn)
    np.testing.assert_array_equal(w, wn)
    residual = yn - y
    assert abs(residual.mean()) < 4 * 0.5 / math.sqrt(20000)
    assert abs(residual.std() - 0.5) < 0.02


def test_make_no_overlap_regression_validation():
    with pytest.raises(ValueError):
        make_no_overlap_regression(10, n_patches=0, patch_size=3)
    with pytest.raises(ValueError):
        make_no_overlap_regression(10, n_patches=2, patch_size=3, noise=-1.0)


# --------------------------------------------------------------------------
# closed forms

N_MC = 100_000


def _w_star(d=4, seed=0):
    w = np.random.default_rng(seed).standard_normal(d)
    return w / np.linalg.norm(w)


def _orthogonal(w_star, seed=1):
    v = np.random.default_rng(seed).standard_normal(w_star.shape)
    v -= (v @ w_star) / (w_star @ w_star) * w_star
    return v / np.linalg.norm(v) * 0.7


def _test_points(w_star):
    rng = np.random.default_rng(2)
    return {
        "minus": -w_star,
        "orthogonal": _orthogonal(w_star),
        "double": 2 * w_star,
        "random": rng.standard_normal(w_star.shape),
        "zero": np.zeros_like(w_star),
    }


def notes_loss(w, w_star, k):
    """ALGORITHM-NOTES / RVSM eq. 5, literally."""
    a = k / 2 + (k * k - k) / (2 * math.pi)
    n, m = np.linalg.norm(w), np.linalg.norm(w_star)
    return (a * (n * n + m * m) - 2 * k * g(w, w_star) - (k * k - k) / math.pi * n * m) / k**2


def test_angle():
    assert angle([1, 0], [0, 1]) == pytest.approx(math.pi / 2)
    assert angle([1, 2, 3], [1, 2, 3]) == 0.0
    assert angle([1, 2, 3], [-2, -4, -6]) == pytest.approx(math.pi, abs=1e-15)
    assert angle([1, 0], [1, 1]) == pytest.approx(math.pi / 4)
    rng = np.random.default_rng(0)
    for _ in range(10):
        u, v = rng.standard_normal((2, 5))
        cos = np.clip(u @ v / np.linalg.norm(u) / np.linalg.norm(v), -1, 1)
        assert angle(u, v) == pytest.approx(math.acos(cos), rel=1e-12)
    assert angle([0, 0], [1, 0]) == angle([0.0, 0.0], [0.0, 0.0]) == math.pi / 2
    # tiny angles keep their precision
    assert angle([1, 0], [1, 1e-10]) == pytest.approx(1e-10, rel=1e-9)


@pytest.mark.parametrize(
    "u, v",
    [
        ([1.0, 0.0, 0.0], [1.0, 0.0, 0.0]),
        ([1.0, 0.0, 0.0], [0.0, 2.0, 0.0]),
        ([1.0, 0.0, 0.0], [-0.5, 0.0, 0.0]),
        ([1.0, 2.0, -1.0], [0.3, -1.0, 2.0]),
        ([1.0, 2.0, -1.0], [1.5, 1.0, 0.0]),
    ],
)
def test_g_against_monte_carlo(u, v):
    x = np.random.default_rng(10).standard_normal((N_MC, 3))
    samples = RELU(x @ np.array(u)) * RELU(x @ np.array(v))
    mean, se = samples.mean(), samples.std(ddof=1) / math.sqrt(N_MC)
    assert abs(mean - g(u, v)) <= 5 * se + 1e-12


def test_g_special_values():
    assert g([3.0, 4.0], [3.0, 4.0]) == pytest.approx(12.5)  # ‖u‖²/2
    assert g([1.0, 0.0], [0.0, 1.0]) == pytest.approx(1 / (2 * math.pi))
    assert g([0.0, 0.0], [1.0, 2.0]) == 0.0
    assert abs(g([1.0, 0.0], [-1.0, 0.0])) < 1e-15


def _mc_loss(w, w_star, k, seed):
    d = w.shape[0]
    x = np.random.default_rng(seed).standard_normal((N_MC, k, d))
    diff = RELU(x @ w).mean(axis=1) - RELU(x @ w_star).mean(axis=1)
    samples = diff**2
    return samples.mean(), samples.std(ddof=1) / math.sqrt(N_MC)


@pytest.mark.parametrize("k", [1, 2, 5])
def test_population_loss_against_monte_carlo(k):
    w_star = _w_star()
    for i, (name, w) in enumerate(_test_points(w_star).items()):
        mean, se = _mc_loss(w, w_star, k, seed=100 + i)
        loss = population_loss(w, w_star, k)
        assert abs(mean - loss) <= 5 * se, (name, mean, loss, se)
        assert population_loss(w, w_star, k, half=True) == pytest.approx(loss / 2)
        assert loss == pytest.approx(notes_loss(w, w_star, k), rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("k", [1, 2, 5])
def test_population_loss_special_values(k):
    w_star = _w_star()
    assert population_loss(w_star, w_star, k) == 0.0
    assert population_loss(3 * w_star, 3 * w_star, k) == 0.0
    assert population_loss(w_star, w_star, k, half=True) == 0.0
    # w = 0: E[f(x; w*)²] = (k/2 + (k²−k)/(2π)) ‖w*‖² / k²
    a = k / 2 + (k * k - k) / (2 * math.pi)
    assert population_loss(np.zeros(4), w_star, k) == pytest.approx(a / k**2)
    rng = np.random.default_rng(k)
    for _ in range(20):
        assert population_loss(rng.standard_normal(4), w_star, k) > 0


def _finite_difference(w, w_star, k, h=1e-6):
    grad = np.zeros_like(w)
    for j in range(w.shape[0]):
        e = np.zeros_like(w)
        e[j] = h
        grad[j] = (population_loss(w + e, w_star, k) - population_loss(w - e, w_star, k)) / (2 * h)
    return grad


@pytest.mark.parametrize("k", [1, 2, 5])
def test_population_gradient_against_finite_differences(k):
    w_star = _w_star()
    points = _test_points(w_star)
    del points["zero"], points["minus"]  # not differentiable at 0; θ = π is an edge of the angle
    rng = np.random.default_rng(7)
    points.update({f"random{i}": rng.standard_normal(4) for i in range(5)})
    points["half"] = 0.5 * w_star
    points["near"] = w_star + 1e-3 * rng.standard_normal(4)
    for name, w in points.items():
        grad = population_gradient(w, w_star, k)
        np.testing.assert_allclose(
            grad, _finite_difference(w, w_star, k), rtol=1e-6, atol=1e-9, err_msg=name
        )
        np.testing.assert_allclose(population_gradient(w, w_star, k, half=True), grad / 2)


@pytest.mark.parametrize("k", [1, 2, 5])
def test_population_gradient_critical_points(k):
    w_star = _w_star()
    np.testing.assert_array_equal(population_gradient(w_star, w_star, k), np.zeros(4))
    np.testing.assert_array_equal(population_gradient(2.5 * w_star, 2.5 * w_star, k), 0.0)
    if k > 1:  # the degenerate saddle of Lemma 3
        saddle = -(k * k - k) / (k * k + (math.pi - 1) * k) * w_star
        np.testing.assert_allclose(population_gradient(saddle, w_star, k), 0.0, atol=1e-14)
    else:
        assert np.linalg.norm(population_gradient(-0.3 * w_star, w_star, k)) > 0.1


def test_population_gradient_matches_autograd_on_samples():
    """The network's empirical MSE gradient approaches the population gradient."""
    k, d = 3, 4
    w_star = _w_star(d)
    w = np.array([0.2, -0.5, 0.9, 0.1])
    X, y = make_no_overlap_regression(200_000, n_patches=k, patch_size=d, random_state=0)
    # make_no_overlap_regression draws its own w*; relabel with ours
    y = RELU(X.reshape(-1, k, d) @ w_star).mean(axis=1)
    net = NoOverlapCNN(k * d, patch_size=d).double()
    with torch.no_grad():
        net.filter.copy_(torch.from_numpy(w)[None])
    loss = ((net(torch.from_numpy(X))[:, 0] - torch.from_numpy(y)) ** 2).mean()
    loss.backward()
    empirical = to_numpy(net.filter.grad)[0]
    np.testing.assert_allclose(empirical, population_gradient(w, w_star, k), atol=1e-2)
    assert float(loss.detach()) == pytest.approx(population_loss(w, w_star, k), rel=2e-2)


def test_theory_validation():
    with pytest.raises(ValueError, match="same shape"):
        population_loss([1.0, 0.0], [1.0, 0.0, 0.0], 2)
    with pytest.raises(ValueError, match="same shape"):
        g([1.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="1-D"):
        angle([[1.0, 0.0]], [[1.0, 0.0]])
    for bad_k in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="k"):
            population_loss([1.0, 0.0], [1.0, 0.0], bad_k)
        with pytest.raises(ValueError, match="k"):
            population_gradient([1.0, 0.0], [1.0, 0.0], bad_k)
    with pytest.raises(ValueError, match="w = 0"):
        population_gradient([0.0, 0.0], [1.0, 0.0], 2)
    with pytest.raises(ValueError, match="finite"):
        g([np.nan, 0.0], [1.0, 0.0])
    assert population_loss([1.0, 0.0], [1.0, 0.0], np.int64(3)) == 0.0

"""Tests for skconvex.nn (torch modules, no scikit-learn involved)."""

import math

import pytest
import torch
from torch import nn

from skconvex.nn import (
    ACTIVATIONS,
    BUILTIN_MODULES,
    MLP,
    LeCunTanh,
    LeNet5,
    LeNetVariant,
    build_module,
    make_activation,
)
from skconvex.nn.factory import accepts_any_keyword, module_param_names
from skconvex.nn.lenet import C3_CONNECTIONS


def n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


# --------------------------------------------------------------------------
# activations


def test_lecun_tanh_values():
    out = LeCunTanh()(torch.tensor([-1.0, 0.0, 1.0, 100.0], dtype=torch.float64))
    assert out[1].item() == 0.0
    assert out[2].item() == pytest.approx(1.0, abs=1e-4)
    assert out[0].item() == pytest.approx(-1.0, abs=1e-4)
    assert out[3].item() == pytest.approx(1.7159)


def test_make_activation():
    assert set(ACTIVATIONS) == {"relu", "tanh", "logistic", "lecun_tanh", "identity"}
    x = torch.tensor([-2.0, 0.0, 2.0])
    assert make_activation("relu")(x).tolist() == [0.0, 0.0, 2.0]
    assert make_activation("identity")(x).tolist() == [-2.0, 0.0, 2.0]
    assert make_activation("logistic")(torch.tensor([0.0])).item() == 0.5
    assert isinstance(make_activation("lecun_tanh"), LeCunTanh)
    with pytest.raises(ValueError, match="lecun_tanh"):
        make_activation("softmax")


# --------------------------------------------------------------------------
# MLP


def test_mlp_shapes_and_param_count():
    net = MLP(64, 10, hidden_layer_sizes=(256,))
    assert all(type(layer) is nn.Linear for layer in net.linears)
    assert n_params(net) == 64 * 256 + 256 + 256 * 10 + 10 == 19210
    assert net(torch.randn(5, 64)).shape == (5, 10)
    # images are flattened
    assert MLP(784, 3, (7,))(torch.randn(2, 1, 28, 28)).shape == (2, 3)
    # no hidden layer: a single linear map
    assert len(MLP(4, 2, hidden_layer_sizes=()).linears) == 1


def test_mlp_paper_init_bounds():
    torch.manual_seed(0)
    net = MLP(64, 10, hidden_layer_sizes=(256,), activation="lecun_tanh")  # auto -> paper
    for layer in net.linears:
        bound = 2.4 / layer.in_features
        for p in (layer.weight, layer.bias):
            assert p.abs().max().item() <= bound
        assert layer.weight.abs().max().item() > 0.98 * bound


@pytest.mark.parametrize("activation, factor", [("relu", 6.0), ("logistic", 2.0)])
def test_mlp_glorot_init_bounds(activation, factor):
    torch.manual_seed(0)
    net = MLP(64, 10, hidden_layer_sizes=(256,), activation=activation)  # auto -> glorot
    for layer in net.linears:
        bound = math.sqrt(factor / (layer.in_features + layer.out_features))
        for p in (layer.weight, layer.bias):
            assert p.abs().max().item() <= bound
        assert layer.weight.abs().max().item() > 0.98 * bound


def test_mlp_same_seed_same_weights():
    def make():
        torch.manual_seed(42)
        return MLP(8, 3, hidden_layer_sizes=(16, 4))

    a, b = make(), make()
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(pa, pb)
    torch.manual_seed(43)
    assert not torch.equal(MLP(8, 3, hidden_layer_sizes=(16, 4)).linears[0].weight,
                           a.linears[0].weight)


def test_mlp_dropout_only_in_training():
    torch.manual_seed(0)
    net = MLP(10, 2, hidden_layer_sizes=(50,), dropout=0.5)
    x = torch.randn(4, 10)
    net.eval()
    assert torch.equal(net(x), net(x))
    net.train()
    assert not torch.equal(net(x), net(x))
    with pytest.raises(ValueError, match="dropout"):
        MLP(10, 2, dropout=1.0)


def test_mlp_output_activation_and_bad_init():
    net = MLP(3, 2, output_activation="logistic")
    out = net(torch.randn(6, 3))
    assert ((out > 0) & (out < 1)).all()
    with pytest.raises(ValueError, match="init"):
        MLP(3, 2, init="xavier")


def test_mlp_state_dict_and_pickle():
    import pickle

    net = MLP(4, 2, hidden_layer_sizes=(3,))
    assert list(net.state_dict()) == [
        "linears.0.weight", "linears.0.bias", "linears.1.weight", "linears.1.bias",
    ]
    copy = pickle.loads(pickle.dumps(net))
    with torch.no_grad():
        copy.linears[-1].bias.fill_(5.0)
        copy.linears[-1].weight.zero_()
    # forward of the copy uses the copy's own layers
    assert copy(torch.randn(2, 4)).tolist() == [[5.0, 5.0], [5.0, 5.0]]


# --------------------------------------------------------------------------
# LeNet-5


def test_lenet5_connection_table():
    mask = LeNet5().c3.connection_mask
    assert mask.shape == (16, 6, 5, 5)
    per_map = mask[:, :, 0, 0].sum(dim=1).tolist()
    assert per_map == [3.0] * 6 + [4.0] * 9 + [6.0]
    assert sum(len(c) for c in C3_CONNECTIONS) == 60
    assert mask[14, :, 0, 0].tolist() == [1.0, 0.0, 1.0, 1.0, 0.0, 1.0]


def test_lenet5_param_count():
    net = LeNet5()
    c3 = 60 * 25 + 16
    assert int(net.c3.connection_mask.sum()) + net.c3.bias.numel() == c3 == 1516
    expected = {
        "c1": 6 * 25 + 6,  # 156
        "s2": 6 + 6,  # 12
        "s4": 16 + 16,  # 32
        "c5": 120 * 16 * 25 + 120,  # 48120
        "f6": 120 * 84 + 84,  # 10164
        "output": 84 * 10 + 10,  # 850
    }
    for name, count in expected.items():
        assert n_params(getattr(net, name)) == count
    trainable = n_params(net) - net.c3.weight.numel() + int(net.c3.connection_mask.sum())
    assert trainable == sum(expected.values()) + c3 == 60850
    # the masked weights start at zero
    assert torch.all(net.c3.weight[net.c3.connection_mask == 0] == 0)


def test_lenet5_shapes():
    torch.manual_seed(0)
    net = LeNet5()
    assert net(torch.randn(3, 784)).shape == (3, 10)
    assert net(torch.randn(3, 1, 28, 28)).shape == (3, 10)
    net32 = LeNet5(n_features=1024, n_outputs=4, image_shape=(1, 32, 32))
    assert net32(torch.randn(2, 1024)).shape == (2, 4)
    with pytest.raises(ValueError, match="n_features"):
        LeNet5(n_features=100)
    with pytest.raises(ValueError, match="28 or 32"):
        LeNet5(n_features=900, image_shape=(1, 30, 30))


def test_lenet5_paper_init_bounds():
    torch.manual_seed(0)
    net = LeNet5()  # lecun_tanh -> paper
    fan_ins = {"c1": 25, "s2": 4, "c3": 150, "s4": 4, "c5": 400, "f6": 120, "output": 84}
    for name, fan_in in fan_ins.items():
        for p in getattr(net, name).parameters():
            assert p.abs().max().item() <= 2.4 / fan_in


def test_lenet5_masked_weights_get_no_gradient():
    torch.manual_seed(0)
    net = LeNet5()
    net(torch.randn(4, 784)).sum().backward()
    grad, mask = net.c3.weight.grad, net.c3.connection_mask
    assert torch.all(grad[mask == 0] == 0)
    assert grad[mask == 1].abs().sum() > 0


def test_lenet5_c3_is_a_prunable_conv2d():
    from torch.nn.utils import prune

    torch.manual_seed(0)
    net = LeNet5()
    assert isinstance(net.c3, nn.Conv2d)
    x = torch.randn(2, 784)
    prune.l1_unstructured(net.c3, "weight", amount=0.9)
    out = net(x)
    assert out.shape == (2, 10)
    # pruning and connection table combine: at most 10% of the 2400 weights
    assert int((net.c3.weight * net.c3.connection_mask != 0).sum()) <= 240


def test_lenet5_same_seed_same_weights():
    torch.manual_seed(3)
    a = LeNet5()
    torch.manual_seed(3)
    b = LeNet5()
    assert all(torch.equal(pa, pb) for pa, pb in zip(a.parameters(), b.parameters()))


# --------------------------------------------------------------------------
# LeNet 20-50-500


def test_lenet_variant_shapes_and_params():
    torch.manual_seed(0)
    net = LeNetVariant()
    assert n_params(net) == 20 * 25 + 20 + 50 * 20 * 25 + 50 + 800 * 500 + 500 + 500 * 10 + 10
    assert n_params(net) == 431080
    assert net(torch.randn(3, 784)).shape == (3, 10)
    assert net(torch.randn(3, 1, 28, 28)).shape == (3, 10)
    net32 = LeNetVariant(n_features=3 * 32 * 32, n_outputs=2, image_shape=(3, 32, 32))
    assert net32.fc1.in_features == 50 * 5 * 5
    assert net32(torch.randn(2, 3, 32, 32)).shape == (2, 2)
    with pytest.raises(ValueError, match="n_features"):
        LeNetVariant(n_features=785)


def test_lenet_variant_dropout():
    torch.manual_seed(0)
    net = LeNetVariant(dropout=0.5)
    x = torch.randn(2, 784)
    net.eval()
    assert torch.equal(net(x), net(x))
    net.train()
    assert not torch.equal(net(x), net(x))


# --------------------------------------------------------------------------
# factory


def test_build_module_builtin_names():
    assert set(BUILTIN_MODULES) == {"mlp", "lenet5", "lenet5_20_50_500", "no_overlap_cnn"}
    net = build_module("mlp", 5, 2, hidden_layer_sizes=(3,))
    assert isinstance(net, MLP)
    assert [layer.in_features for layer in net.linears] == [5, 3]
    assert isinstance(build_module("lenet5", 784, 10), LeNet5)
    assert isinstance(build_module("lenet5_20_50_500", 784, 10), LeNetVariant)


def test_build_module_errors():
    with pytest.raises(ValueError, match="lenet5_20_50_500"):
        build_module("resnet", 5, 2)
    with pytest.raises(TypeError, match="instance"):
        build_module(MLP(5, 2), 5, 2)
    with pytest.raises(TypeError, match="torch.nn.Module"):
        build_module(lambda n_features, n_outputs: "not a module", 5, 2)


def test_build_module_user_factories():
    calls = []

    def factory(width=4):
        calls.append(width)
        return nn.Sequential(nn.Linear(3, width), nn.ReLU(), nn.Linear(width, 1))

    net = build_module(factory, 3, 1, width=7)
    assert calls == [7]
    assert net(torch.randn(2, 3)).shape == (2, 1)

    def kw_factory(**kwargs):
        return nn.Linear(kwargs["n_features"], kwargs["n_outputs"])

    lin = build_module(kw_factory, 6, 2)
    assert (lin.in_features, lin.out_features) == (6, 2)

    class Custom(nn.Module):
        def __init__(self, n_features, n_outputs, *, scale=1.0):
            super().__init__()
            self.lin = nn.Linear(n_features, n_outputs)
            self.scale = scale

    custom = build_module(Custom, 4, 3, scale=2.0)
    assert (custom.lin.in_features, custom.lin.out_features, custom.scale) == (4, 3, 2.0)


def test_module_param_names():
    assert module_param_names("lenet5") == {
        "image_shape", "activation", "output_activation", "init",
    }
    assert module_param_names("lenet5_20_50_500") == {
        "image_shape", "activation", "output_activation", "init", "dropout",
    }
    assert module_param_names(lambda n_features, width=3, *args, depth, **kw: None) == {
        "width", "depth",
    }
    assert accepts_any_keyword(lambda **kw: None)
    assert not accepts_any_keyword(MLP)
    with pytest.raises(ValueError):
        module_param_names("nope")


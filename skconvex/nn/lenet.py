"""LeNet-5 (LeCun et al. 1998) and the "20-50-500" LeNet of Caffe/Theano."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .activations import make_activation
from .mlp import _init_bound, _init_layer_, _reset_uniform_, _resolve_init
from .randomness import Dropout

__all__ = ["LeNet5", "LeNetVariant"]

#: Table I of LeCun et al. (1998): the S2 maps feeding each C3 map.
C3_CONNECTIONS: tuple[tuple[int, ...], ...] = (
    # maps 0-5: three contiguous S2 maps
    (0, 1, 2), (1, 2, 3), (2, 3, 4), (3, 4, 5), (4, 5, 0), (5, 0, 1),
    # maps 6-11: four contiguous S2 maps
    (0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5), (3, 4, 5, 0), (4, 5, 0, 1), (5, 0, 1, 2),
    # maps 12-14: four non-contiguous S2 maps
    (0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5),
    # map 15: all S2 maps
    (0, 1, 2, 3, 4, 5),
)  # fmt: skip


def _image_shape(image_shape: Sequence[int], n_features: int) -> tuple[int, int, int]:
    """Validate ``image_shape`` (C, H, W) against ``n_features``."""
    shape = tuple(int(s) for s in image_shape)
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(f"image_shape must be (C, H, W), got {image_shape!r}.")
    if shape[0] * shape[1] * shape[2] != n_features:
        raise ValueError(
            f"n_features={n_features} does not match image_shape={shape} "
            f"(C*H*W = {shape[0] * shape[1] * shape[2]})."
        )
    return shape


class Subsampling(nn.Module):
    """LeNet-5 subsampling: sum of each 2x2 block times a per-map coefficient plus a per-map bias.

    Computes ``4 * avg_pool2d(x, 2) * weight[c] + bias[c]`` for every map ``c``
    (LeCun et al. 1998, layers S2 and S4); the squashing function is applied
    by the caller.

    Parameters
    ----------
    n_maps : int
        Number of feature maps (channels).

    Attributes
    ----------
    weight : torch.nn.Parameter of shape (n_maps,)
        Trainable coefficients, initialized to 0.25 (plain average pooling).
    bias : torch.nn.Parameter of shape (n_maps,)
        Trainable biases, initialized to 0.

    Examples
    --------
    >>> import torch
    >>> Subsampling(1)(torch.ones(1, 1, 4, 4))
    tensor([[[[1., 1.],
              [1., 1.]]]], grad_fn=<AddBackward0>)
    """

    def __init__(self, n_maps: int) -> None:
        super().__init__()
        # Named weight/bias so that the generic initializers (and weight
        # decay filters keyed on "weight") treat them like other layers.
        self.weight = nn.Parameter(torch.full((n_maps,), 0.25))
        self.bias = nn.Parameter(torch.zeros(n_maps))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        summed = F.avg_pool2d(x, 2) * 4.0
        return summed * self.weight.view(1, -1, 1, 1) + self.bias.view(1, -1, 1, 1)


class MaskedConv2d(nn.Conv2d):
    """:class:`torch.nn.Conv2d` whose weight is multiplied by a fixed mask.

    The mask, a float buffer ``connection_mask`` shaped like ``weight``, is
    applied in ``forward`` so masked entries get zero gradient; the class is a
    ``Conv2d`` subclass so code that iterates over Conv2d layers (and
    :mod:`torch.nn.utils.prune`, whose pre-forward hooks still run) handles it
    like any other convolution.

    Parameters
    ----------
    in_channels, out_channels, kernel_size : int
        As for :class:`torch.nn.Conv2d`.
    connections : sequence of sequence of int
        ``connections[o]`` lists the input channels connected to output ``o``.

    Examples
    --------
    >>> conv = MaskedConv2d(2, 2, 1, connections=[(0,), (0, 1)])
    >>> conv.connection_mask.flatten().tolist()
    [1.0, 0.0, 1.0, 1.0]
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        connections: Sequence[Sequence[int]],
    ) -> None:
        super().__init__(in_channels, out_channels, kernel_size)
        if len(connections) != out_channels:
            raise ValueError("connections needs one entry per output channel.")
        mask = torch.zeros_like(self.weight)
        for out, inputs in enumerate(connections):
            mask[out, list(inputs)] = 1.0
        self.register_buffer("connection_mask", mask)
        self.apply_mask_()

    def apply_mask_(self) -> None:
        """Zero the disconnected weights in place (e.g. after re-initializing)."""
        with torch.no_grad():
            self.weight.mul_(self.connection_mask)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._conv_forward(x, self.weight * self.connection_mask, self.bias)


class LeNet5(nn.Module):
    """LeNet-5 of LeCun, Bottou, Bengio and Haffner (1998).

    Layers: zero-padding of 28x28 images to 32x32; C1 6@5x5 convolution
    (28x28); S2 subsampling (14x14, :class:`Subsampling`); C3 16@5x5
    convolution with the partial connection table of Table I (10x10,
    :class:`MaskedConv2d`, 60 connected map pairs); S4 subsampling (5x5);
    C5 120@5x5 convolution (1x1); F6 ``Linear(120, 84)``; output
    ``Linear(84, n_outputs)`` followed by ``output_activation``. As in the
    paper, every layer up to F6 (convolutions and subsamplings alike) is
    followed by the squashing function ``activation``.

    Unlike the paper, the Euclidean RBF output layer is replaced by a linear
    layer, so outputs are scores (logits) usable with standard losses.

    Parameters
    ----------
    n_features : int, default=784
        Number of input features; must equal ``C * H * W``.
    n_outputs : int, default=10
        Number of output units.
    image_shape : (int, int, int), default=(1, 28, 28)
        Input image shape ``(C, H, W)``. ``H`` and ``W`` must each be 28
        (zero-padded by 2 on each side inside the module) or 32 (no padding).
    activation : str, default="lecun_tanh"
        Squashing function (the paper's ``1.7159 tanh(2a/3)``).
    output_activation : str, default="identity"
        Activation after the output layer.
    init : {"auto", "paper", "glorot", "torch"}, default="auto"
        As in :class:`~skconvex.nn.MLP`; ``"auto"`` is ``"paper"`` for
        ``"lecun_tanh"``. With ``"paper"`` each layer is drawn from
        ``U(-2.4/F, 2.4/F)``: ``F = in_channels * 5 * 5`` for convolutions
        (for C3 the full fan-in 6*25 is used, not the number of connected
        inputs of each map), ``F = 4`` for subsamplings and ``in_features``
        for linear layers. With ``"torch"`` subsamplings start as average
        pooling (coefficient 0.25, bias 0). Draws come from torch's global
        generator layer by layer, weight then bias.

    Examples
    --------
    >>> import torch
    >>> _ = torch.manual_seed(0)
    >>> net = LeNet5()
    >>> net(torch.zeros(2, 784)).shape
    torch.Size([2, 10])
    >>> int(net.c3.connection_mask.sum()) // 25
    60
    """

    def __init__(
        self,
        n_features: int = 784,
        n_outputs: int = 10,
        image_shape: Sequence[int] = (1, 28, 28),
        activation: str = "lecun_tanh",
        output_activation: str = "identity",
        init: str = "auto",
    ) -> None:
        super().__init__()
        channels, height, width = _image_shape(image_shape, n_features)
        if height not in (28, 32) or width not in (28, 32):
            raise ValueError(
                f"LeNet5 needs 28 or 32 pixel high/wide images, got {height}x{width}."
            )
        self.image_shape = (channels, height, width)
        pad_h, pad_w = (32 - height) // 2, (32 - width) // 2
        # F.pad order: (left, right, top, bottom); None skips the call.
        self._padding = (pad_w, pad_w, pad_h, pad_h) if pad_h or pad_w else None
        scheme = _resolve_init(init, activation)

        self.c1 = nn.Conv2d(channels, 6, 5)
        self.s2 = Subsampling(6)
        self.c3 = MaskedConv2d(6, 16, 5, C3_CONNECTIONS)
        self.s4 = Subsampling(16)
        self.c5 = nn.Conv2d(16, 120, 5)
        self.f6 = nn.Linear(120, 84)
        self.output = nn.Linear(84, n_outputs)
        self.activation = make_activation(activation)
        self.output_activation = make_activation(output_activation)

        for layer in (self.c1, self.s2, self.c3, self.s4, self.c5, self.f6, self.output):
            if isinstance(layer, Subsampling):
                if scheme != "torch":
                    # Each subsampling unit sums 4 inputs and each input feeds
                    # a single unit: fan-in 4, fan-out 1.
                    _reset_uniform_(layer, _init_bound(scheme, 4, 1, activation))
            else:
                _init_layer_(layer, scheme, activation)
        self.c3.apply_mask_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.reshape(-1, *self.image_shape)
        if self._padding is not None:
            x = F.pad(x, self._padding)
        act = self.activation
        x = act(self.s2(act(self.c1(x))))
        x = act(self.s4(act(self.c3(x))))
        x = act(self.c5(x)).flatten(1)
        x = act(self.f6(x))
        return self.output_activation(self.output(x))


class LeNetVariant(nn.Module):
    """The "20-50-500" LeNet of the Caffe and Theano tutorials.

    ``conv 20@5x5 -> maxpool 2 -> conv 50@5x5 -> maxpool 2 -> flatten ->
    Linear(50*h*w, 500) -> activation -> Linear(500, n_outputs) ->
    output_activation``, where ``h x w`` is the spatial size left after the
    two conv/pool stages (4x4 for 28x28 inputs, 5x5 for 32x32). As in Caffe's
    ``lenet_train_test.prototxt`` there is no nonlinearity between the
    convolutions and the pooling layers.

    Parameters
    ----------
    n_features : int, default=784
        Number of input features; must equal ``C * H * W``.
    n_outputs : int, default=10
        Number of output units.
    image_shape : (int, int, int), default=(1, 28, 28)
        Input image shape ``(C, H, W)``; H and W must be at least 16.
    activation : str, default="relu"
        Activation after the 500-unit dense layer.
    output_activation : str, default="identity"
        Activation after the output layer.
    init : {"auto", "paper", "glorot", "torch"}, default="auto"
        As in :class:`~skconvex.nn.MLP` (``"auto"`` is ``"glorot"`` unless
        ``activation == "lecun_tanh"``); fan-ins of convolutions are
        ``in_channels * 5 * 5``.
    dropout : float, default=0.0
        Dropout rate in ``[0, 1)`` applied to the inputs of both dense layers,
        in training mode only.

    Examples
    --------
    >>> import torch
    >>> _ = torch.manual_seed(0)
    >>> net = LeNetVariant()
    >>> net(torch.zeros(2, 1, 28, 28)).shape
    torch.Size([2, 10])
    >>> sum(p.numel() for p in net.parameters())
    431080
    """

    def __init__(
        self,
        n_features: int = 784,
        n_outputs: int = 10,
        image_shape: Sequence[int] = (1, 28, 28),
        activation: str = "relu",
        output_activation: str = "identity",
        init: str = "auto",
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        channels, height, width = _image_shape(image_shape, n_features)
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout!r}.")
        # Spatial size after (conv 5x5, pool 2) twice, floor rounding as
        # in max_pool2d.
        out_h, out_w = ((height - 4) // 2 - 4) // 2, ((width - 4) // 2 - 4) // 2
        if out_h < 1 or out_w < 1:
            raise ValueError(
                f"LeNetVariant needs images of at least 16x16, got {height}x{width}."
            )
        self.image_shape = (channels, height, width)
        scheme = _resolve_init(init, activation)

        self.conv1 = nn.Conv2d(channels, 20, 5)
        self.conv2 = nn.Conv2d(20, 50, 5)
        self.fc1 = nn.Linear(50 * out_h * out_w, 500)
        self.fc2 = nn.Linear(500, n_outputs)
        for layer in (self.conv1, self.conv2, self.fc1, self.fc2):
            _init_layer_(layer, scheme, activation)
        self.activation = make_activation(activation)
        self.output_activation = make_activation(output_activation)
        self.dropout = Dropout(dropout) if dropout > 0 else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.reshape(-1, *self.image_shape)
        x = F.max_pool2d(self.conv1(x), 2)
        x = F.max_pool2d(self.conv2(x), 2).flatten(1)
        dropout = self.dropout
        if dropout is not None:
            x = dropout(x)
        x = self.activation(self.fc1(x))
        if dropout is not None:
            x = dropout(x)
        return self.output_activation(self.fc2(x))

"""Fully connected network (multi-layer perceptron) and weight initializers."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from .activations import make_activation
from .randomness import Dropout

__all__ = ["MLP"]

#: Accepted values of the ``init`` parameter of the built-in modules.
INIT_SCHEMES = ("auto", "paper", "glorot", "torch")


def _resolve_init(init: str, activation: str) -> str:
    """Validate ``init`` and replace ``"auto"`` by the concrete scheme."""
    if not isinstance(init, str) or init not in INIT_SCHEMES:
        raise ValueError(
            f"Unknown init {init!r}; expected one of {list(INIT_SCHEMES)}."
        )
    if init == "auto":
        # The paper's rule was designed for the scaled tanh (LeCun 1998);
        # for the other activations mimic scikit-learn's MLP.
        return "paper" if activation == "lecun_tanh" else "glorot"
    return init


def _fans(weight: torch.Tensor) -> tuple[int, int]:
    """Fan-in and fan-out of a Linear (out, in) or Conv (out, in, *k) weight."""
    receptive = math.prod(weight.shape[2:])  # 1 for Linear
    return weight.shape[1] * receptive, weight.shape[0] * receptive


def _init_bound(scheme: str, fan_in: int, fan_out: int, activation: str) -> float:
    """Half-width of the uniform distribution used by ``scheme``."""
    if scheme == "paper":
        # Lo et al., after LeCun et al. (1998): U(-2.4/F, 2.4/F), F = fan-in.
        return 2.4 / fan_in
    # scikit-learn's BaseMultilayerPerceptron._init_coef (Glorot & Bengio
    # 2010), whose factor depends on the hidden activation for every layer.
    factor = 2.0 if activation == "logistic" else 6.0
    return math.sqrt(factor / (fan_in + fan_out))


def _reset_uniform_(module: nn.Module, bound: float) -> None:
    """Draw ``module.weight`` then ``module.bias`` from U(-bound, bound).

    The fixed weight-then-bias order and the use of ``torch.nn.init`` (which
    samples from torch's global generator) make ``torch.manual_seed`` enough
    to reproduce a network.
    """
    with torch.no_grad():
        nn.init.uniform_(module.weight, -bound, bound)
        if module.bias is not None:
            nn.init.uniform_(module.bias, -bound, bound)


def _init_layer_(module: nn.Module, scheme: str, activation: str) -> None:
    """Initialize a Linear/Conv layer in place; ``"torch"`` keeps the default."""
    if scheme == "torch":
        return
    fan_in, fan_out = _fans(module.weight)
    _reset_uniform_(module, _init_bound(scheme, fan_in, fan_out, activation))


class MLP(nn.Module):
    """Multi-layer perceptron with selectable activations and initialization.

    Parameters
    ----------
    n_features : int
        Number of input features. Inputs with more than two dimensions (e.g.
        images ``(n, 1, 28, 28)``) are flattened to ``(n, -1)``.
    n_outputs : int
        Number of output units.
    hidden_layer_sizes : sequence of int, default=(100,)
        Width of each hidden layer; empty for a single linear layer.
    activation : str, default="relu"
        Hidden activation, a key of :data:`skconvex.nn.ACTIVATIONS`.
    output_activation : str, default="identity"
        Activation applied after the last layer.
    init : {"auto", "paper", "glorot", "torch"}, default="auto"
        Weight and bias initialization:

        - ``"paper"``: uniform in ``[-2.4/F, 2.4/F]``, ``F`` the fan-in of the
          unit (Lo et al., following LeCun et al. 1998);
        - ``"glorot"``: scikit-learn's MLP rule, uniform in
          ``±sqrt(6 / (fan_in + fan_out))`` (factor 2 instead of 6 when
          ``activation == "logistic"``);
        - ``"torch"``: PyTorch's default for :class:`torch.nn.Linear`;
        - ``"auto"``: ``"paper"`` if ``activation == "lecun_tanh"`` else
          ``"glorot"``.

        All draws come from torch's global generator, layer by layer, weight
        then bias, so ``torch.manual_seed`` makes construction reproducible.
    dropout : float, default=0.0
        Dropout rate (drop probability) in ``[0, 1)`` applied after each hidden
        activation, in training mode only.
    input_dropout : float, default=0.0
        Dropout rate applied to the inputs, in training mode only. The interplay
        paper's eq. 5 drops input and hidden units alike (keep probability
        ``ζ = 1 − dropout``).

    Attributes
    ----------
    linears : torch.nn.ModuleList
        The :class:`torch.nn.Linear` layers, input to output. ``forward`` uses
        references captured at construction: after replacing layers, call
        ``rebuild_plan_()``.

    Examples
    --------
    >>> import torch
    >>> _ = torch.manual_seed(0)
    >>> net = MLP(4, 3, hidden_layer_sizes=(8, 5))
    >>> [tuple(layer.weight.shape) for layer in net.linears]
    [(8, 4), (5, 8), (3, 5)]
    >>> net(torch.zeros(2, 4)).shape
    torch.Size([2, 3])
    """

    def __init__(
        self,
        n_features: int,
        n_outputs: int,
        hidden_layer_sizes: Sequence[int] = (100,),
        activation: str = "relu",
        output_activation: str = "identity",
        init: str = "auto",
        dropout: float = 0.0,
        input_dropout: float = 0.0,
    ) -> None:
        super().__init__()
        for name, rate in (("dropout", dropout), ("input_dropout", input_dropout)):
            if not 0.0 <= rate < 1.0:
                raise ValueError(f"{name} must be in [0, 1), got {rate!r}.")
        scheme = _resolve_init(init, activation)
        sizes = [int(n_features), *(int(h) for h in hidden_layer_sizes), int(n_outputs)]
        if any(size < 1 for size in sizes):
            raise ValueError(f"Layer sizes must be positive, got {sizes}.")

        self.linears = nn.ModuleList(
            nn.Linear(fan_in, fan_out) for fan_in, fan_out in zip(sizes[:-1], sizes[1:])
        )
        for linear in self.linears:
            _init_layer_(linear, scheme, activation)

        # Activations and dropout hold no parameters, so one instance of each
        # is shared by all hidden layers; registering them makes train()/eval()
        # reach the dropout module.
        self.activation = make_activation(activation)
        self.output_activation = make_activation(output_activation)
        self.dropout = Dropout(dropout) if dropout > 0 else None
        self.input_dropout = Dropout(input_dropout) if input_dropout > 0 else None

        self.rebuild_plan_()

    def rebuild_plan_(self) -> None:
        """Recapture the layers used by ``forward`` (after replacing ``linears``)."""
        # Precomputed plain tuple (not registered, so no duplicate state_dict
        # entries): forward then avoids nn.Module.__getattr__ lookups and a
        # per-layer "is this the last layer?" test.
        self._plan = (
            tuple((linear, self.activation, self.dropout) for linear in self.linears[:-1]),
            self.linears[-1],
            self.output_activation,
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 2:
            x = x.reshape(x.shape[0], -1)
        hidden_steps, last_linear, output_activation = self._plan
        input_dropout = getattr(self, "input_dropout", None)  # absent in MLPs saved before it
        if input_dropout is not None:
            x = input_dropout(x)
        for linear, activation, dropout in hidden_steps:
            x = activation(linear(x))
            if dropout is not None:
                x = dropout(x)
        return output_activation(last_linear(x))

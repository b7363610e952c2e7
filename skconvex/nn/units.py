"""Units of a masked MLP: function-preserving rescaling, dead units, input support.

The connection view of :mod:`skconvex.nn.masks` says which weights exist; this module
reads it unit by unit, for the CPNA method (Guo & Barbu):

- :func:`normalize_units_` rescales every hidden unit so that its incoming weight
  vector has unit norm, moving the scale to its outgoing weights. For a positively
  homogeneous activation (ReLU: σ(cv) = cσ(v) for c > 0) the network computes exactly
  the same function, and weight magnitudes become comparable across units (eq. 3).
- :func:`fold_constant_units_` folds hidden units without incoming connections (they
  output the constant σ(b)) into the next layer's bias and cuts their outgoing ones;
- :func:`prune_dead_units_` removes the incoming connections of hidden units that have
  no outgoing connection left (they cannot affect the output).
- :func:`active_units` and :func:`input_support` report which hidden units and which
  input features are still connected.

All functions take an :class:`~skconvex.nn.MLP` (anything with a ``linears`` list of
:class:`torch.nn.Linear`) whose weights carry masks (:func:`~skconvex.nn.masks.add_masks`),
except :func:`normalize_units_`, which works with or without masks.

Examples
--------
>>> import torch
>>> from skconvex.nn import MLP, units
>>> _ = torch.manual_seed(0)
>>> net = MLP(3, 2, hidden_layer_sizes=(4,), activation="relu").eval()
>>> x = torch.randn(5, 3)
>>> before = net(x)
>>> _ = units.normalize_units_(net)
>>> torch.linalg.vector_norm(net.linears[0].weight, dim=1)
tensor([1.0000, 1.0000, 1.0000, 1.0000], grad_fn=<LinalgVectorNormBackward0>)
>>> torch.allclose(net(x), before, atol=1e-6)
True
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["fold_constant_units_", "normalize_units_"]


def _linears(mlp: nn.Module) -> list[nn.Linear]:
    linears = getattr(mlp, "linears", None)
    if linears is None or not all(isinstance(layer, nn.Linear) for layer in linears):
        raise TypeError(
            f"Expected an MLP (a `linears` list of nn.Linear layers), got {type(mlp).__name__}."
        )
    return list(linears)


def _weight_mask(layer: nn.Linear) -> Tensor:
    mask = getattr(layer, "weight_mask", None)
    if mask is None:
        raise ValueError("The MLP has no weight masks; call skconvex.nn.masks.add_masks first.")
    return mask


#: A unit whose bias exceeds its incoming weights' norm by more than this factor is
#: scaled so that |b| equals the factor (see :func:`normalize_units_`).
MAX_BIAS_RATIO = 1e3


@torch.no_grad()
def normalize_units_(mlp: nn.Module, max_bias_ratio: float = MAX_BIAS_RATIO) -> list[Tensor]:
    """Give every hidden unit an incoming weight vector of unit Euclidean norm.

    For each hidden layer l in order and each unit j with c = ‖W_l[j, :]‖ > 0:
    ``W_l[j, :] /= c``, ``b_l[j] /= c``, ``W_{l+1}[:, j] *= c`` (CPNA's eq. 3). The
    bias does not enter the norm (the paper normalizes the weight vector). Units
    without incoming weights keep c = 1.

    One guard: c is at least ``|b_j| / max_bias_ratio``. A unit whose bias dwarfs its
    weights is (nearly) constant on bounded inputs; under an L2 penalty its incoming
    weights shrink between normalizations while the unpenalized bias does not, so
    dividing by ‖w_j‖ at every iteration would grow the bias geometrically until it
    overflows. Any c > 0 preserves the function. With a positively homogeneous hidden
    activation (ReLU, identity) the function is unchanged; the layers are processed
    input to output, so each norm already includes the previous layer's factor.
    Masked weights are zero and stay zero.

    Parameters
    ----------
    mlp : skconvex.nn.MLP
    max_bias_ratio : float, default=1e3
        The guard above.

    Returns
    -------
    scales : list of Tensor
        The factors c of each hidden layer.

    Examples
    --------
    >>> import torch
    >>> from skconvex.nn import MLP, units
    >>> _ = torch.manual_seed(0)
    >>> net = MLP(3, 2, hidden_layer_sizes=(4,), activation="relu").eval()
    >>> x = torch.randn(5, 3)
    >>> before = net(x)
    >>> scales = units.normalize_units_(net)
    >>> [tuple(c.shape) for c in scales]
    [(4,)]
    >>> torch.linalg.vector_norm(net.linears[0].weight, dim=1)
    tensor([1.0000, 1.0000, 1.0000, 1.0000], grad_fn=<LinalgVectorNormBackward0>)
    >>> torch.allclose(net(x), before, atol=1e-6)
    True
    """
    linears = _linears(mlp)
    scales = []
    for layer, nxt in zip(linears[:-1], linears[1:]):
        norms = torch.linalg.vector_norm(layer.weight, dim=1)
        if layer.bias is not None:
            guarded = torch.maximum(norms, layer.bias.abs() / max_bias_ratio)
            norms = torch.where(norms > 0, guarded, norms)
        c = torch.where(norms > 0, norms, torch.ones_like(norms))
        layer.weight.div_(c[:, None])
        if layer.bias is not None:
            layer.bias.div_(c)
        nxt.weight.mul_(c[None, :])
        scales.append(c)
    return scales


@torch.no_grad()
def fold_constant_units_(mlp: nn.Module) -> int:
    """Fold hidden units without incoming connections into the next layer's bias.

    Such a unit outputs the constant σ(b_j); its contribution ``W_{l+1}[:, j]·σ(b_j)``
    is added to ``b_{l+1}`` and its outgoing connections are pruned, so the function
    is unchanged (in evaluation mode) and the unit no longer holds connections that
    compete with real ones in a magnitude ranking. Layers are processed input to
    output, so a unit that loses all its inputs this way is folded in turn. Returns the
    number of outgoing connections removed.

    Examples
    --------
    >>> import torch
    >>> from skconvex.nn import MLP, masks, units
    >>> _ = torch.manual_seed(0)
    >>> net = MLP(3, 2, hidden_layer_sizes=(4,)).eval()
    >>> _ = masks.add_masks(net)
    >>> keep = torch.ones(4, 3, dtype=torch.bool)
    >>> keep[1] = False  # hidden unit 1 loses every incoming connection
    >>> masks.prune_(net, {"linears.0.weight": keep})
    >>> x = torch.randn(5, 3)
    >>> before = net(x)
    >>> units.fold_constant_units_(net)  # its 2 outgoing connections
    2
    >>> torch.allclose(net(x), before, atol=1e-6)
    True
    """
    linears = _linears(mlp)
    activation = getattr(mlp, "activation", torch.relu)
    removed = 0
    for h in range(len(linears) - 1):
        layer, nxt = linears[h], linears[h + 1]
        next_mask = _weight_mask(nxt)
        constant = ~_weight_mask(layer).any(dim=1) & next_mask.any(dim=0)
        if not bool(constant.any()):
            continue
        if nxt.bias is None:
            raise ValueError("Cannot fold a constant unit into a layer without a bias.")
        bias = layer.bias[constant] if layer.bias is not None else torch.zeros_like(layer.weight[constant, 0])
        nxt.bias.add_((nxt.weight[:, constant] * next_mask[:, constant]) @ activation(bias))
        removed += int(next_mask[:, constant].sum())
        next_mask[:, constant] = False
        nxt.weight.mul_(next_mask)
    return removed


@torch.no_grad()
def prune_dead_units_(mlp: nn.Module) -> int:
    """Prune the incoming connections of hidden units without outgoing connections.

    Such a unit cannot reach the output, so the function is unchanged. Removing its
    incoming connections can leave units of the layer below without outgoing
    connections: the pass runs output to input. Returns the number of connections
    removed.
    """
    linears = _linears(mlp)
    removed = 0
    for h in range(len(linears) - 2, -1, -1):
        outgoing = _weight_mask(linears[h + 1]).any(dim=0)
        mask = _weight_mask(linears[h])
        dead_rows = mask & ~outgoing[:, None]
        n = int(dead_rows.sum())
        if n:
            mask.logical_and_(outgoing[:, None])
            linears[h].weight.mul_(mask)
            removed += n
    return removed


def active_units(mlp: nn.Module) -> list[Tensor]:
    """Per hidden layer, which units still have an outgoing connection (bool)."""
    linears = _linears(mlp)
    return [_weight_mask(nxt).any(dim=0) for nxt in linears[1:]]


def input_support(mlp: nn.Module) -> Tensor:
    """Which input features still have a connection to a live unit (bool, n_features).

    Call :func:`prune_dead_units_` first so that connections into dead units do not
    count.
    """
    return _weight_mask(_linears(mlp)[0]).any(dim=0)

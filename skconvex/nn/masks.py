"""Pruning masks: the one sparsity primitive of skconvex.

A mask is a boolean buffer ``<parameter>_mask`` registered on the layer that owns
the parameter (``linears.0.weight`` gets ``linears.0.weight_mask``), ``True`` where
the connection is kept. Masks cover the weights (and on request the biases) of
:class:`torch.nn.Linear` and ``torch.nn.Conv*d`` layers, subclasses included.

Invariants, kept by :func:`prune_` and by the training loop
(:func:`~skconvex.training.train` calls :func:`mask_gradients_` after every backward
pass and :func:`apply_masks_` after every optimizer step):

- a masked entry is exactly zero in the parameter, hence in every forward pass;
- it receives no gradient, and whatever the optimizer's state holds (momentum,
  Adam moments, weight decay) cannot move it away from zero;
- masks only shrink: pruning ANDs a new mask into the old one.

Masks are plain buffers, not :mod:`torch.nn.utils.prune` re-parametrizations: they
live in ``state_dict()``, and the module survives :func:`copy.deepcopy` and pickling
(a module pruned by ``torch.nn.utils.prune`` holds a non-leaf ``weight`` tensor and
cannot be deep-copied, which breaks best-weight snapshots and ``sklearn.clone``).

Examples
--------
>>> import torch
>>> from skconvex.nn import MLP
>>> from skconvex.nn import masks
>>> _ = torch.manual_seed(0)
>>> net = MLP(3, 2, hidden_layer_sizes=(4,))
>>> _ = masks.add_masks(net)
>>> keep = {name: p.abs() > 0.3 for name, p in masks.prunable_parameters(net).items()}
>>> masks.prune_(net, keep)
>>> round(masks.sparsity(net), 3)
0.15
>>> bool((net.linears[0].weight[~net.linears[0].weight_mask] == 0).all())
True
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable, Mapping

import torch
from torch import Tensor, nn

__all__ = [
    "add_masks",
    "compact",
    "flops",
    "layer_sparsity",
    "prunable_parameters",
    "prune_",
    "sparsity",
]

#: Layer types whose weights can be masked (subclasses included).
PRUNABLE_LAYERS: tuple[type[nn.Module], ...] = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)

_SUFFIX = "_mask"


def _owner(module: nn.Module, name: str) -> tuple[nn.Module, str]:
    """The submodule that owns parameter ``name`` and the parameter's local name."""
    path, _, local = name.rpartition(".")
    return (module.get_submodule(path) if path else module), local


def prunable_parameters(module: nn.Module, include_bias: bool = False) -> dict[str, nn.Parameter]:
    """Weights (and optionally biases) of the Linear and Conv layers, by full name.

    Examples
    --------
    >>> from skconvex.nn import MLP
    >>> list(prunable_parameters(MLP(3, 2, hidden_layer_sizes=(4,))))
    ['linears.0.weight', 'linears.1.weight']
    """
    out: dict[str, nn.Parameter] = {}
    for prefix, layer in module.named_modules():
        if not isinstance(layer, PRUNABLE_LAYERS):
            continue
        for local in ("weight", "bias") if include_bias else ("weight",):
            param = getattr(layer, local, None)
            if isinstance(param, nn.Parameter):
                out[f"{prefix}.{local}" if prefix else local] = param
    return out


def _structural_mask(layer: nn.Module, local: str, param: Tensor) -> Tensor:
    """Entries that exist as connections before any pruning.

    A layer with a fixed connection table (LeNet-5's C3, a ``connection_mask``
    buffer) has weights that are not connections; they start masked and do not
    count in the sparsity's denominator.
    """
    table = getattr(layer, "connection_mask", None) if local == "weight" else None
    if isinstance(table, Tensor) and table.shape == param.shape:
        return table.to(device=param.device) != 0
    return torch.ones_like(param, dtype=torch.bool)


def add_masks(module: nn.Module, include_bias: bool = False) -> dict[str, Tensor]:
    """Register a mask on every prunable parameter that has none yet.

    New masks keep every connection (except the structural zeros of a connection
    table). Existing masks are left as they are. Returns every mask of the module by
    parameter name (the buffers themselves, not copies).

    Examples
    --------
    >>> from skconvex.nn import MLP, masks
    >>> net = MLP(3, 2, hidden_layer_sizes=(4,))
    >>> {name: tuple(m.shape) for name, m in masks.add_masks(net).items()}
    {'linears.0.weight': (4, 3), 'linears.1.weight': (2, 4)}
    >>> bool(net.linears[0].weight_mask.all())
    True
    """
    for name, param in prunable_parameters(module, include_bias).items():
        layer, local = _owner(module, name)
        if not hasattr(layer, local + _SUFFIX):
            layer.register_buffer(local + _SUFFIX, _structural_mask(layer, local, param))
    apply_masks_(module)
    return get_masks(module)


def register_mask_buffers(module: nn.Module, names: Iterable[str]) -> None:
    """Create the mask buffers named in a state dict, so ``load_state_dict`` accepts it.

    ``names`` are state-dict keys; those ending in ``_mask`` whose parameter exists
    get an all-``True`` buffer (the loaded values replace it).
    """
    params = dict(module.named_parameters())
    for key in names:
        if not key.endswith(_SUFFIX) or key[: -len(_SUFFIX)] not in params:
            continue
        layer, local = _owner(module, key)
        if not hasattr(layer, local):
            param = params[key[: -len(_SUFFIX)]]
            layer.register_buffer(local, torch.ones_like(param, dtype=torch.bool))


def masked_parameters(module: nn.Module) -> list[tuple[nn.Parameter, Tensor]]:
    """``(parameter, mask)`` pairs of every masked parameter."""
    pairs = []
    for name, param in module.named_parameters():
        layer, local = _owner(module, name)
        mask = getattr(layer, local + _SUFFIX, None)
        if isinstance(mask, Tensor) and mask.dtype == torch.bool:
            pairs.append((param, mask))
    return pairs


def get_masks(module: nn.Module) -> dict[str, Tensor]:
    """The masks by parameter name (the buffers themselves, not copies)."""
    out = {}
    for name, param in module.named_parameters():
        layer, local = _owner(module, name)
        mask = getattr(layer, local + _SUFFIX, None)
        if isinstance(mask, Tensor) and mask.dtype == torch.bool:
            out[name] = mask
    return out


@torch.no_grad()
def apply_masks_(module: nn.Module, pairs: list[tuple[Tensor, Tensor]] | None = None) -> None:
    """Zero every masked entry in place (after an optimizer step or a load)."""
    for param, mask in masked_parameters(module) if pairs is None else pairs:
        param.mul_(mask)


@torch.no_grad()
def mask_gradients_(module: nn.Module, pairs: list[tuple[Tensor, Tensor]] | None = None) -> None:
    """Zero the gradient of every masked entry in place (after ``backward``)."""
    for param, mask in masked_parameters(module) if pairs is None else pairs:
        if param.grad is not None:
            param.grad.mul_(mask)


@torch.no_grad()
def clear_optimizer_state_(optimizer: torch.optim.Optimizer, module: nn.Module) -> None:
    """Zero the optimizer's per-entry state (momentum, Adam moments) of masked entries."""
    for param, mask in masked_parameters(module):
        for value in optimizer.state.get(param, {}).values():
            if isinstance(value, Tensor) and value.shape == mask.shape:
                value.mul_(mask)


@torch.no_grad()
def prune_(module: nn.Module, keep: Mapping[str, Tensor]) -> None:
    """Shrink the masks: ``mask &= keep[name]``, then zero the pruned entries.

    Parameters
    ----------
    module : nn.Module
        A module whose masks exist (:func:`add_masks`).
    keep : mapping of parameter name to bool Tensor
        ``True`` where the entry may stay; a name without a mask is an error.

    Examples
    --------
    >>> import torch
    >>> from skconvex.nn import MLP, masks
    >>> net = MLP(3, 2, hidden_layer_sizes=(4,))
    >>> _ = masks.add_masks(net)
    >>> keep = torch.ones(4, 3, dtype=torch.bool)
    >>> keep[0] = False
    >>> masks.prune_(net, {"linears.0.weight": keep})
    >>> bool((net.linears[0].weight[0] == 0).all())
    True
    >>> masks.prune_(net, {"linears.0.weight": torch.ones(4, 3, dtype=torch.bool)})
    >>> int(net.linears[0].weight_mask.sum())  # masks only shrink
    9
    """
    layers = get_masks(module)
    for name, k in keep.items():  # check everything first: all or nothing
        if name not in layers:
            raise KeyError(f"{name!r} has no mask; call add_masks first.")
        if k.shape != layers[name].shape:
            raise ValueError(
                f"keep[{name!r}] has shape {tuple(k.shape)}, expected {tuple(layers[name].shape)}."
            )
    for name, k in keep.items():
        mask = layers[name]
        mask.logical_and_(k.to(device=mask.device, dtype=torch.bool))
    apply_masks_(module)


def keep_largest(scores: Tensor, k: int, mask: Tensor | None = None) -> Tensor:
    """The ``k`` entries of largest score among those the mask keeps (bool, same shape).

    Exactly ``min(k, mask.sum())`` entries are True. Ties are broken by position
    (the earlier entry in row-major order wins), so the result is deterministic.

    Examples
    --------
    >>> import torch
    >>> keep_largest(torch.tensor([[0.5, 2.0], [2.0, 1.0]]), 2).tolist()
    [[False, True], [True, False]]
    >>> keep_largest(torch.tensor([3.0, 2.0, 1.0]), 2, torch.tensor([False, True, True])).tolist()
    [False, True, True]
    """
    if k < 0:
        raise ValueError(f"k must be non-negative, got {k}.")
    flat = scores.detach().reshape(-1)
    candidates = (
        torch.arange(flat.numel(), device=flat.device)
        if mask is None
        else mask.reshape(-1).nonzero().flatten()
    )
    # A stable sort keeps the earlier position first among equal scores; NaN ranks last.
    values = flat[candidates].nan_to_num(nan=-math.inf)
    order = torch.sort(values, descending=True, stable=True).indices
    keep = torch.zeros(flat.numel(), dtype=torch.bool, device=flat.device)
    keep[candidates[order[: int(k)]]] = True
    return keep.reshape(scores.shape)


def _capacities(module: nn.Module) -> dict[str, tuple[int, int]]:
    """(kept, connectable) entry counts per masked parameter."""
    out = {}
    params = dict(module.named_parameters())
    for name, mask in get_masks(module).items():
        layer, local = _owner(module, name)
        connectable = int(_structural_mask(layer, local, params[name]).sum())
        out[name] = (int(mask.sum()), connectable)
    return out


def layer_sparsity(module: nn.Module) -> dict[str, float]:
    """Share of pruned connections per masked parameter (structural zeros excluded).

    Examples
    --------
    >>> import torch
    >>> from skconvex.nn import MLP, masks
    >>> net = MLP(3, 2, hidden_layer_sizes=(4,))
    >>> _ = masks.add_masks(net)
    >>> masks.prune_(net, {"linears.1.weight": torch.tensor([[True] * 4, [False] * 4])})
    >>> masks.layer_sparsity(net)
    {'linears.0.weight': 0.0, 'linears.1.weight': 0.5}
    """
    return {
        name: (1.0 - kept / total) if total else 0.0
        for name, (kept, total) in _capacities(module).items()
    }


def sparsity(module: nn.Module) -> float:
    """Share of pruned connections over all masked parameters (0 without masks).

    Examples
    --------
    >>> import torch
    >>> from skconvex.nn import MLP, masks
    >>> net = MLP(3, 2, hidden_layer_sizes=(4,))
    >>> masks.sparsity(net)
    0.0
    >>> _ = masks.add_masks(net)
    >>> masks.prune_(net, {"linears.1.weight": torch.tensor([[True] * 4, [False] * 4])})
    >>> masks.sparsity(net)  # 4 of 20 connections
    0.2
    """
    counts = _capacities(module).values()
    total = sum(t for _, t in counts)
    return 1.0 - sum(k for k, _ in counts) / total if total else 0.0


# --------------------------------------------------------------------- compact
def _masked_linears(mlp: nn.Module) -> nn.ModuleList:
    """The linear layers of an MLP whose weights all carry masks; raise otherwise."""
    linears = getattr(mlp, "linears", None)
    if linears is None or not all(isinstance(layer, nn.Linear) for layer in linears):
        raise TypeError(
            f"compact needs an MLP (a `linears` list of nn.Linear layers), got {type(mlp).__name__}."
        )
    if not all(hasattr(layer, "weight" + _SUFFIX) for layer in linears):
        raise ValueError("compact needs masks on every weight; call add_masks and prune_ first.")
    return linears


def _remove_dead_units(activation, weights, wmasks, biases, bias_masks, alive) -> None:
    """Fold constant hidden units into the next bias and drop dead units, in place, until stable.

    A unit with no incoming connection outputs ``activation(bias)``: that constant
    times its outgoing weights is added to the next layer's bias. Units with no
    incoming or no outgoing connection are then marked dead in ``alive`` and their
    rows/columns masked off; this repeats since removals can disconnect others.
    """
    changed = True
    while changed:
        changed = False
        for h in range(len(alive)):
            incoming = wmasks[h].any(dim=1)
            outgoing = wmasks[h + 1].any(dim=0)
            constant = alive[h] & ~incoming
            if constant.any():
                # The unit outputs activation(bias) whatever the input: fold it.
                value = activation(biases[h][constant])
                folded = (weights[h + 1][:, constant] * wmasks[h + 1][:, constant]) @ value
                biases[h + 1] += folded
                if bias_masks[h + 1] is not None:
                    bias_masks[h + 1] |= folded != 0
            dead = alive[h] & (~incoming | ~outgoing)
            if dead.any():
                alive[h] &= ~dead
                wmasks[h][dead] = False
                wmasks[h + 1][:, dead] = False
                changed = True


@torch.no_grad()
def _compact_layer(
    old: nn.Linear, w: Tensor, m: Tensor, b: Tensor, bias_mask, rows, cols
) -> nn.Linear:
    """A new masked linear layer keeping output units ``rows`` and input units ``cols`` of ``old``.

    ``w``, ``m``, ``b`` and ``bias_mask`` are the (folded) weight, weight mask, bias and bias
    mask of ``old``; ``rows`` / ``cols`` of None keep every unit.
    """
    if rows is not None:
        w, m, b = w[rows], m[rows], b[rows]
    if cols is not None:
        w, m = w[:, cols], m[:, cols]
    # A bias-free layer that received folded constants needs a bias now.
    layer = nn.Linear(w.shape[1], w.shape[0], bias=old.bias is not None or bool(b.any()))
    layer = layer.to(device=old.weight.device, dtype=old.weight.dtype)
    layer.weight.copy_(w * m)
    if layer.bias is not None:
        layer.bias.copy_(b)
    layer.register_buffer("weight" + _SUFFIX, m.clone())
    if bias_mask is not None:
        bm = bias_mask if rows is None else bias_mask[rows]
        layer.register_buffer("bias" + _SUFFIX, bm.clone())
    return layer


@torch.no_grad()
def compact(mlp: nn.Module) -> tuple[nn.Module, list[Tensor]]:
    """A smaller dense copy of a masked MLP that computes the same function.

    Hidden units left with no incoming connection output the constant
    ``activation(bias)``; that constant times their outgoing weights is folded into
    the next layer's bias, then they are removed. Units with no outgoing connection
    are removed. Removing units can disconnect others, so this repeats until nothing
    changes. Inputs and outputs are never removed. The copy keeps its masks (the
    surviving entries of the old ones), so it can be pruned further.

    Parameters
    ----------
    mlp : skconvex.nn.MLP
        With masks on its weights (:func:`add_masks`); left unchanged.

    Returns
    -------
    compacted : skconvex.nn.MLP
        A new module, in evaluation mode; predictions equal those of ``mlp`` in
        evaluation mode (dropout off), up to float rounding of the folded biases.
    kept_units : list of LongTensor
        Indices of the surviving units of each hidden layer.

    Examples
    --------
    >>> import torch
    >>> from skconvex.nn import MLP, masks
    >>> _ = torch.manual_seed(0)
    >>> net = MLP(3, 2, hidden_layer_sizes=(4,))
    >>> _ = masks.add_masks(net)
    >>> keep = torch.ones(4, 3, dtype=torch.bool)
    >>> keep[1] = False                     # unit 1 loses every incoming weight
    >>> masks.prune_(net, {"linears.0.weight": keep})
    >>> small, kept = masks.compact(net)
    >>> kept[0].tolist(), tuple(small.linears[0].weight.shape)
    ([0, 2, 3], (3, 3))
    >>> x = torch.randn(5, 3)
    >>> torch.allclose(small(x), net.eval()(x), atol=1e-6)
    True
    """
    linears = _masked_linears(mlp)
    activation = mlp.activation
    weights = [layer.weight.detach().clone() for layer in linears]
    wmasks = [layer.weight_mask.clone() for layer in linears]
    biases = [
        layer.bias.detach().clone() if layer.bias is not None else torch.zeros_like(layer.weight[:, 0])
        for layer in linears
    ]
    device = linears[0].weight.device
    alive = [torch.ones(layer.out_features, dtype=torch.bool, device=device) for layer in linears[:-1]]
    # Bias entries that receive a folded constant must be kept (a masked entry is zero).
    bias_masks = [
        layer.bias_mask.clone() if hasattr(layer, "bias" + _SUFFIX) else None for layer in linears
    ]
    _remove_dead_units(activation, weights, wmasks, biases, bias_masks, alive)
    # An empty layer keeps one disconnected unit (a layer needs a width of 1).
    kept = [
        a.nonzero().flatten() if a.any() else torch.zeros(1, dtype=torch.long, device=device)
        for a in alive
    ]
    small = copy.deepcopy(mlp)
    rows = [*kept, None]
    cols = [None, *kept]
    new_layers = []
    for i, old in enumerate(linears):
        new_layers.append(
            _compact_layer(old, weights[i], wmasks[i], biases[i], bias_masks[i], rows[i], cols[i])
        )
    small.linears = nn.ModuleList(new_layers)
    small.rebuild_plan_()
    return small.eval(), kept


def flops(mlp: nn.Module) -> int:
    """Multiply-adds of one dense forward pass of an MLP's linear layers.

    Masks are not taken into account: apply :func:`compact` first to count those of the
    pruned network.

    Examples
    --------
    >>> from skconvex.nn import MLP, masks
    >>> masks.flops(MLP(3, 2, hidden_layer_sizes=(4,)))  # 3·4 + 4·2
    20
    """
    return sum(math.prod(layer.weight.shape) for layer in mlp.linears)

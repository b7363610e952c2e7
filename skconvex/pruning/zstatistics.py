"""The z-statistics of statistical pruning (pure torch, no scikit-learn).

Lo et al., section IV, eqs. 23–26 and Algorithm 2: for every weight ``w_i``

    z_i = |w_i| / s_i,   s_i = sqrt(P(w) / (∂P/∂w_i)²),

with ``P(w) = (1/K) Σ_k ‖y_k − f(x_k, w)‖²`` the mean squared error of the network's
outputs against the encoded targets over the training data. Then
``z_i = |w_i| · |∂P/∂w_i| / sqrt(P)``.

That statistic is not scale-free: it vanishes at every stationary point of P (where
∂P/∂w = 0) whatever the weight's importance, and it changes when P is rescaled.
``variance="gauss_newton"`` uses instead the estimate of nonlinear least squares,
``Var(w_i) ≈ σ² / (JᵀJ)_ii`` with ``J`` the Jacobian of the outputs over the training
samples, ``(JᵀJ)_ii = Σ_k Σ_o (∂f_o(x_k)/∂w_i)²`` and ``σ² = P / m`` the residual
variance per output (m outputs; for one output it is ``P``). Then
``z_i = |w_i| · sqrt((JᵀJ)_ii / σ²)``: the usual Wald statistic with a diagonal
Gauss–Newton curvature.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import torch
from torch import Tensor, nn

from ..nn.masks import prunable_parameters

__all__ = ["z_statistics"]

#: Accepted values of ``variance``.
VARIANCES = ("paper", "gauss_newton")

OutputMap = Callable[[Tensor], Tensor] | None


def _outputs(module: nn.Module, X: Tensor, transform: OutputMap) -> Tensor:
    out = module(X)
    out = out if transform is None else transform(out)
    return out.reshape(out.shape[0], -1)


def mse_and_gradient(
    module: nn.Module,
    X: Tensor,
    T: Tensor,
    params: dict[str, Tensor],
    *,
    transform: OutputMap = None,
    sample_weight: Tensor | None = None,
    batch_size: int = 4096,
) -> tuple[float, dict[str, Tensor]]:
    """P(w) (eq. 25) and its gradient (eq. 26) over the whole set, in batches.

    Returns P as a float and ``∂P/∂w`` per parameter in float64. With
    ``sample_weight``, P is the weighted mean (a weight of 2 counts a row twice).
    The module's ``.grad`` fields are not touched.
    """
    names = list(params)
    tensors = [params[n] for n in names]
    total_weight = float(len(X) if sample_weight is None else sample_weight.sum())
    grads = [torch.zeros_like(t, dtype=torch.float64) for t in tensors]
    loss = 0.0
    for start in range(0, len(X), batch_size):
        xb, tb = X[start : start + batch_size], T[start : start + batch_size]
        with torch.enable_grad():
            out = _outputs(module, xb, transform).to(torch.float64)
        e = ((tb.to(torch.float64) - out) ** 2).sum(1)
        if sample_weight is not None:
            e = e * sample_weight[start : start + batch_size]
        batch = e.sum() / total_weight
        for acc, g in zip(grads, torch.autograd.grad(batch, tensors, allow_unused=True)):
            if g is not None:
                acc += g.to(torch.float64)
        loss += float(batch.detach())
    return loss, dict(zip(names, grads))


def _layer_input(layer: nn.Module, a: Tensor) -> Tensor:
    """The input as per-sample gradients need it: rows for Linear, unfolded for Conv."""
    if isinstance(layer, nn.Linear):
        return a.reshape(a.shape[0], -1, a.shape[-1])  # (B, T, in)
    if isinstance(layer, (nn.Conv1d, nn.Conv2d)):
        if layer.groups != 1 or layer.padding_mode != "zeros" or isinstance(layer.padding, str):
            raise NotImplementedError(
                "variance='gauss_newton' supports convolutions with groups=1, zero "
                "padding given as integers."
            )
        one_d = isinstance(layer, nn.Conv1d)

        def pair(v):
            return (1, v[0]) if one_d else v

        return torch.nn.functional.unfold(
            a.unsqueeze(2) if one_d else a, pair(layer.kernel_size),
            dilation=pair(layer.dilation), padding=(0, layer.padding[0]) if one_d else layer.padding,
            stride=pair(layer.stride),
        ).transpose(1, 2)  # (B, L, C·k)
    raise NotImplementedError(
        f"variance='gauss_newton' does not support {type(layer).__name__} layers."
    )


def _per_sample_grads(layer: nn.Module, cols: Tensor, delta: Tensor) -> dict[str, Tensor]:
    """Per-sample gradients ``(B, *shape)`` of a layer's weight and bias.

    ``cols`` is :func:`_layer_input` of the layer's input, ``delta`` the derivative
    of one output (summed over the batch, so row k holds sample k's derivative) with
    respect to the layer's output.
    """
    if isinstance(layer, nn.Linear):
        d2 = delta.reshape(delta.shape[0], -1, delta.shape[-1])
        return {"weight": torch.bmm(d2.transpose(1, 2), cols), "bias": d2.sum(dim=1)}
    if isinstance(layer, (nn.Conv1d, nn.Conv2d)):
        d = delta.reshape(delta.shape[0], delta.shape[1], -1)  # (B, out, L)
        grad = torch.bmm(d, cols).reshape(delta.shape[0], *layer.weight.shape)
        mask = getattr(layer, "connection_mask", None)  # a fixed connection table
        if isinstance(mask, Tensor) and mask.shape == layer.weight.shape:
            grad = grad * mask
        return {"weight": grad, "bias": d.sum(dim=2)}
    raise NotImplementedError(
        f"variance='gauss_newton' does not support {type(layer).__name__} layers."
    )


def gauss_newton_diagonal(
    module: nn.Module,
    X: Tensor,
    params: dict[str, Tensor],
    *,
    transform: OutputMap = None,
    sample_weight: Tensor | None = None,
    batch_size: int = 1024,
) -> dict[str, Tensor]:
    """``Σ_k w_k Σ_o (∂f_o(x_k)/∂w_i)²`` per parameter entry, float64.

    Exact per-sample gradients, as in BackPACK's batch gradients: forward hooks keep
    each Linear/Conv layer's input ``a`` and output ``z``; one backward pass per
    output o gives ``∂f_o(x_k)/∂z_k`` for every sample at once (samples do not
    interact in evaluation mode), and a Linear weight's per-sample gradient is the
    outer product of that with ``a_k`` (for a single 2-d call, the sum of squares is
    the matrix product ``(δ²)ᵀ a²``, never materializing per-sample gradients);
    convolutions use the unfolded input. A layer called several times in one
    forward pass has its per-sample gradients summed over the calls before squaring.
    """
    layers: dict[nn.Module, dict[str, str]] = {}
    for name in params:
        path, _, local = name.rpartition(".")
        layers.setdefault(module.get_submodule(path) if path else module, {})[local] = name
    calls: list[tuple[nn.Module, Tensor, Tensor]] = []

    def hook(layer, inputs, output):
        calls.append((layer, inputs[0].detach(), output))
        # The rest of the forward pass gets a copy: an in-place op downstream
        # (ReLU(inplace=True), x += ...) must not change the tensor we differentiate by.
        return output.clone()

    handles = [layer.register_forward_hook(hook) for layer in layers]
    acc = {n: torch.zeros_like(p, dtype=torch.float64) for n, p in params.items()}
    try:
        for start in range(0, len(X), batch_size):
            calls.clear()
            xb = X[start : start + batch_size]
            with torch.enable_grad():
                out = _outputs(module, xb, transform)
                w = None
                if sample_weight is not None:
                    w = sample_weight[start : start + batch_size].to(torch.float64)
                outputs = [z for _, _, z in calls]
                fast = _fast_linear_calls(calls)
                inputs = [None if i in fast else _layer_input(layer, a) for i, (layer, a, _) in enumerate(calls)]
                # Σ_o δ_koi² of the fast Linear calls, summed before the matrix product
                # with a² (which does not depend on the output o).
                d2_sums: dict[int, Tensor] = {}
                for o in range(out.shape[1]):
                    deltas = torch.autograd.grad(
                        out[:, o].sum(), outputs, retain_graph=o + 1 < out.shape[1],
                        allow_unused=True,
                    )
                    for i in fast:
                        if deltas[i] is not None:
                            d2 = deltas[i].to(torch.float64).square()
                            d2_sums[i] = d2_sums[i] + d2 if i in d2_sums else d2
                    _accumulate(acc, layers, calls, inputs, fast, deltas, w)
                for i, d2 in d2_sums.items():
                    layer, a, _ = calls[i]
                    names = layers[layer]
                    if w is not None:
                        d2 = d2 * w[:, None]
                    if "weight" in names:
                        acc[names["weight"]] += d2.T @ a.to(torch.float64).square()
                    if "bias" in names:
                        acc[names["bias"]] += d2.sum(dim=0)
                del out, outputs, inputs, d2_sums
    finally:
        for handle in handles:
            handle.remove()
        calls.clear()
    return acc


def _fast_linear_calls(calls) -> set[int]:
    """Indices of calls of Linear layers used once, on 2-d inputs."""
    counts: dict[nn.Module, int] = {}
    for layer, _, _ in calls:
        counts[layer] = counts.get(layer, 0) + 1
    return {
        i for i, (layer, a, _) in enumerate(calls)
        if isinstance(layer, nn.Linear) and counts[layer] == 1 and a.dim() == 2
    }


def _accumulate(acc, layers, calls, inputs, fast, deltas, w) -> None:
    """Add Σ_k w_k (per-sample gradient)² of one output to ``acc``."""
    summed: dict[tuple[nn.Module, str], Tensor] = {}
    for i, ((layer, _, _), cols, delta) in enumerate(zip(calls, inputs, deltas)):
        if delta is None:
            continue
        names = layers[layer]
        if i in fast:  # handled by the caller: one matrix product per batch
            continue
        for local, g in _per_sample_grads(layer, cols, delta).items():
            if local in names:
                key = (layer, local)
                summed[key] = summed[key] + g if key in summed else g
    for (layer, local), g in summed.items():
        # Square in the layer's dtype and reduce over the batch before going to
        # float64: per-sample gradients are the big tensors here.
        sq = g.square_().reshape(g.shape[0], -1)
        total = sq.sum(dim=0) if w is None else w.to(sq.dtype) @ sq
        acc[layers[layer][local]] += total.reshape(acc[layers[layer][local]].shape).to(torch.float64)


def z_statistics(
    module: nn.Module,
    X: Tensor,
    T: Tensor,
    *,
    variance: str = "paper",
    transform: OutputMap = None,
    sample_weight: Tensor | None = None,
    include_bias: bool = False,
    batch_size: int = 4096,
) -> dict[str, Tensor]:
    """z_i for every weight of the Linear and Conv layers (and biases on request).

    Parameters
    ----------
    module : nn.Module
        The trained network; evaluated in evaluation mode (no dropout).
    X : Tensor of shape (n_samples, ...)
        Training inputs on the module's device and dtype.
    T : Tensor of shape (n_samples, n_outputs)
        Encoded targets, compared with ``transform(module(X))``.
    variance : {"paper", "gauss_newton"}
        ``"paper"``: ``s_i² = P / (∂P/∂w_i)²`` (Algorithm 2). ``"gauss_newton"``:
        ``s_i² = (P/m) / Σ_k Σ_o (∂f_o(x_k)/∂w_i)²`` (see the module docstring).
    transform : callable, optional
        Maps raw outputs to the quantity compared with ``T`` (e.g. softmax).
    sample_weight : Tensor of shape (n_samples,), optional
        Weights counting as repetitions.
    include_bias : bool
        Also test the biases of Linear and Conv layers.

    Returns
    -------
    dict of parameter name to float64 Tensor of z values (same shapes). Entries that
    are exactly zero (pruned) get ``z = 0``. When ``P = 0`` (the data are fitted
    exactly) the paper's statistic is 0/0: every nonzero weight gets ``z = inf``
    (nothing is pruned) and a RuntimeWarning says so.

    Examples
    --------
    A single linear unit ``f(x) = w·x`` fitted to ``y = x`` on two points:

    >>> import torch
    >>> net = torch.nn.Linear(1, 1, bias=False).double()
    >>> _ = net.weight.data.fill_(0.5)
    >>> X = torch.tensor([[1.0], [2.0]], dtype=torch.float64)
    >>> z = z_statistics(net, X, X)           # P = 0.625, dP/dw = -2.5
    >>> round(float(z["weight"]), 6)          # 0.5 * 2.5 / sqrt(0.625)
    1.581139
    """
    if variance not in VARIANCES:
        raise ValueError(f"variance must be one of {list(VARIANCES)}, got {variance!r}.")
    params = prunable_parameters(module, include_bias)
    if not params:
        raise ValueError(f"{type(module).__name__} has no Linear or Conv layer to prune.")
    was_training = module.training
    module.eval()
    try:
        P, grads = mse_and_gradient(
            module, X, T, params, transform=transform, sample_weight=sample_weight,
            batch_size=batch_size,
        )
        if variance == "gauss_newton":
            curvature = gauss_newton_diagonal(
                module, X, params, transform=transform, sample_weight=sample_weight,
                batch_size=min(batch_size, 1024),  # per-sample conv gradients: memory
            )
    finally:
        module.train(was_training)

    if not math.isfinite(P):
        raise ValueError(
            f"P(w) = {P}: the network's outputs are not finite on the training data (or "
            "every sample weight is zero); the z-statistics are undefined."
        )
    n_outputs = T.reshape(len(T), -1).shape[1]
    out = {}
    for name, param in params.items():
        w = param.detach().to(torch.float64).abs()
        if variance == "paper":
            # |w| / sqrt(P / g²) = |w| |g| / sqrt(P)
            signal = w * grads[name].abs()
            noise = math.sqrt(P)
        else:
            # |w| / sqrt(σ² / D) = |w| sqrt(D) / σ, σ² = P / m
            signal = w * curvature[name].sqrt()
            noise = math.sqrt(P / n_outputs)
        if noise > 0:
            out[name] = signal / noise
        else:
            out[name] = torch.where(w > 0, math.inf, 0.0).to(torch.float64)
    if P == 0:
        warnings.warn(
            "P(w) = 0: the training data are fitted exactly and the z-statistic is "
            "undefined (0/0); no weight is pruned.",
            RuntimeWarning,
        )
    return out

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

__all__ = ["VARIANCES", "gauss_newton_diagonal", "mse_and_gradient", "z_statistics"]

#: Accepted values of ``variance``.
VARIANCES = ("paper", "gauss_newton")

OutputMap = Callable[[Tensor], Tensor] | None
_JACOBIAN_ELEMENTS = 2**24  # entries of one chunk of per-sample Jacobians (memory bound)


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
        e = ((tb.to(torch.float64) - _outputs(module, xb, transform).to(torch.float64)) ** 2).sum(1)
        if sample_weight is not None:
            e = e * sample_weight[start : start + batch_size]
        batch = e.sum() / total_weight
        for acc, g in zip(grads, torch.autograd.grad(batch, tensors, allow_unused=True)):
            if g is not None:
                acc += g.to(torch.float64)
        loss += float(batch.detach())
    return loss, dict(zip(names, grads))


def gauss_newton_diagonal(
    module: nn.Module,
    X: Tensor,
    params: dict[str, Tensor],
    *,
    transform: OutputMap = None,
    sample_weight: Tensor | None = None,
    batch_size: int = 4096,
) -> dict[str, Tensor]:
    """``Σ_k w_k Σ_o (∂f_o(x_k)/∂w_i)²`` per parameter entry, float64.

    Per-sample Jacobians come from :func:`torch.func.jacrev` under
    :func:`torch.func.vmap`, in chunks sized so that one chunk holds at most
    2**24 Jacobian entries.
    """
    from torch.func import functional_call, jacrev, vmap

    selected = {n: p.detach() for n, p in params.items()}
    fixed = {n: p.detach() for n, p in module.named_parameters() if n not in selected}
    buffers = dict(module.named_buffers())

    def f(sel: dict[str, Tensor], x: Tensor) -> Tensor:
        out = functional_call(module, ({**fixed, **sel}, buffers), (x.unsqueeze(0),))
        return (out if transform is None else transform(out)).reshape(-1)

    with torch.no_grad():
        n_outputs = _outputs(module, X[:1], transform).shape[1]
    n_params = sum(p.numel() for p in selected.values())
    chunk = max(1, min(batch_size, _JACOBIAN_ELEMENTS // max(1, n_outputs * n_params)))
    per_sample = vmap(jacrev(f), in_dims=(None, 0))
    acc = {n: torch.zeros_like(p, dtype=torch.float64) for n, p in selected.items()}
    for start in range(0, len(X), chunk):
        jac = per_sample(selected, X[start : start + chunk])  # name -> (B, m, *shape)
        for name, j in jac.items():
            sq = j.to(torch.float64).square().sum(dim=1)  # (B, *shape)
            if sample_weight is not None:
                w = sample_weight[start : start + chunk].to(torch.float64)
                sq = sq * w.reshape(-1, *([1] * (sq.dim() - 1)))
            acc[name] += sq.sum(dim=0)
    return acc


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
                batch_size=batch_size,
            )
    finally:
        module.train(was_training)

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

"""One-hidden-layer convolutional network with non-overlapping patches.

The network of Brutzkus & Globerson (*Globally optimal gradient descent for a
ConvNet with Gaussian inputs*, 2017), studied by the RVSM paper (Dinh & Xin,
*Convergence of a relaxed variable splitting method for learning sparse neural
networks via ℓ1, ℓ0, and transformed-ℓ1 penalties*, arXiv 1812.05719): an input
``x ∈ R^{k·d}`` is cut into ``k`` disjoint patches ``x_1, …, x_k`` of size ``d``,
one filter ``w ∈ R^d`` is shared by all patches and

    f(x; w) = (1/k) Σ_i σ(w · x_i),   σ = ReLU.

Closed forms of its population loss for Gaussian inputs are in
:mod:`skconvex.theory`.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["NoOverlapCNN"]

#: Accepted values of the ``init`` parameter of :class:`NoOverlapCNN`.
NO_OVERLAP_INITS = ("unit_gaussian", "torch")

#: Accepted values of the ``readout`` parameter of :class:`NoOverlapCNN`.
NO_OVERLAP_READOUTS = ("average", "linear")


def _positive_int(value, name: str) -> int:
    """``value`` as an int, or a ValueError naming ``name``."""
    if isinstance(value, bool) or int(value) != value or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    return int(value)


class NoOverlapCNN(nn.Module):
    """Shared ReLU filter(s) on non-overlapping patches, averaged over the patches.

    The input of ``n_features = k·d`` entries is split into ``k = n_features /
    patch_size`` consecutive, disjoint patches of ``d = patch_size`` entries. Each
    of the ``n_filters`` filters ``w_j ∈ R^d`` (a :class:`torch.nn.Linear` without
    bias applied to every patch, i.e. a convolution whose stride equals its kernel
    size) gives the per-filter average

        h_j(x) = (1/k) Σ_i σ(w_j · x_i),   σ = ReLU.

    The patches are *averaged*, not summed, as in Brutzkus & Globerson and in the
    RVSM paper: with ``n_filters=1, readout="average"`` the output is exactly
    their ``f(x; w) = (1/k) Σ_i σ(w · x_i)``, whose population loss for Gaussian
    inputs is :func:`skconvex.theory.population_loss`. Because the filter lives in
    a :class:`torch.nn.Linear` layer (``conv``), the masks of
    :mod:`skconvex.nn.masks` can prune its entries.

    Parameters
    ----------
    n_features : int
        Number of input features ``k·d``; must be a multiple of ``patch_size``.
        Inputs with more than two dimensions are flattened to ``(n, -1)``.
    n_outputs : int, default=1
        Number of outputs. Must be 1 with ``readout="average"``.
    patch_size : int
        ``d``, the size of each patch and of each filter (keyword only, required).
    n_filters : int, default=1
        Number of shared filters (hidden channels).
    readout : {"average", "linear"}, default="average"
        How the per-filter averages ``h_j`` become the output:

        - ``"average"``: ``(1/n_filters) Σ_j h_j``, a single output with no
          trainable read-out (for one filter, the network of the theory);
        - ``"linear"``: a :class:`torch.nn.Linear` ``(n_filters → n_outputs)``
          with bias on ``(h_1, …, h_m)``, attribute ``head``.
    init : {"unit_gaussian", "torch"}, default="unit_gaussian"
        Filter initialization: ``"unit_gaussian"`` draws each filter from
        ``N(0, I_d)`` and scales it to unit norm (uniform on the sphere, the
        random initialization of the theory); ``"torch"`` keeps PyTorch's default
        for :class:`torch.nn.Linear`. The linear read-out always uses PyTorch's
        default. Everything is drawn from torch's global generator, filters
        first, then the read-out, so ``torch.manual_seed`` makes construction
        reproducible.

    Attributes
    ----------
    n_patches : int
        ``k``.
    patch_size : int
        ``d``.
    conv : torch.nn.Linear
        The shared filters, ``Linear(patch_size, n_filters, bias=False)``.
    head : torch.nn.Linear or None
        The linear read-out; ``None`` with ``readout="average"``.

    Raises
    ------
    ValueError
        If ``n_features`` is not a multiple of ``patch_size``, for an unknown
        ``readout`` or ``init``, or for ``readout="average"`` with
        ``n_outputs != 1``.

    Examples
    --------
    >>> import torch
    >>> _ = torch.manual_seed(0)
    >>> net = NoOverlapCNN(6, patch_size=2)
    >>> net.n_patches, tuple(net.filter.shape)
    (3, (1, 2))
    >>> round(float(net.filter.detach().norm()), 6)
    1.0
    >>> with torch.no_grad():
    ...     _ = net.filter.copy_(torch.tensor([[1.0, -1.0]]))
    ...     net(torch.tensor([[3.0, 1.0, 0.0, 2.0, 5.0, 0.0]]))
    tensor([[2.3333]])

    Several filters with a linear read-out:

    >>> net = NoOverlapCNN(12, 3, patch_size=4, n_filters=5, readout="linear")
    >>> net(torch.zeros(2, 12)).shape
    torch.Size([2, 3])
    """

    def __init__(
        self,
        n_features: int,
        n_outputs: int = 1,
        *,
        patch_size: int,
        n_filters: int = 1,
        readout: str = "average",
        init: str = "unit_gaussian",
    ) -> None:
        super().__init__()
        n_features = _positive_int(n_features, "n_features")
        n_outputs = _positive_int(n_outputs, "n_outputs")
        patch_size = _positive_int(patch_size, "patch_size")
        n_filters = _positive_int(n_filters, "n_filters")
        if n_features % patch_size:
            raise ValueError(
                f"n_features={n_features} is not divisible by patch_size={patch_size}; "
                "the patches must tile the input."
            )
        if not isinstance(readout, str) or readout not in NO_OVERLAP_READOUTS:
            raise ValueError(
                f"Unknown readout {readout!r}; expected one of {list(NO_OVERLAP_READOUTS)}."
            )
        if not isinstance(init, str) or init not in NO_OVERLAP_INITS:
            raise ValueError(f"Unknown init {init!r}; expected one of {list(NO_OVERLAP_INITS)}.")
        if readout == "average" and n_outputs != 1:
            raise ValueError(
                f'readout="average" gives a single output, got n_outputs={n_outputs}; '
                'use readout="linear".'
            )

        self.n_patches = n_features // patch_size
        self.patch_size = patch_size
        self.readout = readout
        self.conv = nn.Linear(patch_size, n_filters, bias=False)
        if init == "unit_gaussian":
            with torch.no_grad():
                w = torch.randn(n_filters, patch_size)
                self.conv.weight.copy_(w / w.norm(dim=1, keepdim=True))
        self.head = nn.Linear(n_filters, n_outputs) if readout == "linear" else None

    @property
    def filter(self) -> nn.Parameter:
        """The shared filters, shape ``(n_filters, patch_size)``.

        This is the weight parameter of ``conv`` itself, not a copy: edit it in
        place under :func:`torch.no_grad`.
        """
        return self.conv.weight

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.reshape(x.shape[0], self.n_patches, self.patch_size)
        hidden = torch.relu(self.conv(x)).mean(dim=1)  # (n, n_filters)
        if self.head is None:
            return hidden.mean(dim=1, keepdim=True)
        return self.head(hidden)

"""Activation functions selectable by name.

The names follow scikit-learn's ``MLPClassifier`` (``"relu"``, ``"tanh"``,
``"logistic"``, ``"identity"``) plus ``"lecun_tanh"``, the scaled hyperbolic
tangent recommended by LeCun et al. (1998).
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["ACTIVATIONS", "LeCunTanh", "make_activation"]


class LeCunTanh(nn.Module):
    """Scaled hyperbolic tangent ``1.7159 * tanh(2 v / 3)``.

    LeCun, Bottou, Orr and Müller ("Efficient BackProp", 1998) and LeCun,
    Bottou, Bengio and Haffner (1998, Appendix A) choose the constants so
    that ``f(1) = 1`` and ``f(-1) = -1`` (to about 1e-4), which keeps unit
    variances close to one when inputs are normalized.

    Examples
    --------
    >>> import torch
    >>> LeCunTanh()(torch.tensor([-1.0, 0.0, 1.0]))
    tensor([-1.0000,  0.0000,  1.0000])
    """

    amplitude: float = 1.7159
    slope: float = 2.0 / 3.0

    def forward(self, v: torch.Tensor) -> torch.Tensor:
        return self.amplitude * torch.tanh(self.slope * v)


#: Hidden and output activations by name (the ``activation`` and ``output_activation``
#: parameters): name -> ``torch.nn.Module`` class, each constructible without arguments.
ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "logistic": nn.Sigmoid,
    "lecun_tanh": LeCunTanh,
    "identity": nn.Identity,
}


def make_activation(name: str) -> nn.Module:
    """Return a new activation module for ``name``.

    Parameters
    ----------
    name : str
        One of the keys of :data:`ACTIVATIONS`: ``"relu"``, ``"tanh"``,
        ``"logistic"`` (sigmoid), ``"lecun_tanh"`` or ``"identity"``.

    Returns
    -------
    torch.nn.Module
        A fresh, parameter-free activation module.

    Raises
    ------
    ValueError
        If ``name`` is not a known activation.

    Examples
    --------
    >>> make_activation("logistic")
    Sigmoid()
    >>> make_activation("softmax")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    ValueError: Unknown activation 'softmax'; expected one of ['relu', 'tanh', ...].
    """
    # isinstance check first: an unhashable value would otherwise raise a
    # TypeError from the dict lookup instead of the documented ValueError.
    if not isinstance(name, str) or name not in ACTIVATIONS:
        raise ValueError(
            f"Unknown activation {name!r}; expected one of {list(ACTIVATIONS)}."
        )
    return ACTIVATIONS[name]()

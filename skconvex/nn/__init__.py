"""Torch modules trained by the skconvex estimators.

Nothing here imports scikit-learn: the modules are plain
:class:`torch.nn.Module` objects, selected by name through
:func:`build_module`.
"""

from .activations import ACTIVATIONS, LeCunTanh, make_activation
from .factory import BUILTIN_MODULES, build_module
from .lenet import LeNet5, LeNetVariant
from .mlp import MLP
from .no_overlap import NoOverlapCNN

__all__ = [
    "ACTIVATIONS",
    "BUILTIN_MODULES",
    "LeCunTanh",
    "LeNet5",
    "LeNetVariant",
    "MLP",
    "NoOverlapCNN",
    "build_module",
    "make_activation",
]

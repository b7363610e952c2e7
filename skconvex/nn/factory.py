"""Build a torch module from a name, a module class or a factory function."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from torch import nn

from .lenet import LeNet5, LeNetVariant
from .mlp import MLP
from .no_overlap import NoOverlapCNN

__all__ = ["BUILTIN_MODULES", "build_module"]

#: Names accepted for the ``module`` argument of :func:`build_module`.
BUILTIN_MODULES: dict[str, type[nn.Module]] = {
    "mlp": MLP,
    "lenet5": LeNet5,
    "lenet5_20_50_500": LeNetVariant,
    "no_overlap_cnn": NoOverlapCNN,
}

# Supplied by build_module from the training data, never by the user.
_DATA_PARAMS = ("n_features", "n_outputs")

ModuleSpec = str | type[nn.Module] | Callable[..., nn.Module]


def _resolve(module: ModuleSpec) -> Callable[..., nn.Module]:
    """Map a builtin name to its class and reject module instances."""
    if isinstance(module, str):
        try:
            return BUILTIN_MODULES[module]
        except KeyError:
            raise ValueError(
                f"Unknown module {module!r}; expected one of {list(BUILTIN_MODULES)}, "
                "a torch.nn.Module subclass or a factory function."
            ) from None
    if isinstance(module, nn.Module):
        # An instance cannot be re-created for each fit (clone, refit, CV)
        # without sharing or deep-copying already trained weights.
        raise TypeError(
            f"module must be a name, a torch.nn.Module subclass or a factory "
            f"function, not an instance ({type(module).__name__}); pass the "
            f"class (e.g. module={type(module).__name__}) or a function "
            "returning a new module."
        )
    if not callable(module):
        raise TypeError(f"module must be a str or a callable, got {module!r}.")
    return module


def _parameters(factory: Callable[..., Any]) -> list[inspect.Parameter]:
    """Signature parameters of ``factory``; empty if it cannot be inspected."""
    try:
        return list(inspect.signature(factory).parameters.values())
    except (TypeError, ValueError):  # some builtins/C extensions
        return []


def accepts_any_keyword(module: ModuleSpec) -> bool:
    """Whether the callable behind ``module`` takes ``**kwargs``.

    When true, :func:`module_param_names` cannot list every valid keyword,
    so callers should skip validating ``module__*`` parameters.

    Examples
    --------
    >>> accepts_any_keyword("mlp")
    False
    >>> accepts_any_keyword(lambda **kw: None)
    True
    """
    return any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in _parameters(_resolve(module))
    )


def module_param_names(module: ModuleSpec) -> set[str]:
    """Keyword parameters accepted by ``module``, except the data-given ones.

    ``n_features`` and ``n_outputs`` are excluded because
    :func:`build_module` fills them in from the data. A ``**kwargs``
    catch-all is not represented; see :func:`accepts_any_keyword`.

    Parameters
    ----------
    module : str or callable
        A key of :data:`BUILTIN_MODULES`, a :class:`torch.nn.Module`
        subclass or a factory function.

    Returns
    -------
    set of str

    Examples
    --------
    >>> sorted(module_param_names("mlp"))
    ['activation', 'dropout', 'hidden_layer_sizes', 'init', 'input_dropout', 'output_activation']
    """
    keyword_kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return {
        p.name
        for p in _parameters(_resolve(module))
        if p.kind in keyword_kinds and p.name not in _DATA_PARAMS
    }


def build_module(module: ModuleSpec, n_features: int, n_outputs: int, **params: Any) -> nn.Module:
    """Instantiate a torch module sized for the data.

    Parameters
    ----------
    module : str or callable
        A key of :data:`BUILTIN_MODULES` (``"mlp"``, ``"lenet5"``,
        ``"lenet5_20_50_500"``, ``"no_overlap_cnn"``, which needs a
        ``patch_size``), a :class:`torch.nn.Module` subclass or a
        function returning a new module. Instances are rejected because they
        cannot be cloned safely.
    n_features : int
        Number of input features, passed as a keyword if the callable accepts
        a ``n_features`` parameter (or ``**kwargs``).
    n_outputs : int
        Number of outputs, passed under the same condition.
    **params
        Further keyword arguments for the callable.

    Returns
    -------
    torch.nn.Module

    Raises
    ------
    ValueError
        For an unknown name.
    TypeError
        If ``module`` is a module instance or not callable, or if the
        callable does not return a :class:`torch.nn.Module`.

    Examples
    --------
    >>> net = build_module("mlp", 4, 3, hidden_layer_sizes=(5,))
    >>> [layer.out_features for layer in net.linears]
    [5, 3]
    >>> from torch import nn
    >>> build_module("no_overlap_cnn", 12, 1, patch_size=4).n_patches
    3
    >>> build_module(lambda: nn.Linear(2, 1), 2, 1)
    Linear(in_features=2, out_features=1, bias=True)
    """
    factory = _resolve(module)
    parameters = _parameters(factory)
    any_keyword = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters)
    names = {
        p.name
        for p in parameters
        if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    }
    for name, value in (("n_features", n_features), ("n_outputs", n_outputs)):
        if any_keyword or name in names:
            params[name] = value
    result = factory(**params)
    if not isinstance(result, nn.Module):
        raise TypeError(
            f"module {module!r} returned {type(result).__name__}, "
            "expected a torch.nn.Module."
        )
    return result

"""Check a pickled (or skops) estimator state before its network is built.

A fitted estimator is saved as the arguments that rebuild its module
(``_module_args_``) plus the module's arrays (``_module_state_``). A file that claims
a huge architecture beside small arrays would make loading allocate the claimed
network before torch notices the mismatch; :func:`check_module_state` builds the
module on torch's ``meta`` device (shapes, no storage) and compares every array with
it, so such a file is refused with nothing allocated.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch

from .nn.factory import build_module
from .nn.masks import register_mask_buffers

__all__ = ["check_module_state"]

_DTYPE_NAMES = ("float32", "float64")
_ARG_KEYS = {"module", "n_features", "n_outputs", "params"}


def _refuse(owner: str, problem: str) -> ValueError:
    return ValueError(
        f"Cannot load {owner}: {problem}. The file is corrupt or was crafted; the network "
        "was not built."
    )


def _check_args(owner: str, args) -> None:
    """The recorded architecture has the layout ``_module_arguments`` writes."""
    if not isinstance(args, Mapping) or set(args) != _ARG_KEYS:
        raise _refuse(owner, f"_module_args_ is not a recorded architecture: {args!r}")
    for key in ("n_features", "n_outputs"):
        value = args[key]
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
            raise _refuse(owner, f"_module_args_[{key!r}] must be a positive int, not {value!r}")
    if not isinstance(args["params"], Mapping):
        raise _refuse(owner, f"_module_args_['params'] is not a dict: {args['params']!r}")


def _check_arrays(owner: str, module_state, module_dtype) -> None:
    if module_dtype not in _DTYPE_NAMES:
        raise _refuse(owner, f"unknown network dtype {module_dtype!r}")
    if not isinstance(module_state, Mapping):
        raise _refuse(owner, "_module_state_ is not a dict of arrays")
    for key, value in module_state.items():
        if not isinstance(key, str) or not isinstance(value, np.ndarray):
            raise _refuse(owner, f"_module_state_[{key!r}] is not an array")
        if value.dtype.kind not in "fiub":
            raise _refuse(owner, f"_module_state_[{key!r}] has dtype {value.dtype}")


def _meta_shapes(owner: str, args, module_state) -> dict[str, tuple[int, ...]] | None:
    """The state-dict shapes of the recorded architecture, built without storage.

    None for a user's module whose construction does not run on the meta device
    (nothing can be checked then, as before); a builtin module must build there.
    """
    params = dict(args["params"])
    hidden = params.get("hidden_layer_sizes")
    if hidden is not None and np.size(hidden) + 1 > len(module_state):
        raise _refuse(
            owner,
            f"the architecture has {np.size(hidden) + 1} layers but the state only "
            f"{len(module_state)} arrays",
        )
    builtin = isinstance(args["module"], str)  # a name must be one of BUILTIN_MODULES
    try:
        with torch.device("meta"):
            module = build_module(args["module"], args["n_features"], args["n_outputs"], **params)
    except Exception as exc:  # noqa: BLE001 - any failure to build a builtin is a bad file
        if builtin:
            raise _refuse(owner, f"the recorded architecture does not build ({exc})") from exc
        return None
    register_mask_buffers(module, module_state)  # a pruned module's masks
    return {key: tuple(value.shape) for key, value in module.state_dict().items()}


def check_module_state(owner: str, state: Mapping, module_state, module_dtype) -> None:
    """Refuse a saved state whose arrays do not fit its recorded architecture.

    Nothing is allocated: the architecture is built on torch's ``meta`` device and
    only its shapes are compared with the arrays already loaded from the file.

    Parameters
    ----------
    owner : str
        The estimator's class name, for the message.
    state : mapping
        The estimator's saved attributes (``_module_args_``, ``n_features_in_``).
    module_state : mapping of str to ndarray
        The saved network arrays, by state-dict key.
    module_dtype : str
        The saved network dtype, ``"float32"`` or ``"float64"``.

    Raises
    ------
    ValueError
        If the recorded architecture is malformed or does not build, if it disagrees
        with ``n_features_in_``, or if a key or a shape of ``module_state`` differs
        from the architecture's.

    Examples
    --------
    >>> import numpy as np
    >>> from skconvex._state_validation import check_module_state
    >>> args = dict(module="mlp", n_features=3, n_outputs=2,
    ...             params=dict(hidden_layer_sizes=(10000,)))
    >>> arrays = {"linears.0.weight": np.zeros((4, 3)), "linears.0.bias": np.zeros(4),
    ...           "linears.1.weight": np.zeros((2, 4)), "linears.1.bias": np.zeros(2)}
    >>> check_module_state("GDCClassifier", {"_module_args_": args}, arrays, "float32")
    Traceback (most recent call last):
    ...
    ValueError: Cannot load GDCClassifier: linears.0.weight has shape (4, 3) but the \
recorded architecture needs (10000, 3). The file is corrupt or was crafted; the network \
was not built.
    """
    args = state.get("_module_args_")
    _check_args(owner, args)
    _check_arrays(owner, module_state, module_dtype)
    n_features_in = state.get("n_features_in_")
    if n_features_in is not None and n_features_in != args["n_features"]:
        raise _refuse(
            owner,
            f"n_features_in_ is {n_features_in} but the recorded architecture takes "
            f"{args['n_features']} features",
        )
    shapes = _meta_shapes(owner, args, module_state)
    if shapes is None:
        return
    if set(shapes) != set(module_state):
        missing = sorted(set(shapes) - set(module_state))
        unexpected = sorted(set(module_state) - set(shapes))
        raise _refuse(
            owner,
            f"the arrays do not match the architecture (missing {missing}, unexpected "
            f"{unexpected})",
        )
    for key, shape in shapes.items():
        if tuple(module_state[key].shape) != shape:
            raise _refuse(
                owner,
                f"{key} has shape {tuple(module_state[key].shape)} but the recorded "
                f"architecture needs {shape}",
            )

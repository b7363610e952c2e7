"""Devices, torch's thread pool, and numpy → torch conversion for the estimators."""

from __future__ import annotations

import os
import warnings
from contextlib import contextmanager

import numpy as np
import torch

__all__ = ["resolve_device", "torch_thread_limit", "to_tensor"]


def resolve_device(device: str, *, fitting: bool = True) -> torch.device:
    """Map "cpu" / "cuda" / "cuda:N" / "auto" to a torch.device.

    At fit time, asking for CUDA on a machine without it is an error; when a model
    is loaded or predicts there, it falls back to the CPU with a warning.
    """
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except RuntimeError:
        dev = None
    if dev is None or dev.type not in ("cpu", "cuda"):
        # "meta" and other backends parse, but hold no data to train or predict with.
        raise ValueError(f"device must be 'cpu', 'cuda', 'cuda:N' or 'auto'; got {device!r}.")
    if dev.type == "cuda" and not torch.cuda.is_available():
        if fitting:
            raise ValueError(
                f"device={device!r} but CUDA is not available on this machine; "
                "use device='cpu' or device='auto'."
            )
        warnings.warn(
            f"device={device!r} is not available here; using the CPU.", UserWarning
        )
        return torch.device("cpu")
    return dev


@contextmanager
def torch_thread_limit():
    """Cap torch's intra-op threads at the limit joblib gives its workers.

    joblib's loky workers export OMP_NUM_THREADS = cores // n_jobs, but torch in a
    reused worker may already run with more threads; without the cap,
    ``GridSearchCV(n_jobs=2)`` on two cores runs four busy threads.
    """
    limit = os.environ.get("OMP_NUM_THREADS")
    current = torch.get_num_threads()
    try:
        limit = int(limit) if limit else None
    except ValueError:
        limit = None
    if limit is None or limit <= 0 or limit >= current:
        yield
        return
    torch.set_num_threads(limit)
    try:
        yield
    finally:
        torch.set_num_threads(current)


def to_tensor(a: np.ndarray, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """``a`` as a tensor, sharing its memory when dtype, device and layout allow.

    Read-only inputs (a memmap chunk in ``partial_fit``) are shared too, not copied:
    a copy doubled the memory of out-of-core training. torch warns that it cannot
    guarantee immutability; skconvex only reads its inputs (indexing makes new
    tensors), so the warning is silenced here and only here.
    """
    a = np.ascontiguousarray(a)
    if a.flags.writeable:
        return torch.from_numpy(a).to(device=device, dtype=dtype)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        return torch.from_numpy(a).to(device=device, dtype=dtype)

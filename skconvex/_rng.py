"""Each fit's randomness from its own generator; the caller's global RNG untouched.

Two things draw random numbers while an estimator fits: building the network
(its initial weights, drawn by the module's own code from torch's global
generator) and training (dropout masks, the denoising corruption). Building runs
under :func:`seeded_global_rng`: a process-wide lock, the global generator seeded
and restored afterwards, so fits in threads never interleave their draws nor leave
the caller's state changed. Training draws from a generator that continues the
same stream (:func:`training_generator`), handed to the modules through a
thread-local (:func:`skconvex.nn.randomness.current_generator`), so fits in threads run in parallel and
still equal the same fits run one after the other.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import torch

_BUILD_LOCK = threading.RLock()


@contextmanager
def seeded_global_rng(seed: int) -> Iterator[None]:
    """Seed torch's global CPU generator for a block, under a lock; restore it after.

    Examples
    --------
    >>> before = torch.get_rng_state()
    >>> with seeded_global_rng(0):
    ...     a = torch.rand(1)
    >>> with seeded_global_rng(0):
    ...     b = torch.rand(1)
    >>> bool(a == b), bool((torch.get_rng_state() == before).all())
    (True, True)
    """
    with _BUILD_LOCK, torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def training_generator(device: torch.device, seed: int) -> torch.Generator:
    """The generator of a fit's training draws, on ``device``.

    On the CPU it continues the global stream where the (seeded) build left it:
    call it inside :func:`seeded_global_rng`, after the build. Dropout masks are
    then those ``torch.manual_seed(seed)`` alone would give.
    """
    if device.type != "cpu":
        return torch.Generator(device=device).manual_seed(seed)
    generator = torch.Generator()
    generator.set_state(torch.get_rng_state())
    return generator

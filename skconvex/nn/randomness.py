"""Dropout and other training-time draws from the running fit's own generator.

An estimator's fit makes its ``torch.Generator`` this thread's current generator
(:func:`using_generator`); :class:`Dropout` and the denoising corruption draw from
it instead of torch's process-wide generator. Fits in threads then neither
interleave their draws nor touch the caller's global RNG state. Outside a fit
(no current generator) they behave exactly as ``torch.nn.Dropout``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import Tensor, nn

__all__ = ["Dropout", "current_generator", "using_generator", "use_generator_dropout_"]

_LOCAL = threading.local()


@contextmanager
def using_generator(generator: torch.Generator | None) -> Iterator[None]:
    """Make ``generator`` this thread's :func:`current_generator` for a block.

    Examples
    --------
    >>> with using_generator(torch.Generator().manual_seed(0)):
    ...     a = Dropout(0.5)(torch.ones(4))
    >>> with using_generator(torch.Generator().manual_seed(0)):
    ...     b = Dropout(0.5)(torch.ones(4))
    >>> bool((a == b).all())
    True
    """
    previous = getattr(_LOCAL, "generator", None)
    _LOCAL.generator = generator
    try:
        yield
    finally:
        _LOCAL.generator = previous


def current_generator() -> torch.Generator | None:
    """The generator of the fit running in this thread (None: torch's global one).

    Examples
    --------
    >>> g = torch.Generator()
    >>> with using_generator(g):
    ...     current_generator() is g
    True
    >>> current_generator() is None
    True
    """
    return getattr(_LOCAL, "generator", None)


class Dropout(nn.Dropout):
    """``torch.nn.Dropout`` whose masks come from :func:`current_generator`.

    The same draws and arithmetic as torch's CPU dropout (``bernoulli_(1 − p)``,
    scaled by ``1/(1 − p)``), so with a generator in the state torch's global one
    would have, the masks are identical.

    Examples
    --------
    >>> drop = Dropout(0.5)
    >>> with using_generator(torch.Generator().manual_seed(0)):
    ...     a = drop(torch.ones(8))
    >>> with using_generator(torch.Generator().manual_seed(0)):
    ...     b = drop(torch.ones(8))
    >>> bool((a == b).all()), sorted(set(a.tolist()) | {0.0, 2.0})
    (True, [0.0, 2.0])
    """

    def forward(self, x: Tensor) -> Tensor:
        generator = current_generator()
        if not self.training or self.p == 0 or generator is None:
            return super().forward(x)
        keep = 1.0 - self.p
        if keep == 0:
            return x * 0.0
        noise = torch.empty_like(x).bernoulli_(keep, generator=generator).div_(keep)
        return x.mul_(noise) if self.inplace else x * noise


def use_generator_dropout_(module: nn.Module) -> nn.Module:
    """Replace every plain ``nn.Dropout`` inside ``module`` by :class:`Dropout` (in place).

    For user modules: their dropout then draws from the fit's generator too.

    Examples
    --------
    >>> net = use_generator_dropout_(nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.3)))
    >>> type(net[1]).__name__, net[1].p
    ('Dropout', 0.3)
    """
    for name, child in list(module.named_children()):
        if type(child) is nn.Dropout:
            setattr(module, name, Dropout(child.p, inplace=child.inplace))
        else:
            use_generator_dropout_(child)
    return module

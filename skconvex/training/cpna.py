"""CPNA: connection (or node) pruning with normalization and annealing.

Guo & Barbu's Algorithm 1 as a strategy of the one training loop. Training runs in
iterations (epochs of the loop):

1. ``pretrain_iter`` iterations of dense training;
2. for each pruning stage (a group of layers, e.g. the hidden→output connections,
   then the input→hidden ones), ``prune_iter`` iterations. At the start of its e-th
   iteration the hidden units are normalized (:func:`~skconvex.nn.units.normalize_units_`,
   eq. 3) and each layer of the stage keeps its M_e largest connections, M_e from
   the annealing schedule of Feature Selection with Annealing (:func:`fsa_schedule`).
   M_e reaches the target k at e = N/2; the second half of the stage trains the
   sparser network;
3. training continues on the sparse network until the last stage ends. As in
   Algorithm 1, the units are normalized before every iteration after pretraining.

Connections never come back (masks only shrink); the optimizer's state of removed
weights is cleared (as FSA's C++ code does); hidden units left without outgoing
connections lose their incoming ones too (they cannot affect the output), and units
left without incoming connections are folded into the next layer's bias (they output a
constant), so neither keeps connections that compete with live ones.

Nothing here imports scikit-learn.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from ..nn.masks import clear_optimizer_state_, keep_largest, prune_
from ..nn.units import fold_constant_units_, normalize_units_, prune_dead_units_
from .strategies import Strategy

__all__ = ["ConnectionPruning", "PRUNE_MODES", "fsa_count", "fsa_schedule"]

#: What a pruning step removes: single weights, or whole units (a layer's inputs).
PRUNE_MODES = ("connections", "nodes")


def fsa_count(e: int, n_start: int, n_target: int, n_iter: int, annealing_rate: float = 100.0) -> int:
    """M_e, the number kept after the e-th pruning iteration (FSA's schedule).

    ``M_e = k + (M − k)·max(0, (N − 2e)/(2eμ + N))``, truncated to an integer; M at
    e = 0, k from e = N/2 on. When ``n_start ≤ n_target`` nothing is pruned: M.

    Examples
    --------
    >>> [fsa_count(e, 5000, 100, 300) for e in (0, 1, 10, 100, 150)]
    [5000, 3020, 696, 124, 100]
    """
    if n_start <= n_target:
        return int(n_start)
    if e <= 0:
        return int(n_start)
    ratio = max(0.0, (n_iter - 2.0 * e) / (2.0 * e * annealing_rate + n_iter))
    return int(math.floor(n_target + (n_start - n_target) * ratio))


def fsa_schedule(
    n_start: int, n_target: int, n_iter: int, annealing_rate: float = 100.0
) -> np.ndarray:
    """The annealing schedule M_1, …, M_N of Feature Selection with Annealing.

    Parameters
    ----------
    n_start : int
        M, the count before pruning.
    n_target : int
        k, the count to end with.
    n_iter : int
        N, the number of pruning iterations; M_e reaches k at e = N/2 and stays there.
    annealing_rate : float, default=100
        μ; larger values prune faster at the start (FSA's reference code uses 100).

    Returns
    -------
    ndarray of int64, shape (n_iter,)
        Non-increasing, ``M_e ≤ M`` and ``M_e = k`` for ``e ≥ N/2``.

    Examples
    --------
    >>> fsa_schedule(1000, 10, 8, annealing_rate=1).tolist()
    [604, 340, 151, 10, 10, 10, 10, 10]
    """
    if n_iter < 1:
        raise ValueError(f"n_iter must be at least 1, got {n_iter}.")
    if annealing_rate <= 0:
        raise ValueError(f"annealing_rate must be positive, got {annealing_rate}.")
    if n_target < 0 or n_start < 0:
        raise ValueError("n_start and n_target must be non-negative.")
    return np.array(
        [fsa_count(e, n_start, n_target, n_iter, annealing_rate) for e in range(1, n_iter + 1)],
        dtype=np.int64,
    )


class ConnectionPruning(Strategy):
    """The CPNA schedule: dense pretraining, staged annealed pruning, sparse training.

    The loss is the plain mean per-sample error (cross-entropy for CPNA); what this
    strategy adds is :meth:`start_epoch`, where it normalizes and prunes.

    Parameters
    ----------
    stages : sequence of sequences of (layer_index, target)
        Pruning stages in order; the layers of one stage are pruned together.
        ``layer_index`` is a non-negative index into ``module.linears``. A
        target counts connections (weights of ``linears[layer_index]``) or, with
        ``prune="nodes"``, that layer's input units (columns with a connection).
    pretrain_iter : int
        Iterations of dense training before the first pruning step.
    prune_iter : int
        N, iterations of each stage.
    annealing_rate : float
        μ of :func:`fsa_schedule`.
    normalize : bool
        Normalize hidden units before every iteration after pretraining (CPNA);
        False is CPA.
    prune : {"connections", "nodes"}

    Attributes
    ----------
    stage : str
        "dense" (pretraining), "prune" (a layer of the current stage is above its
        target) or "sparse" (every layer of the stage at its target: training the
        sparse network).
    connection_curve : dict of int to list of int
        Kept connections of every layer after each iteration's pruning step.

    Examples
    --------
    >>> import torch
    >>> from skconvex.criteria import cross_entropy_errors
    >>> from skconvex.nn import MLP
    >>> from skconvex.training import ConnectionPruning, train
    >>> _ = torch.manual_seed(0)
    >>> X = torch.randn(200, 5)
    >>> Y = (X[:, 0] * X[:, 1] > 0).long()
    >>> from skconvex.nn import masks
    >>> net = MLP(5, 2, hidden_layer_sizes=(16,))
    >>> _ = masks.add_masks(net)       # pruning needs the mask buffers
    >>> strategy = ConnectionPruning([[(1, 8)], [(0, 10)]], pretrain_iter=5, prune_iter=5)
    >>> history = train(net, cross_entropy_errors, strategy, X, Y,
    ...                 lambda groups: torch.optim.Adam(groups, lr=0.01), max_iter=15, batch_size=200)
    >>> strategy.connection_curve[1][-1], strategy.connection_curve[0][-1]   # the targets
    (8, 10)
    """

    early_stopping_allowed = False  # the schedule fixes the number of iterations

    def __init__(
        self,
        stages: Sequence[Sequence[tuple[int, int]]],
        *,
        pretrain_iter: int,
        prune_iter: int,
        annealing_rate: float = 100.0,
        normalize: bool = True,
        prune: str = "connections",
    ) -> None:
        if prune not in PRUNE_MODES:
            raise ValueError(f"prune must be one of {list(PRUNE_MODES)}, got {prune!r}.")
        if pretrain_iter < 0 or prune_iter < 1:
            raise ValueError("pretrain_iter must be ≥ 0 and prune_iter ≥ 1.")
        self.stages = [list(stage) for stage in stages]
        self.pretrain_iter = int(pretrain_iter)
        self.prune_iter = int(prune_iter)
        self.annealing_rate = float(annealing_rate)
        self.normalize = bool(normalize)
        self.prune = prune
        self.stage = "dense"
        self.connection_curve: dict[int, list[int]] = {}
        self._stage_start: dict[int, int] = {}

    @property
    def n_iter(self) -> int:
        """Total iterations: pretraining plus every stage."""
        return self.pretrain_iter + len(self.stages) * self.prune_iter

    def _count(self, layer: nn.Linear) -> int:
        mask = layer.weight_mask
        return int(mask.any(dim=0).sum()) if self.prune == "nodes" else int(mask.sum())

    @torch.no_grad()
    def _prune_layer(self, module: nn.Module, index: int, n_keep: int) -> None:
        layer = module.linears[index]
        mask = layer.weight_mask
        if self.prune == "connections":
            keep = keep_largest(layer.weight.abs(), n_keep, mask)
        else:
            # A unit's strength is the norm of its outgoing weights (after
            # normalization, its incoming weights have unit norm).
            strength = torch.linalg.vector_norm(layer.weight * mask, dim=0)
            units = keep_largest(strength, n_keep, mask.any(dim=0))
            keep = mask & units[None, :]
        prune_(module, {f"linears.{index}.weight": keep})

    def start_epoch(self, epoch: int, module: nn.Module, optimizer) -> bool:
        """Normalize and prune before iteration ``epoch`` (0-based); True if pruned."""
        linears = list(module.linears)
        changed = False
        if epoch >= self.pretrain_iter:
            offset = epoch - self.pretrain_iter
            stage_index, e = divmod(offset, self.prune_iter)
            e += 1  # Algorithm 1 counts pruning iterations from 1
            if self.normalize:
                normalize_units_(module)
            if stage_index < len(self.stages):
                stage = self.stages[stage_index]
                if e == 1:
                    self._stage_start = {i: self._count(linears[i]) for i, _ in stage}
                before = [int(layer.weight_mask.sum()) for layer in linears]
                keep = {
                    index: fsa_count(
                        e, self._stage_start[index], target, self.prune_iter, self.annealing_rate
                    )
                    for index, target in stage
                }
                # Output side first: units it disconnects lose their incoming
                # connections before the layer below is counted.
                annealing = any(keep[index] > target for index, target in stage)
                for index, _ in sorted(stage, key=lambda item: -item[0]):
                    if self._count(linears[index]) > keep[index]:
                        self._prune_layer(module, index, keep[index])
                    fold_constant_units_(module)
                    prune_dead_units_(module)
                # Once every layer of the stage is at its target, the rest of the
                # stage trains the sparse network.
                self.stage = "prune" if annealing else "sparse"
                after = [int(layer.weight_mask.sum()) for layer in linears]
                changed = after != before
                if changed:
                    clear_optimizer_state_(optimizer, module)
            else:
                self.stage = "sparse"
        for i, layer in enumerate(linears):
            self.connection_curve.setdefault(i, []).append(int(layer.weight_mask.sum()))
        return changed

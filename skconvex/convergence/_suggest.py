"""From the bounds to training settings: :func:`suggest_training_parameters`.

With a step ``γ`` shared by all layers and keep probability ``ζ``, the bounds (7),
(12) and (13) all have the form

    bound(γ) = (P/γ + Q γ + R) / (1 − (U/2) γ),   P = D/(N ζ²), Q = a/(B ζ), R = b(ζ)/B,

    a = 13 d_{L−1} d_L / 256,    b(ζ) = α (c_{L−1} + ζ Σ_{l=1}^{L−2} c_l),
    c_l = d_{l−1} d_l d_{l+1} w_m^l / 4,
    U = max(13/8, max_{l<L} α d_{l+1} w_m^l / 10),

(eq. 13; eq. 12 at ζ = 1; eq. 7 with no hidden layer: b = 0, U = 13/8, since then
``e_γ^m = γ − (U/2) γ²``). Corollary III.3's argument (Markov's inequality on each
run, independence over ``T`` runs) turns the target ``(ε, δ)`` into
``bound ≤ θ = ε δ^{1/T}``. Minimizing over ``γ`` (derived): some step reaches ``θ``
exactly when

    N ≥ N(B) = 4 (D/ζ²) (a/(B ζ) + θ U / 2) / (θ − b(ζ)/B)²,

reached at ``γ = (θ − R) / (2 (Q + θ U / 2))``. Without hidden layers this is eq. 9
with the exact minimizer of (7) in place of ``γ_o``: ``N(B)`` is eq. 9 times
``(1 + 2δ̄) / (1 + δ̄)²`` (slightly smaller).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from numbers import Integral

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import brentq
from sklearn.utils import check_array
from sklearn.utils._param_validation import Interval, validate_params

from ._multilayer import _bound
from ._pretraining import data_moments
from ._stopping import _minimizing_step
from ._validation import COUNT, KEEP, NON_NEGATIVE, OPEN_UNIT, POSITIVE, hidden_sizes, per_layer

__all__ = ["TrainingSuggestion", "suggest_training_parameters"]

_KEEP_GRID = tuple(round(k / 20, 2) for k in range(20, 0, -1))  # 1.00, 0.95, …, 0.05
_RELAX = 1.01  # an unreachable target is relaxed to this factor times the best bound


@dataclass(frozen=True)
class TrainingSuggestion:
    """Settings suggested by :func:`suggest_training_parameters`, and what they guarantee.

    Attributes
    ----------
    learning_rate : float
        ``γ``, the constant SGD step for every layer (``W ← W − γ G``, no momentum).
    batch_size : int
        ``B``.
    n_iter : int
        ``N``: draw the stopping iteration ``R`` uniformly from ``{1, …, N}``.
    n_epochs : float
        ``N B / n_samples``, the passes over the data that ``N`` iterations make.
    keep_probability : float
        ``ζ``, the probability of keeping each input and hidden unit.
    dropout : float
        ``1 − ζ``, the drop probability (PyTorch's ``Dropout(p)``).
    bound : float
        The bound on ``E_{R,η}‖∇f(W^R)‖²`` at these settings (eq. 7, 12 or 13).
    epsilon : float
        ``bound / δ^{1/T}``: with probability ``≥ 1 − δ`` the best of ``T`` runs has
        ``‖∇f‖² ≤ epsilon``. At most the requested ε when ``target_met``.
    target_met : bool
        Whether the requested ``(ε, δ)``-solution is reached within the epoch budget.
    layer_sizes : tuple of int
        The lengths ``(d_0, …, d_L)`` used in the bounds (including the bias unit
        of each layer's input when ``intercept=True``).
    lipschitz : float
        ``U``, the Lipschitz constant in the step factor ``1 − (U/2) γ``; the
        suggested step is at most ``1/U``.
    initial_loss : float
        ``f(W¹)`` used for ``D_f``.
    alpha : float
        The pretraining accuracy ``α`` used.
    mu_x, tau_x : float
        The data moments of ``X`` (:func:`data_moments`), for DA pretraining
        (:func:`denoising_variance`); the supervised bounds do not use them.

    Examples
    --------
    >>> import numpy as np
    >>> from skconvex.convergence import TrainingSuggestion, suggest_training_parameters
    >>> X = np.random.default_rng(0).uniform(size=(1960, 100))
    >>> s = suggest_training_parameters(X, (), n_outputs=5, intercept=False)
    >>> isinstance(s, TrainingSuggestion), s.batch_size, s.n_iter, s.target_met
    (True, 50, 7835, True)
    >>> round(s.learning_rate, 4), round(s.n_epochs), s.layer_sizes
    (0.0344, 200, (100, 5))
    """

    learning_rate: float
    batch_size: int
    n_iter: int
    n_epochs: float
    keep_probability: float
    dropout: float
    bound: float
    epsilon: float
    target_met: bool
    layer_sizes: tuple[int, ...]
    lipschitz: float
    initial_loss: float
    alpha: float
    mu_x: float
    tau_x: float


def _constants(d, boxes, alpha):
    n_layers = len(d) - 1
    a = 13.0 * d[-2] * d[-1] / 256.0
    c = np.array(
        [d[l - 1] * d[l] * d[l + 1] * boxes[l - 1] / 4.0 for l in range(1, n_layers)]
    )
    curvatures = [alpha * d[l + 1] * boxes[l - 1] / 10.0 for l in range(1, n_layers)]
    lipschitz = max([13.0 / 8.0, *curvatures])
    return a, c, lipschitz


def _hidden_variance(c: np.ndarray, alpha: float, zeta: float) -> float:
    if c.size == 0:
        return 0.0
    return alpha * (c[-1] + zeta * float(c[:-1].sum()))


def _iterations_needed(a, d0, b, lipschitz, theta, batch):
    """Smallest real N with min_γ bound ≤ θ at this batch (inf if none)."""
    slack = theta - b / batch
    if slack <= 0:
        return math.inf
    return 4.0 * d0 * (a / batch + 0.5 * theta * lipschitz) / (slack * slack)


def _target_candidate(a, d0, b, lipschitz, theta, n_samples, n_epochs):
    """Largest ``B ≤ n_samples`` reaching ``θ`` within the budget, with its N and step.

    ``N(B) B = 4 D (a + k B) B² / (θ B − b)²`` with ``k = θ U / 2`` falls and then
    rises in ``B > b/θ`` (its log-derivative vanishes only at the positive root of
    ``k θ B² − 3 k b B − 2 a b = 0``), so the batches within the budget form an
    interval; its upper end is found by bisection.
    """
    budget = n_samples * n_epochs
    k = 0.5 * theta * lipschitz

    def excess(batch: float) -> float:  # N(B) B − budget, for real B
        return _iterations_needed(a, d0, b, lipschitz, theta, batch) * batch - budget

    turn = 1.0
    if b > 0:
        turn = (3.0 * k * b + math.sqrt(9.0 * k * k * b * b + 8.0 * k * theta * a * b)) / (
            2.0 * k * theta
        )
    turn = min(max(turn, 1.0), float(n_samples))
    if excess(turn) > 0:
        return None
    upper = n_samples if excess(n_samples) <= 0 else brentq(excess, turn, n_samples, xtol=1e-9)
    batch = math.floor(upper)
    # Rounding N up can push N·B past the budget: step the batch down until it fits.
    while batch >= 1:
        n_real = _iterations_needed(a, d0, b, lipschitz, theta, batch)
        if math.isfinite(n_real):
            n_iter = max(1, math.ceil(n_real))
            if n_iter * batch <= budget * (1.0 + 1e-12):
                step = _minimizing_step(d0 / n_iter, a / batch, b / batch, lipschitz)
                return batch, n_iter, float(step)
        if batch < turn:
            break
        batch -= 1
    return None


def _fixed_batch_candidate(a, d0, b, lipschitz, theta, n_samples, n_epochs, batch):
    """N and step reaching ``θ`` at a given batch within the budget, or None."""
    n_real = _iterations_needed(a, d0, b, lipschitz, theta, batch)
    if not math.isfinite(n_real):
        return None
    n_iter = max(1, math.ceil(n_real))
    if n_iter * batch > n_samples * n_epochs * (1.0 + 1e-12):
        return None
    return batch, n_iter, float(_minimizing_step(d0 / n_iter, a / batch, b / batch, lipschitz))


def _budget_candidate(a, d0, b, lipschitz, n_samples, n_epochs, batch=None):
    """The (B, N, γ, bound) minimizing the bound when all ``n_epochs`` are spent."""
    if batch is None:
        batches = np.unique(np.round(np.geomspace(1, n_samples, 256)).astype(np.int64))
    else:
        batches = np.array([batch], dtype=np.int64)
    n_iters = np.maximum(1, np.floor(n_samples * n_epochs / batches)).astype(np.int64)
    p, q, r = d0 / n_iters, a / batches, b / batches
    steps = _minimizing_step(p, q, r, lipschitz)
    bounds = (p / steps + q * steps + r) / (1.0 - 0.5 * lipschitz * steps)
    i = int(np.argmin(bounds))
    return int(batches[i]), int(n_iters[i]), float(steps[i]), float(bounds[i])


@validate_params(
    {
        "X": ["array-like", "sparse matrix"],
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "n_outputs": COUNT,
        "epsilon": POSITIVE,
        "delta": OPEN_UNIT,
        "n_runs": COUNT,
        "n_epochs": POSITIVE,
        "batch_size": [*COUNT, None],
        "initial_loss": [*POSITIVE, None],
        "alpha": [*NON_NEGATIVE, None],
        "box_bound": ["array-like", *POSITIVE],
        "keep_probability": [*KEEP, None],
        "intercept": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def suggest_training_parameters(
    X: ArrayLike,
    hidden_layer_sizes: int | ArrayLike,
    *,
    n_outputs: int = 1,
    epsilon: float = 0.05,
    delta: float = 0.05,
    n_runs: int = 10,
    n_epochs: float = 200,
    batch_size: int | None = None,
    initial_loss: float | None = None,
    alpha: float | None = None,
    box_bound: float | ArrayLike = 1.0,
    keep_probability: float | None = None,
    intercept: bool = True,
) -> TrainingSuggestion:
    """Step size, batch size, iteration count and dropout from the paper's bounds.

    Asks for an ``(ε, δ)``-solution (Definition 1: over ``T = n_runs`` independent
    runs, the best ``W^R`` has ``‖∇f(W^R)‖² ≤ ε`` with probability ``≥ 1 − δ``)
    within ``n_epochs`` passes over ``X``, by the bound of eq. 7 (no hidden layer)
    or eq. 13 (hidden layers; eq. 12 when ``ζ = 1``), and returns

    * the **batch size** ``B``: the largest ``B ≤ n_samples`` for which the bound
      reaches the target within the budget, i.e. the fewest iterations (unless
      ``batch_size`` is given);
    * the **iteration count** ``N``, the fewest that reach the target at that
      ``B``: eq. 9 (Corollary III.3) with the exact optimal step, and its extension
      to eq. 13; train with random stopping, ``R ~ Unif[1, N]``;
    * the **step** ``γ`` minimizing the bound at ``(N, B, ζ)``: Theorem III.1's
      ``γ_o`` up to a relative correction of order ``U γ_o ∝ 1/√N``, never above
      ``1/U``;
    * the **keep probability** ``ζ`` (dropout ``1 − ζ``): among 1.00, 0.95, …,
      0.05, the one allowing the largest batch, then the fewest iterations (or
      ``keep_probability``). By eq. 13 dropout can only lower the bound with two or
      more hidden layers, and does so when ``α`` is large (poor pretraining).

    The paper's example after Corollary III.3 (``d_x = 100``, ``d_y = 5``, no
    hidden layer, ``f(W¹) = 5``, ``ε = δ = 0.05``, ``T = 10``, ``C = 200`` epochs
    over ``S = 1960`` samples, for which it finds ``B = 50``, ``N > 7.8·10³``)
    comes back as ``B = 50``, ``N = 7835``.

    If no batch reaches the target within the budget (the bounds are loose: common
    with wide hidden layers, a large box bound or a poor ``α``), a ``UserWarning``
    is issued, the target is relaxed to 1.01 times the smallest bound that any
    ``(ζ, B)`` reaches with all ``n_epochs`` spent, and the same rule is applied:
    ``target_met=False``, and ``epsilon`` says what the settings do guarantee.

    Assumptions (the paper's, Sections II–VI, plus the last two):

    * sigmoid units in every layer and the squared loss ``E‖y − ŷ‖²`` summed over
      the outputs (eqs. 3 and 5; skconvex's ``"sse"`` criterion), inputs and targets
      in ``[0, 1]`` (one-hot targets for a classifier: ``n_outputs = n_classes``);
    * plain SGD with one constant step for all layers, no momentum or weight decay,
      returning the iterate at the random stopping iteration ``R``, not the last;
    * ``D_f ≤ f(W¹) ≤ d_y`` (``initial_loss`` overrides ``d_y``);
    * hidden layers pretrained to accuracy ``α`` (default ``ε``; pass a larger
      ``α`` for randomly initialized layers — the paper gives no value) in the box
      ``[−w_m, w_m]`` (``box_bound``); the same keep probability in every layer;
    * ``N`` iterations of ``B`` samples make ``N B / n_samples`` epochs (the
      paper's ``S C ≈ B N``);
    * a bias is a constant unit appended to each layer's input (``intercept``).

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Training inputs in ``[0, 1]``: they give ``S = n_samples``, ``d_x`` and the
        moments.
    hidden_layer_sizes : int or sequence of int
        Hidden lengths ``d_1, …, d_{L−1}``; ``()`` for the single-layer network.
    n_outputs : int, default=1
        ``d_y``.
    epsilon : float, default=0.05
        ``ε``, the target squared gradient norm (summed over all weights).
    delta : float, default=0.05
        ``δ ∈ (0, 1)``.
    n_runs : int, default=10
        ``T``, independent runs (``T = 1``: a single run reaches ``ε`` w.p. ``1 − δ``).
    n_epochs : float, default=200
        ``C``, the budget of passes over ``X``.
    batch_size : int, default=None
        Fix ``B`` (clipped to ``n_samples``) instead of choosing it.
    initial_loss : float, default=None
        ``f(W¹)``; ``None`` uses ``n_outputs``, its maximum.
    alpha : float, default=None
        ``α`` of Corollaries V.1 and VI.1; ``None`` uses ``epsilon``. Unused
        without hidden layers.
    box_bound : float or sequence of float, default=1.0
        ``w_m^l`` of each hidden layer (weight units).
    keep_probability : float, default=None
        Fix ``ζ ∈ (0, 1]`` instead of choosing it.
    intercept : bool, default=True
        Count the bias as a constant unit appended to the input of every layer
        (``d_l + 1`` for ``l < L``), as the paper does.

    Returns
    -------
    TrainingSuggestion

    Raises
    ------
    ValueError
        If ``X`` is not in ``[0, 1]`` or an argument is out of range.

    Warns
    -----
    UserWarning
        When the target cannot be met within the budget.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).random((1960, 100))
    >>> s = suggest_training_parameters(X, (), n_outputs=5, intercept=False)
    >>> s.batch_size, s.n_iter, round(s.learning_rate, 4), s.target_met
    (50, 7835, 0.0344, True)
    >>> s = suggest_training_parameters(X[:, :30], (8, 8, 8), alpha=1.0, box_bound=0.05,
    ...                                 n_epochs=500)
    >>> s.batch_size, s.n_iter, round(s.learning_rate, 3), s.keep_probability
    (1960, 466, 0.295, 0.9)
    """
    X = check_array(X, accept_sparse=("csr", "csc"), dtype=np.float64, input_name="X")
    moments = data_moments(X)
    n_samples, n_features = X.shape
    hidden = hidden_sizes(hidden_layer_sizes)
    sizes = (n_features, *hidden, n_outputs)
    if intercept:
        sizes = tuple(v + 1 for v in sizes[:-1]) + (sizes[-1],)
    n_layers = len(sizes) - 1
    boxes = per_layer(box_bound, n_layers - 1, "box_bound", what="hidden layer")
    d0 = float(n_outputs) if initial_loss is None else float(initial_loss)
    alpha_used = float(epsilon if alpha is None else alpha)
    theta = epsilon * delta ** (1.0 / n_runs)
    a, c, lipschitz = _constants(sizes, boxes, alpha_used)
    grid = _KEEP_GRID if keep_probability is None else (float(keep_probability),)
    fixed = None if batch_size is None else min(int(batch_size), n_samples)

    def per_zeta(zeta: float):
        return a / zeta, d0 / zeta**2, _hidden_variance(c, alpha_used, zeta)

    def search(target: float):
        best = None  # (batch, zeta, n_iter, step)
        for zeta in grid:
            az, dz, bz = per_zeta(zeta)
            if fixed is None:
                found = _target_candidate(az, dz, bz, lipschitz, target, n_samples, n_epochs)
            else:
                found = _fixed_batch_candidate(
                    az, dz, bz, lipschitz, target, n_samples, n_epochs, fixed
                )
            # The largest batch; among equal batches (e.g. all capped at n_samples) the
            # fewest iterations; then the larger ζ (the grid runs from 1 down).
            if found is not None and (
                best is None or (found[0], -found[1]) > (best[0], -best[2])
            ):
                best = (found[0], zeta, found[1], found[2])
        return best

    best = search(theta)
    target_met = best is not None
    if not target_met:
        # Out of reach: relax the target to 1.01 × the smallest bound any (ζ, B) reaches
        # with the whole budget, and apply the same rule (the largest batch reaching it).
        smallest = min(
            _budget_candidate(*per_zeta(zeta), lipschitz, n_samples, n_epochs, fixed)[3]
            for zeta in grid
        )
        relax = _RELAX
        while (best := search(relax * smallest)) is None:  # only against rounding
            relax *= _RELAX
    batch, zeta, n_iter, step = best

    bound = _bound(sizes, np.full(n_layers, step), boxes, alpha_used, d0, n_iter, batch, zeta)
    achieved = bound / delta ** (1.0 / n_runs)
    if not target_met:
        warnings.warn(
            f"No batch size up to n_samples={n_samples} reaches a ({epsilon:g}, {delta:g})-"
            f"solution over {n_runs} runs within n_epochs={n_epochs:g} by the bound "
            f"(eq. {13 if n_layers > 1 else 7}); returning the largest batch within 1% of "
            f"the smallest bound the budget allows, which guarantees epsilon={achieved:.4g}. "
            "Increase n_epochs, epsilon or delta, or use a smaller network, box_bound "
            "or alpha.",
            UserWarning,
            stacklevel=3,
        )
    return TrainingSuggestion(
        learning_rate=float(step),
        batch_size=int(batch),
        n_iter=int(n_iter),
        n_epochs=n_iter * batch / n_samples,
        keep_probability=float(zeta),
        dropout=float(round(1.0 - zeta, 12)),
        bound=float(bound),
        epsilon=float(achieved),
        target_met=target_met,
        layer_sizes=tuple(int(v) for v in sizes),
        lipschitz=float(lipschitz),
        initial_loss=d0,
        alpha=alpha_used,
        mu_x=moments.mu_x,
        tau_x=moments.tau_x,
    )

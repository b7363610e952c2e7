"""CPNAClassifier: connection/node pruning with normalization and annealing."""

from __future__ import annotations

import warnings
import zlib
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.feature_selection import SelectorMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from sklearn_compat.base import _fit_context

from ._base import NeuralNetMixin, _layer_sizes, _store_parameters
from ._fit_guard import atomic_fit
from ._tasks import NeuralClassifierMixin, _outputs_in_chunks
from .nn import masks
from .nn.units import active_units, fold_constant_units_, input_support, prune_dead_units_
from .training.callbacks import Callback, ValidationScore, restore, snapshot
from .training.cpna import PRUNE_MODES, ConnectionPruning

__all__ = ["CPNAClassifier"]

_DEFAULT_CONNECTIONS = {"hidden": 0.1}  # n_connections=None (the default before "auto")
#: ``n_connections="auto"``: each feature budget of the path is this share of the
#: previous one (dense → sparse), down to one feature.
AUTO_BUDGET_RATIO = 0.5
#: The path stops after this many budgets in a row score below the best one so far.
AUTO_PATIENCE = 2
#: Share of the training rows held out (by a hash of each row) to score the path.
AUTO_VALIDATION_FRACTION = 0.2
#: Below this many held-out rows (weighted) the path is not walked: the dense net is kept.
AUTO_MIN_VALIDATION = 10


def auto_budgets(n_features: int) -> list[int]:
    """The feature budgets of ``n_connections="auto"``, from dense to sparse.

    Each budget is :data:`AUTO_BUDGET_RATIO` times the previous one (truncated),
    starting from ``n_features`` and ending at one feature.

    Examples
    --------
    >>> auto_budgets(32)
    [16, 8, 4, 2, 1]
    >>> auto_budgets(1)
    []
    """
    budgets, budget = [], int(n_features)
    while int(budget * AUTO_BUDGET_RATIO) >= 1:
        budget = int(budget * AUTO_BUDGET_RATIO)
        budgets.append(budget)
    return budgets


def _row_hash_split(X: np.ndarray, fraction: float) -> np.ndarray:
    """True for the rows held out: a hash of each row's bytes below ``fraction``.

    Deterministic in the data: a repeated row always falls on the same side, so a
    fit with integer sample weights sees the same split as one with repeated rows.
    """
    rows = np.ascontiguousarray(X, dtype=np.float64)
    codes = np.array([zlib.crc32(row.tobytes()) for row in rows], dtype=np.float64)
    return codes / 2.0**32 < fraction


def _layer_index(key, n_layers: int) -> int:
    """Layer of a key: "input" (first), "hidden" (last: hidden→output), "layerI" or an int."""
    if key == "input":
        return 0
    if key == "hidden":
        return n_layers - 1
    index = None
    if isinstance(key, str) and key.startswith("layer") and key[5:].isdigit():
        index = int(key[5:])
    elif isinstance(key, Integral) and not isinstance(key, bool):
        index = int(key)
    if index is None or not -n_layers <= index < n_layers:
        raise ValueError(
            f"Unknown layer {key!r}: use 'input' (input→first hidden), 'hidden' (last "
            f"hidden→output), 'layerI' or an index in [-{n_layers}, {n_layers - 1}]."
        )
    return index % n_layers


def _layer_name(index: int, n_layers: int) -> str:
    if index == 0:
        return "input"
    return "hidden" if index == n_layers - 1 else f"layer{index}"


def _binary_auc(positive: np.ndarray, score: np.ndarray, weight: np.ndarray) -> float:
    """Weighted ROC AUC, P(s₊ > s₋) + ½·P(s₊ = s₋): the area under the ROC curve that
    ``roc_auc_score`` computes, without its per-call validation (CPNA scores after every
    iteration)."""
    values, inverse = np.unique(score, return_inverse=True)
    pos = np.bincount(inverse, weights=weight * positive, minlength=len(values))
    neg = np.bincount(inverse, weights=weight * ~positive, minlength=len(values))
    below = np.cumsum(neg) - neg  # negative mass strictly below each score
    return float(np.sum(pos * (below + 0.5 * neg)) / (pos.sum() * neg.sum()))


def _auc(y: np.ndarray, proba: np.ndarray, weight: np.ndarray | None) -> float:
    """ROC AUC (one-vs-rest macro for several classes); NaN when a class is absent.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([0, 0, 1, 1])
    >>> proba = np.array([[0.9, 0.1], [0.6, 0.4], [0.65, 0.35], [0.2, 0.8]])
    >>> _auc(y, proba, None)
    0.75
    """
    n_classes = proba.shape[1]
    weight = np.ones(len(y)) if weight is None else np.asarray(weight, dtype=np.float64)
    present = np.bincount(y, weights=weight, minlength=n_classes)
    if np.any(present <= 0) or np.any(present >= weight.sum()):
        return float("nan")
    if n_classes == 2:
        return _binary_auc(y == 1, proba[:, 1], weight)
    return float(np.mean([_binary_auc(y == c, proba[:, c], weight) for c in range(n_classes)]))


class CPNAClassifier(NeuralClassifierMixin, NeuralNetMixin, SelectorMixin, ClassifierMixin, BaseEstimator):
    """ReLU network trained by connection pruning with normalization and annealing.

    Starts from a wide fully connected ReLU network, trains it (``pretrain_iter``
    iterations), then prunes it gradually to a few connections per layer with the
    annealing schedule of Feature Selection with Annealing, normalizing the hidden
    units before every pruning step so that weight magnitudes compare across units,
    and trains the sparse network (Guo & Barbu, *Finding deep local optima using
    network pruning*, Algorithm 1). Softmax cross-entropy with Adam and an L2
    penalty, as in the paper. An iteration is one epoch over the training data
    (with ``batch_size`` ≥ n_samples, one full-batch step, FSA's iteration).

    Input features left without connections are dropped: the estimator is also a
    feature selector (``get_support``, ``transform``), usable at the head of a
    Pipeline.

    Parameters
    ----------
    hidden_layer_sizes : array-like of int, default=(256,)
        Widths of the hidden layers at the start (the paper uses 256 to 4096).
    n_connections : "auto" or dict, default="auto"
        "auto" selects features without a target: after pretraining, a path of
        feature budgets from dense to sparse (each half the previous one, see
        :func:`auto_budgets`), each reached by an annealed stage of ``prune_iter``
        iterations that starts from the previous stage's network (whole input
        features pruned by the norm of their outgoing weights; the hidden→output
        connections are kept). Every point of the path (the dense network included)
        is scored on validation data and the sparsest network whose accuracy is
        within one standard error of the best is chosen; the walk stops once two
        budgets in a row fall below that bound. ``pruning_path_`` records it. When
        the validation rows were held out of the training data (not ``X_val``), the
        path is then walked again on all the rows down to the chosen budget and that
        network is returned (as GridSearchCV refits; the fitted curves are the
        refit's).
        A dict gives a target per layer: the number of connections kept (or, with
        ``prune="nodes"``, of that layer's input units kept), an int ≥ 1, or a float
        in (0, 1) for a share of the layer's full size. Layers are named "hidden"
        (last hidden layer → output, the paper's "hidden" pruning), "input" (input
        features → first hidden layer; pruning it selects features), "layerI" or an
        integer index I of the linear layers. None is ``{"hidden": 0.1}`` (the default
        before "auto", which keeps every feature); ``{}`` trains the dense network
        only (the paper's NN baseline).
    prune : {"connections", "nodes"}, default="connections"
        Remove single connections by ``|w|``, or whole units (a layer's inputs: hidden
        units for "hidden", features for "input") by the norm of their outgoing
        weights. Only for a dict of ``n_connections``: "auto" prunes whole features.
    prune_layers : "auto", "all", a layer name, or a sequence, default="auto"
        Which layers of ``n_connections`` are pruned and in what order. "auto": one
        stage per layer, from the output side to the input (the paper's CPNA(all):
        hidden→output first, then input→hidden); "all": every layer at once; a single
        name: that layer only (CPNA(hidden) is ``"hidden"``); a sequence of names or
        of tuples of names: stages in that order, a tuple's layers pruned together.
        Layers of ``n_connections`` not named here are not pruned.
    normalize : bool, default=True
        Normalize each hidden unit's incoming weights and bias by the norm of its
        incoming weights (and scale its outgoing weights up by the same factor)
        before every iteration after pretraining. The function is unchanged (ReLU
        is positively homogeneous). False gives CPA, the paper's ablation.
    pretrain_iter : int, default=100
        Iterations of dense training before pruning starts.
    prune_iter : int, default=100
        N, iterations of each pruning stage: the kept count M_e falls from its start
        to the target over the first N/2 and the sparse network trains for the rest.
    annealing_rate : float, default=100
        μ of the schedule M_e = k + (M − k)·max(0, (N − 2e)/(2eμ + N)).
    initial_masks : dict of str to array of bool, default=None
        Masks to start from (e.g. the ``masks_`` of another fit): the network starts
        pruned to them and keeps them. With ``n_connections={}`` this retrains a
        pruned subnetwork, from a new initialization (another ``random_state``) or
        from the original one (the same ``random_state``): the paper's
        CPNA(random) and CPNA(init).
    init : {"auto", "glorot", "torch", "paper"}, default="auto"
        Weight initialization ("auto" is scikit-learn's Glorot rule for ReLU).
    solver : {"adam", "sgd"}, default="adam"
    alpha : float, default=1e-3
        L2 penalty (weight decay) on the weights, not on biases (paper: 1e-3).
    batch_size : int or "auto", default="auto"
        Minibatch size; "auto" is min(200, n_samples).
    learning_rate_init : float, default=1e-3
    momentum : float, default=0.9
        Momentum of "sgd".
    nesterovs_momentum : bool, default=True
    beta_1, beta_2, epsilon : float, default=0.9, 0.999, 1e-8
        Adam's parameters.
    shuffle : bool, default=True
    validation_fraction : float, "auto" or None, default="auto"
        Hold out this share of the training data (stratified, drawn with
        ``random_state``) and record its accuracy, AUC and loss at every iteration;
        ``fit(X_val=, y_val=)`` gives the validation set instead. With a dict of
        ``n_connections`` this is monitoring only (the final network is the last one)
        and "auto" is None. With ``n_connections="auto"`` the path is scored on it;
        there "auto" holds out the rows whose hash falls in the lowest 20 % (a rule
        deterministic in the data: a repeated row always lands on the same side, so
        integer sample weights and repeated rows give the same fit), and None is an
        error. With fewer than 10 held-out or 10 remaining rows (weighted) the path is
        not walked: a warning, and the dense network is returned.
    random_state : int, RandomState instance or None, default=None
        Seeds the initialization, the shuffling and the validation split.
    verbose : int, default=0
        Show a progress bar over iterations.
    device : str, default="cpu"
        "cpu", "cuda", "cuda:N" or "auto".
    dtype : {"float32", "float64"}, default="float32"
    stopping : {"convergence", "random"} or array-like of shape (N,), default="convergence"
        "convergence" runs the whole schedule. "random": random-stopping SGD (the
        interplay paper's eq. 6): ``R ~ Unif[1, N]``, ``N`` the optimizer steps of
        the schedule, is drawn before training and the network after ``R − 1``
        steps is returned (possibly mid-pruning). An array is the pmf of ``R``.
    record_grad_norm : bool, default=False
        Record the minibatch gradient norm of every step in ``grad_norm_curve_``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    module_ : skconvex.nn.MLP
        The trained network; pruned weights are zero and masked.
    masks_ : dict of str to ndarray of bool
        The weight masks by parameter name ("linears.0.weight", ...).
    n_connections_ : dict of str to int
        Kept connections per layer ("input", "layerI", "hidden").
    n_active_hidden_ : list of int
        Per hidden layer, the units that still have an outgoing connection; the
        others are removed.
    support_ : ndarray of bool, shape ``(n_features_in_,)``
        Input features that still have a connection.
    sparsity_ : float
        Share of pruned connections over all layers.
    connection_curve_ : dict of str to list of int
        Kept connections per layer after each iteration's pruning step (M_e while a
        layer is annealed with ``prune="connections"``; with ``prune="nodes"`` the
        schedule counts units and this curve still counts connections).
    pruning_stages_ : list of dict
        Per stage: ``"layers"`` (the names it prunes) and ``"first_iteration"``
        (0-based).
    stage_curve_ : list of str
        Per iteration: "dense" (pretraining), "prune" (a layer is above its target)
        or "sparse" (training at the targets).
    loss_curve_ : list of float
        Mean training cross-entropy per iteration, as seen by the minibatches during
        the epoch (without the L2 term).
    training_loss_curve_ : list of float
        Training cross-entropy after each iteration (comparable with
        ``validation_loss_curve_``).
    training_accuracy_curve_, training_auc_curve_ : list of float
        Accuracy and ROC AUC (one-vs-rest macro for several classes) on the training
        set after each iteration.
    validation_accuracy_curve_, validation_auc_curve_, validation_loss_curve_ : list of float or None
        The same on the validation data, None without it.
    n_iter_ : int
        Iterations run: ``pretrain_iter + (number of stages)·prune_iter`` (with random
        stopping, the epochs begun before step ``R``; a pmf longer than the schedule
        adds epochs at the final sparsity).
    stop_reason_ : str
        "max_iter" (the schedule ran to its end), "path_stopped" (``"auto"``: the
        path ended early), "diverged", "interrupted" or "random_stop".
    pruning_path_ : dict of str to ndarray or None
        ``n_connections="auto"``: one entry per point of the path (the dense network
        at the end of pretraining, then each budget's network at the end of its
        stage): ``iteration`` (1-based), ``n_connections`` (input connections),
        ``n_features``, ``validation_score`` and ``training_score`` (accuracy) and
        ``selected`` (True for the network returned; none after a random stop,
        divergence or interruption). None for a dict of ``n_connections``.
    grad_norm_curve_ : list of float or None
        Per optimizer step, the minibatch gradient norm (``record_grad_norm``).
    stopping_iteration_ : int or None
        ``R`` with random stopping, else None.
    n_features_in_ : int
    feature_names_in_ : ndarray of str

    See Also
    --------
    skconvex.datasets.make_xor : The XOR data of the paper.
    sklearn.feature_selection.SelectFromModel : Selection by a fitted model's weights.

    Examples
    --------
    With its defaults, CPNA finds the 2 features of an XOR among 32:

    >>> from skconvex import CPNAClassifier
    >>> from skconvex.datasets import make_xor
    >>> X, y, informative = make_xor(
    ...     600, n_features=32, n_informative=2, random_state=0, return_informative=True
    ... )
    >>> selector = CPNAClassifier(random_state=0).fit(X, y)
    >>> selector.get_support(indices=True).tolist() == informative.tolist()
    True
    >>> selector.pruning_path_["n_features"].tolist()
    [32, 16, 8, 4, 2, 1]
    >>> selector.pruning_path_["selected"].tolist()
    [False, False, False, False, True, False]

    The paper's CPNA(all), with targets for both layers:

    >>> X, y, informative = make_xor(
    ...     1000, n_features=6, n_informative=2, random_state=0, return_informative=True
    ... )
    >>> clf = CPNAClassifier(
    ...     hidden_layer_sizes=(64,), n_connections={"hidden": 8, "input": 8},
    ...     pretrain_iter=40, prune_iter=40, batch_size=100, random_state=0,
    ... ).fit(X, y)
    >>> clf.n_connections_
    {'input': 8, 'hidden': 8}
    >>> clf.get_support(indices=True).tolist() == informative.tolist()
    True
    >>> clf.transform(X).shape
    (1000, 2)
    """

    criterion = "cross_entropy"  # softmax outputs, the paper's loss; not a parameter
    _fixed_budget = True
    @property
    def partial_fit(self):
        """Not offered: accessing it raises an AttributeError that says why."""
        raise AttributeError(
            "CPNAClassifier has no partial_fit: CPNA's schedule is counted in passes over "
            "one training set (pretrain_iter "
            "dense passes, then prune_iter passes per pruning stage, each pruning step "
            "sized by the annealing schedule for that pass), and its monitor scores that "
            "set after every pass; a schedule over a stream of different chunks is not "
            "defined by the paper and not implemented. Use fit (on a subsample if the data "
            "do not fit in memory)."
        )

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "n_connections": [dict, None, StrOptions({"auto"})],
        "prune": [StrOptions(set(PRUNE_MODES))],
        "prune_layers": [StrOptions({"auto", "all"}), str, Integral, list, tuple],
        "normalize": ["boolean"],
        "pretrain_iter": [Interval(Integral, 0, None, closed="left")],
        "prune_iter": [Interval(Integral, 1, None, closed="left")],
        "annealing_rate": [Interval(Real, 0, None, closed="neither")],
        "initial_masks": [dict, None],
        "init": [StrOptions({"auto", "glorot", "torch", "paper"})],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither"), None, StrOptions({"auto"})],
        **{
            key: NeuralNetMixin._common_constraints[key]
            for key in (
                "solver", "alpha", "batch_size", "learning_rate_init", "momentum",
                "nesterovs_momentum", "beta_1", "beta_2", "epsilon", "shuffle",
                "random_state", "verbose", "device", "dtype", "stopping",
                "record_grad_norm",
            )
        },
    }

    def __init__(
        self,
        hidden_layer_sizes=(256,),
        n_connections="auto",
        prune="connections",
        prune_layers="auto",
        normalize=True,
        pretrain_iter=100,
        prune_iter=100,
        annealing_rate=100.0,
        initial_masks=None,
        init="auto",
        solver="adam",
        alpha=1e-3,
        batch_size="auto",
        learning_rate_init=1e-3,
        momentum=0.9,
        nesterovs_momentum=True,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        shuffle=True,
        validation_fraction="auto",
        random_state=None,
        verbose=0,
        device="cpu",
        dtype="float32",
        stopping="convergence",
        record_grad_norm=False,
    ):
        _store_parameters(self, locals())

    @_fit_context(prefer_skip_nested_validation=True)
    @atomic_fit
    def fit(self, X, y, sample_weight=None, X_val=None, y_val=None, sample_weight_val=None):
        """Train, prune and train the sparse network on (X, y).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Labels of any kind; two or more classes.
        sample_weight : array-like of shape (n_samples,), default=None
        X_val, y_val : array-like, default=None
            Validation data whose accuracy, AUC and loss are recorded at every
            iteration (instead of a ``validation_fraction`` hold-out).
        sample_weight_val : array-like, default=None

        Returns
        -------
        self : CPNAClassifier
        """
        sizes = np.atleast_1d(self.hidden_layer_sizes)
        if sizes.size == 0:
            raise ValueError("hidden_layer_sizes must name at least one hidden layer.")
        self._refit_stages = None
        self._fit(X, y, sample_weight, X_val, y_val, sample_weight_val)
        path = getattr(self, "pruning_path_", None)
        if path is None or X_val is not None or not self._walk_path or not path["selected"].any():
            return self
        # The budget was chosen on rows held out of training: walk the path again on
        # every row, down to that budget (GridSearchCV's refit).
        self._refit_stages = int(np.flatnonzero(path["selected"])[0])
        try:
            self._fit(X, y, sample_weight)
        finally:
            self._refit_stages = None
        self.pruning_path_ = path
        return self

    # ----------------------------------------------------------- _fit hooks
    def _module_arguments(self, n_features: int, n_outputs: int) -> dict:
        params = dict(
            hidden_layer_sizes=_layer_sizes(self.hidden_layer_sizes),
            activation="relu",  # normalization needs a positively homogeneous unit
            output_activation="identity",
            init=self.init,
        )
        return dict(module="mlp", n_features=n_features, n_outputs=n_outputs, params=params)

    def _holdout_fraction(self):
        fraction = self.validation_fraction
        return None if fraction is None or isinstance(fraction, str) else fraction

    def _is_auto(self) -> bool:
        return isinstance(self.n_connections, str) and self.n_connections == "auto"

    def _prepare_data(self, X, y, sample_weight, X_val, y_val, sample_weight_val, reset,
                      incremental, classes):
        """The base class's data; with ``n_connections="auto"`` and no validation data,
        a hold-out chosen by a hash of each row (see :func:`_row_hash_split`)."""
        data = super()._prepare_data(
            X, y, sample_weight, X_val, y_val, sample_weight_val, reset, incremental, classes
        )
        self._walk_path = self._is_auto() and self._refit_stages is None
        if not self._walk_path or data.validation is not None:
            return data
        if self.validation_fraction is None:
            raise ValueError(
                "n_connections='auto' chooses the input budget on validation data: pass "
                "X_val and y_val, or a validation_fraction ('auto' holds out "
                f"{AUTO_VALIDATION_FRACTION:.0%} of the rows)."
            )
        held = _row_hash_split(data.X, AUTO_VALIDATION_FRACTION)
        weight = np.ones(len(held)) if data.sample_weight is None else data.sample_weight
        if weight[held].sum() < AUTO_MIN_VALIDATION or weight[~held].sum() < AUTO_MIN_VALIDATION:
            warnings.warn(
                f"n_connections='auto' needs at least {AUTO_MIN_VALIDATION} held-out and "
                f"{AUTO_MIN_VALIDATION} training rows ({AUTO_VALIDATION_FRACTION:.0%} of "
                f"the rows are held out; got {weight[held].sum():g} of {weight.sum():g}): "
                "the dense network is kept, no input connection is pruned.",
                UserWarning,
            )
            self._walk_path = False
            return data
        sw = data.sample_weight
        data.validation = (data.X[held], data.Y[held], None if sw is None else sw[held])
        data.X, data.Y = data.X[~held], data.Y[~held]
        data.sample_weight = None if sw is None else sw[~held]
        n_samples = data.X.shape[0]
        batch_size = min(200, n_samples) if self.batch_size == "auto" else self.batch_size
        data.batch_size = max(1, min(batch_size, n_samples))
        return data

    def _init_module(self, module) -> None:
        masks.add_masks(module)
        if self.initial_masks:
            known = masks.get_masks(module)
            unknown = sorted(set(self.initial_masks) - set(known))
            if unknown:
                raise ValueError(
                    f"initial_masks names {unknown}, which are not weights of this network; "
                    f"expected names among {sorted(known)}."
                )
            device = next(module.parameters()).device
            masks.prune_(
                module,
                {
                    name: torch.as_tensor(np.asarray(m, dtype=bool), device=device)
                    for name, m in self.initial_masks.items()
                },
            )
            fold_constant_units_(module)
            prune_dead_units_(module)

    def _targets(self, n_layers: int) -> dict[int, int]:
        """``n_connections`` as {layer index: count}."""
        spec = _DEFAULT_CONNECTIONS if self.n_connections is None else self.n_connections
        targets: dict[int, int] = {}
        for key, value in spec.items():
            index = _layer_index(key, n_layers)
            if index in targets:
                raise ValueError(f"n_connections names layer {key!r} twice.")
            layer = self.module_.linears[index]
            full = layer.in_features if self.prune == "nodes" else layer.weight.numel()
            if isinstance(value, Integral) and not isinstance(value, bool) and value >= 1:
                targets[index] = int(value)
                if value >= full:
                    warnings.warn(
                        f"n_connections[{key!r}]={value} is not below the layer's size "
                        f"({full} {'units' if self.prune == 'nodes' else 'connections'}): "
                        "that layer is not pruned.",
                        UserWarning,
                    )
            elif isinstance(value, Real) and 0 < value < 1:
                targets[index] = max(1, int(round(float(value) * full)))
            else:
                raise ValueError(
                    f"n_connections[{key!r}] must be an int ≥ 1 or a float in (0, 1), got {value!r}."
                )
        return targets

    def _stages(self, targets: dict[int, int], n_layers: int) -> list[list[int]]:
        """``prune_layers`` as a list of stages of layer indices."""
        spec = self.prune_layers
        if isinstance(spec, str) and spec == "auto":
            stages = [[i] for i in sorted(targets, reverse=True)]
        elif isinstance(spec, str) and spec == "all":
            stages = [sorted(targets, reverse=True)] if targets else []
        elif isinstance(spec, (str, Integral)):
            stages = [[_layer_index(spec, n_layers)]]
        else:
            stages = [
                [_layer_index(k, n_layers) for k in (item if isinstance(item, (list, tuple)) else [item])]
                for item in spec
            ]
        named = [i for stage in stages for i in stage]
        if len(named) != len(set(named)):
            raise ValueError(f"prune_layers={spec!r} names a layer more than once.")
        missing = [_layer_name(i, n_layers) for i in named if i not in targets]
        if missing:
            raise ValueError(
                f"prune_layers={spec!r} names {missing}, which have no target in n_connections."
            )
        return [stage for stage in stages if stage]

    def _make_strategy(self, resume: bool = False):
        n_layers = len(self.module_.linears)
        if self._is_auto():  # one stage per budget of the path, on the input layer
            budgets = auto_budgets(self._input_size()) if self._walk_path else []
            if self._refit_stages is not None:
                budgets = auto_budgets(self._input_size())[: self._refit_stages]
            stages = [[(0, budget)] for budget in budgets]
        else:
            targets = self._targets(n_layers)
            stages = [[(i, targets[i]) for i in stage] for stage in self._stages(targets, n_layers)]
        if self.pretrain_iter == 0 and not stages:
            raise ValueError(
                "Nothing to train: pretrain_iter=0 and no pruning stage (n_connections is empty)."
            )
        return ConnectionPruning(
            stages,
            pretrain_iter=self.pretrain_iter,
            prune_iter=self.prune_iter,
            annealing_rate=self.annealing_rate,
            normalize=self.normalize,
            prune="nodes" if self._is_auto() else self.prune,  # "auto" prunes features
        )

    def _max_epochs(self, strategy) -> int:
        return strategy.n_iter  # the schedule's length, not a cap

    def _monitors(self, training, validation) -> list:
        """Accuracy, AUC and loss after every iteration (validation accuracy scores);
        with ``n_connections="auto"``, the path's recorder after the monitor."""
        monitors = [_Monitor(training, validation)]
        self._path_recorder = None
        if self._is_auto() and self._refit_stages is None:
            n_stages = len(auto_budgets(self._input_size())) if self._walk_path else 0
            ends = [self.pretrain_iter + k * self.prune_iter - 1 for k in range(n_stages + 1)]
            n_validation = 0.0 if validation is None else (
                len(validation[0]) if validation[2] is None else float(validation[2].sum())
            )
            self._path_recorder = _PathRecorder([e for e in ends if e >= 0], n_validation)
            monitors.append(self._path_recorder)
        return monitors

    def _input_size(self) -> int:
        return self.module_.linears[0].in_features

    def _record_history(self, history, strategy, reset: bool) -> None:
        super()._record_history(history, strategy, reset)
        module = self.module_
        n_layers = len(module.linears)
        names = [_layer_name(i, n_layers) for i in range(n_layers)]
        self.connection_curve_ = {
            names[i]: list(curve[: history.n_iter])
            for i, curve in sorted(strategy.connection_curve.items())
        }
        # The monitor runs after the loop's divergence test: a diverged or interrupted
        # fit can leave it one entry short or long.
        n = history.n_iter
        log = {
            key: (values + [float("nan")] * n)[:n] if values else values
            for key, values in (
                (key, history.records.get(key, [])) for key in _Monitor.keys()
            )
        }
        self.training_accuracy_curve_ = log["train_acc"]
        self.training_auc_curve_ = log["train_auc"]
        self.training_loss_curve_ = log["train_loss"]
        validated = bool(log["val_acc"])
        self.validation_accuracy_curve_ = log["val_acc"] if validated else None
        self.validation_auc_curve_ = log["val_auc"] if validated else None
        self.validation_loss_curve_ = log["val_loss"] if validated else None
        self.masks_ = {n: m.detach().cpu().numpy().copy() for n, m in masks.get_masks(module).items()}
        self.n_connections_ = {
            names[i]: int(layer.weight_mask.sum()) for i, layer in enumerate(module.linears)
        }
        self.n_active_hidden_ = [int(a.sum()) for a in active_units(module)]
        self.support_ = input_support(module).cpu().numpy().copy()
        self.sparsity_ = masks.sparsity(module)
        self.pruning_stages_ = [
            {"layers": layers, "first_iteration": self.pretrain_iter + k * self.prune_iter}
            for k, layers in enumerate(
                [[names[i] for i, _ in stage] for stage in strategy.stages]
            )
        ]
        if self.stop_reason_ == "random_stop":  # only the stages the drawn R reached
            self.pruning_stages_ = [
                stage for stage in self.pruning_stages_ if stage["first_iteration"] < self.n_iter_
            ]
        recorder = self._path_recorder
        self.pruning_path_ = recorder.path() if recorder is not None else None
        if not self.support_.any():
            warnings.warn(
                "CPNA pruned every input connection: the network predicts a constant. "
                "Keep more connections, or prune the hidden→output layer first "
                "(prune_layers='auto').",
                UserWarning,
            )

    # ----------------------------------------------------------- selection
    def _get_support_mask(self) -> np.ndarray:
        check_is_fitted(self, "support_")
        return self.support_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        tags.target_tags.required = True
        return tags


class _PathRecorder(Callback):
    """``n_connections="auto"``: after the epochs ``ends`` (the end of pretraining and of
    each budget's stage) record the input connections, features and accuracies and keep
    a copy of the network. At the end, restore the sparsest network whose validation
    accuracy is within one standard error of the best (``sqrt(a(1 − a)/n)``, ``n`` the
    weighted number of validation rows); the walk stops early once
    :data:`AUTO_PATIENCE` budgets in a row score below that bound."""

    _KEYS = ("iteration", "n_connections", "n_features", "validation_score", "training_score")

    def __init__(self, ends: list[int], n_validation: float):
        self.ends = set(ends)
        self.n_validation = max(float(n_validation), 1.0)
        self.rows: list[dict] = []
        self.states: list[dict] = []
        self.selected = None

    def threshold(self) -> float:
        """The best validation accuracy minus one standard error (−inf before any)."""
        scores = [r["validation_score"] for r in self.rows if np.isfinite(r["validation_score"])]
        if not scores:
            return -np.inf
        best = max(scores)
        return best - np.sqrt(best * (1 - best) / self.n_validation)

    def on_epoch_end(self, ctx) -> None:
        if ctx.epoch not in self.ends or ctx.partial:
            return None
        records = ctx.history.records
        self.rows.append(dict(
            iteration=ctx.epoch + 1,
            n_connections=int(ctx.module.linears[0].weight_mask.sum()),
            n_features=int(input_support(ctx.module).sum()),
            validation_score=records["val_acc"][-1] if "val_acc" in records else float("nan"),
            training_score=records["train_acc"][-1],
        ))
        self.states.append(snapshot(ctx.module))
        recent = [r["validation_score"] for r in self.rows[-AUTO_PATIENCE:]]
        below = [not (score >= self.threshold()) for score in recent]  # NaN counts as below
        if len(self.rows) > AUTO_PATIENCE and all(below):
            return "path_stopped"
        return None

    def on_train_end(self, ctx) -> None:
        bound = self.threshold()
        good = [i for i, r in enumerate(self.rows) if r["validation_score"] >= bound]
        good = good or [0] * (len(self.rows) == 1)  # no validation data: the dense net
        if good and ctx.history.stop_reason in ("max_iter", "path_stopped"):
            self.selected = good[-1]
            restore(ctx.module, self.states[self.selected])
        self.states = []  # a random stop, divergence or Ctrl-C: the loop's network

    def path(self) -> dict[str, np.ndarray]:
        path = {k: np.array([row[k] for row in self.rows]) for k in self._KEYS}
        path["selected"] = np.arange(len(self.rows)) == (-1 if self.selected is None else self.selected)
        return path


class _Monitor(ValidationScore):
    """CPNA's monitor: accuracy, AUC and loss of the training (and validation) data
    after every iteration, in ``History.records``; the score is the validation
    accuracy (else the training accuracy)."""

    def __init__(self, training, validation):
        sets = [("train", training)] + ([("val", validation)] if validation is not None else [])
        self.prepared = [
            (prefix, X, Y.cpu().numpy(), None if sw is None else sw.cpu().numpy())
            for prefix, (X, Y, sw) in sets
        ]
        self.validated = validation is not None

    @staticmethod
    def keys() -> list[str]:
        return [f"{p}_{m}" for p in ("train", "val") for m in ("acc", "auc", "loss")]

    def on_epoch_end(self, ctx) -> None:
        ctx.module.eval()
        for prefix, X, y, w in self.prepared:
            for metric, value in _metrics(ctx.module, X, y, w).items():
                ctx.history.record(f"{prefix}_{metric}", value)
        ctx.module.train()
        score = ctx.history.records["val_acc" if self.validated else "train_acc"][-1]
        ctx.validation_score = score if np.isfinite(score) else -np.inf
        ctx.history.validation_scores.append(ctx.validation_score)


def _metrics(module, X, y, w) -> dict[str, float]:
    """Accuracy, AUC and mean negative log-likelihood (NaN when the outputs overflow:
    finite weights, overflowing outputs; the loop's divergence guard decides)."""
    logits = _outputs_in_chunks(module, X).to(torch.float64)
    if not bool(torch.isfinite(logits).all()):
        return {"acc": float("nan"), "auc": float("nan"), "loss": float("nan")}
    log_proba = torch.log_softmax(logits, dim=1).cpu().numpy()
    proba = np.exp(log_proba)
    hit = (proba.argmax(axis=1) == y).astype(np.float64)
    nll = -log_proba[np.arange(len(y)), y]
    return {
        "acc": float(np.average(hit, weights=w)),
        "auc": _auc(y, proba, w),
        "loss": float(np.average(nll, weights=w)),
    }

"""StatisticalPruning and GradualStatisticalPruning: pruning as a post-fit step.

Lo et al., section IV: Algorithm 2 (SP) prunes every weight whose z-statistic is
below a critical value z_c and retrains the rest for R epochs; Algorithm 3 (GSP)
raises z_c step by step and keeps the weights with the best validation score.
"""

from __future__ import annotations

import copy
import hashlib
import math
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, MetaEstimatorMixin, _fit_context, clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import _safe_indexing, check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted
from sklearn_compat.utils._tags import get_tags

from .._base import NeuralNetMixin, _store_parameters, make_optimizer_factory
from .._fit_guard import atomic_fit
from ..nn import masks
from ..training.loop import restore, snapshot
from .zstatistics import VARIANCES, z_statistics

__all__ = ["GradualStatisticalPruning", "StatisticalPruning"]


def _estimator_has(attr: str):
    """The fitted ``estimator_`` if present, else ``estimator``, has ``attr``."""

    def check(self) -> bool:
        inner = getattr(self, "estimator_", self.estimator)
        getattr(inner, attr)  # raises AttributeError, which available_if turns into absence
        return True

    return check


#: Fewest distinct rows the hold-out of GradualStatisticalPruning must get; below it,
#: GSP warns and scores on the training data.
MIN_VALIDATION_ROWS = 2


def _row_keys(X: np.ndarray, Y: np.ndarray, salt: int) -> np.ndarray:
    """A salted 64-bit hash of every row's bytes (features and encoded target)."""
    X = np.ascontiguousarray(X).reshape(len(X), -1)
    Y = np.ascontiguousarray(Y).reshape(len(Y), -1)
    key = salt.to_bytes(8, "little")
    return np.array(
        [int.from_bytes(hashlib.blake2b(x.tobytes() + t.tobytes(), digest_size=8, key=key).digest(), "little")
         for x, t in zip(X, Y)],
        dtype=np.uint64,
    )


def _take(a, rows):
    """Rows of a DataFrame or Series (names kept), else of the array ``a`` reads as."""
    return _safe_indexing(a, rows) if hasattr(a, "iloc") else np.asarray(a)[rows]


def _hash_holdout(X, Y, sample_weight, fraction: float, salt: int, stratify: bool):
    """Which rows GSP holds out: a boolean mask, or None when too few would be.

    Over the distinct rows that carry weight, per class (``stratify``) or over all
    rows: rank them by a salted hash of their contents and hold out the first
    ``ceil(fraction · n)``, keeping at least one of each class for training. Copies
    of a row share its hash, so they fall on the same side: the split does not
    depend on the order of the rows, repeating a row is the same as weighting it, and
    no duplicate of a training row is scored as validation.
    """
    keys = _row_keys(X, Y, salt)
    live = np.ones(len(keys), bool) if sample_weight is None else sample_weight > 0
    groups = Y if stratify else np.zeros(len(keys), dtype=np.int64)
    held = np.zeros(len(keys), bool)
    n_held = 0
    for group in np.unique(groups[live]):
        in_group = groups == group
        distinct = np.unique(keys[live & in_group])  # sorted by hash: a random order
        n_val = min(math.ceil(round(fraction * len(distinct), 9)), len(distinct) - 1)
        held |= in_group & np.isin(keys, distinct[:n_val])
        n_held += n_val
    return held if n_held >= MIN_VALIDATION_ROWS else None


class _PruningMetaEstimator(MetaEstimatorMixin, BaseEstimator):
    """What SP and GSP share: the inner fit, the z-test, retraining, delegation."""

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "predict"])],
        "retrain_epochs": [Interval(Integral, 0, None, closed="left")],
        "retrain_solver": [StrOptions({"sgd", "adam"})],
        "retrain_learning_rate": [Interval(Real, 0, None, closed="neither")],
        "retrain_momentum": [Interval(Real, 0, 1, closed="both")],
        "variance": [StrOptions(set(VARIANCES))],
        "prune_bias": ["boolean"],
        "prefit": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    # --------------------------------------------------------------- fitting
    def _new_estimator(self, rng) -> NeuralNetMixin:
        """The estimator to prune: a clone (or, with ``prefit``, a copy of the fitted one).

        A clone whose ``random_state`` is None gets one drawn from ``rng``, so that a
        meta-estimator with a fixed ``random_state`` is deterministic as a whole.
        """
        if not isinstance(self.estimator, NeuralNetMixin):
            raise TypeError(
                f"{type(self).__name__} prunes skconvex estimators (a torch module in "
                f"`module_`); got {type(self.estimator).__name__}."
            )
        if self.prefit:
            check_is_fitted(self.estimator)
            # The user's model stays untouched: prune a copy (SelectFromModel does too).
            return copy.deepcopy(self.estimator)
        estimator = clone(self.estimator)
        if estimator.get_params().get("random_state", 0) is None:
            estimator.set_params(random_state=int(rng.randint(2**31 - 1)))
        return estimator

    def _validate(self, estimator, X, y, sample_weight):
        """scikit-learn's validation of X, y and sample_weight, before anything else.

        Returns the validated rows, the labels encoded as the estimator encodes them
        and the weights (None when uniform). Raises the messages of the estimator's
        own ``fit`` (NaN or inf, ``y=None``, complex data, one class, a continuous
        target for a classifier, a feature count that differs from a prefit model's).
        """
        reset = not self.prefit
        X, y, sample_weight, _ = estimator._validate_training_data(X, y, sample_weight, reset)
        Y, _ = estimator._encode_targets(y, sample_weight, reset=reset)
        return X, Y, sample_weight

    def _fit_estimator(self, estimator, X, y, sample_weight) -> NeuralNetMixin:
        if not self.prefit:
            fit_params = {} if sample_weight is None else {"sample_weight": sample_weight}
            estimator.fit(X, y, **fit_params)
        self.estimator_ = estimator
        return estimator

    def _prepare(self, estimator, X, y, sample_weight):
        """Training tensors, the P(w) view of the outputs, masks on the module."""
        Xt, Yt, swt = estimator._training_tensors(X, y, sample_weight)
        transform, T = estimator._regression_view(Yt)
        masks.add_masks(estimator.module_, include_bias=self.prune_bias)
        return Xt, Yt, swt, transform, T

    def _prune(self, estimator, z_crit: float, data) -> None:
        """One pruning step of Algorithm 2: mask every entry with z < z_crit."""
        Xt, _, swt, transform, T = data
        z = z_statistics(
            estimator.module_, Xt, T, variance=self.variance, transform=transform,
            sample_weight=swt, include_bias=self.prune_bias,
        )
        masks.prune_(estimator.module_, {name: values >= z_crit for name, values in z.items()})

    def _retrain(self, estimator, data, seed: int, validation_score=None):
        Xt, Yt, swt, _, _ = data
        factory = make_optimizer_factory(
            self.retrain_solver, self.retrain_learning_rate, momentum=self.retrain_momentum
        )
        history = estimator._retrain(
            Xt, Yt, swt, epochs=self.retrain_epochs, optimizer_factory=factory,
            validation_score=validation_score, restore_best=validation_score is not None,
            seed=seed,
        )
        if history.stop_reason == "diverged":
            warnings.warn(
                f"Retraining diverged (non-finite loss or weights) at epoch {history.n_iter}; "
                "the best retrained weights were kept. Lower retrain_learning_rate.",
                ConvergenceWarning,
            )
        return history

    def _record_masks(self) -> None:
        module = self.estimator_.module_
        self.masks_ = {n: m.detach().cpu().numpy().copy() for n, m in masks.get_masks(module).items()}
        self.sparsity_ = masks.sparsity(module)
        self.layer_sparsity_ = masks.layer_sparsity(module)

    @staticmethod
    def _path(rows: list[dict]) -> dict[str, np.ndarray]:
        keys = ("z_crit", "sparsity", "validation_score", "training_loss", "accepted")
        return {k: np.array([row[k] for row in rows]) for k in keys}

    # ------------------------------------------------------------ delegation
    @property
    def classes_(self):
        """Class labels of the pruned classifier."""
        return self.estimator_.classes_

    @property
    def n_features_in_(self) -> int:
        """Number of features seen during ``fit``."""
        return self.estimator_.n_features_in_

    @property
    def feature_names_in_(self):
        """Feature names seen during ``fit`` (only when X had string column names)."""
        return self.estimator_.feature_names_in_

    @available_if(_estimator_has("predict"))
    def predict(self, X):
        """Predictions of the pruned estimator."""
        check_is_fitted(self)
        return self.estimator_.predict(X)

    @available_if(_estimator_has("predict_proba"))
    def predict_proba(self, X):
        """Class probabilities of the pruned classifier."""
        check_is_fitted(self)
        return self.estimator_.predict_proba(X)

    @available_if(_estimator_has("predict_log_proba"))
    def predict_log_proba(self, X):
        """Log class probabilities of the pruned classifier."""
        check_is_fitted(self)
        return self.estimator_.predict_log_proba(X)

    @available_if(_estimator_has("decision_function"))
    def decision_function(self, X):
        """Decision function of the pruned classifier."""
        check_is_fitted(self)
        return self.estimator_.decision_function(X)

    @available_if(_estimator_has("score"))
    def score(self, X, y, sample_weight=None):
        """The pruned estimator's ``score`` (accuracy or R²)."""
        check_is_fitted(self)
        return self.estimator_.score(X, y, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = get_tags(self.estimator)
        tags.estimator_type = inner.estimator_type
        tags.classifier_tags = inner.classifier_tags
        tags.regressor_tags = inner.regressor_tags
        tags.target_tags = inner.target_tags
        tags.input_tags = inner.input_tags
        return tags


class StatisticalPruning(_PruningMetaEstimator):
    """Statistical pruning (SP, Algorithm 2 of Lo et al.) as a post-fit step.

    Fits the inner estimator (unless ``prefit``), computes for every weight of its
    Linear and Conv layers the z-statistic ``z_i = |w_i| / s_i`` with
    ``s_i = sqrt(P(w) / (∂P/∂w_i)²)``, P the mean squared error of the outputs
    against the encoded targets over the training data (eqs. 23–26), prunes the
    weights with ``z_i < z_crit`` and retrains the rest for ``retrain_epochs``
    epochs. Pruned weights are masked (:mod:`skconvex.nn.masks`): exactly zero from
    then on, through retraining, ``warm_start`` refits and pickling.

    Parameters
    ----------
    estimator : skconvex estimator
        A :class:`~skconvex.GDCClassifier`, :class:`~skconvex.GDCRegressor` or any
        other skconvex network estimator, with any backend (MLP, LeNet-5, a user's
        module). Cloned and fitted by ``fit`` unless ``prefit=True``.
    z_crit : float, default=1.5
        Critical value z_c: weights with ``z < z_crit`` are pruned (z_c = 1.5 is a
        two-sided significance level of 13.4 %, z_c = 2 of 4.55 %). Every weight is
        tested on its own and all insignificant ones go at once, so in a network
        with many interchangeable units a high z_c removes nearly everything: the
        default ``GDCClassifier()`` (100 hidden units) on scikit-learn's two-class
        blobs lost 99.5 % of its first layer at z_c = 2 and fell to chance (0.50
        training accuracy), against 92 % pruned and 0.97 at z_c = 1.5.
        :class:`GradualStatisticalPruning` raises z_c step by step instead.
    retrain_epochs : int, default=10
        R, epochs of retraining after pruning (0: prune only).
    retrain_solver : {"sgd", "adam"}, default="sgd"
        Optimizer of the retraining; the paper uses SGD with momentum.
    retrain_learning_rate : float, default=1e-3
        Fixed learning rate of the retraining, no decay. The paper's 1e-5 is a
        per-sample SGD step; the retraining here takes steps on batch means (of the
        estimator's batch size, 200 rows by default), so the same distance per epoch
        needs about 200 × 1e-5 = 2e-3. At 1e-5 the retraining barely moves the weights.
    retrain_momentum : float, default=0.5
        Momentum of the SGD retraining (the paper's 0.5).
    variance : {"gauss_newton", "paper"}, default="gauss_newton"
        How s_i is estimated. ``"gauss_newton"``: the diagonal Gauss–Newton
        ``s_i² = (P/m) / Σ_k Σ_o (∂f_o(x_k)/∂w_i)²`` of nonlinear least squares, the
        Wald statistic (see :mod:`skconvex.pruning.zstatistics`). ``"paper"``: the
        paper's ``s_i² = P / (∂P/∂w_i)²``, so ``z_i = |w_i|·|∂P/∂w_i| / √P``, which is
        proportional to the gradient and therefore about 0 for every weight at a
        fitted minimum (on the MNIST MLP its quantiles run from 1e-12 to 1e-4): any
        z_c of the paper's range prunes every weight, and GSP accepts no step. With
        ``"gauss_newton"`` GSP pruned 80 % of that MLP and lowered its test error
        from 5.42 % to 3.60 % (magnitude pruning at the same sparsity: 3.89 %).
    prune_bias : bool, default=False
        Also test and prune the biases of Linear and Conv layers.
    prefit : bool, default=False
        Prune a copy of the given fitted ``estimator`` without refitting it; the
        given estimator is left untouched.
    random_state : int, RandomState instance or None, default=None
        Seeds the retraining (shuffling, dropout) and, when the estimator's own
        ``random_state`` is None, the estimator's fit: a fixed value makes the whole
        meta-estimator deterministic.
    verbose : int, default=0
        Unused; kept for symmetry with :class:`GradualStatisticalPruning`.

    Attributes
    ----------
    estimator_ : estimator
        The fitted, pruned and retrained estimator; predictions come from it.
    masks_ : dict of str to ndarray of bool
        Per weight tensor, True where the connection is kept.
    sparsity_ : float
        Share of pruned connections (structural zeros such as LeNet-5's C3 table
        excluded).
    layer_sparsity_ : dict of str to float
        Share of pruned connections per weight tensor.
    pruning_path_ : dict of str to ndarray
        One entry per pruning step: ``z_crit``, ``sparsity``, ``validation_score``
        (NaN: SP uses no validation data), ``training_loss`` (mean training error
        after retraining) and ``accepted``.
    best_z_ : float
        The z_c used (``z_crit``).
    classes_ : ndarray
        Class labels (classifiers).
    n_features_in_ : int
        Number of features seen during ``fit``.

    See Also
    --------
    GradualStatisticalPruning : searches z_c on validation data (Algorithm 3).

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.preprocessing import minmax_scale
    >>> from skconvex import GDCClassifier, StatisticalPruning
    >>> X, y = load_iris(return_X_y=True)
    >>> X = minmax_scale(X, (-1, 1))
    >>> net = GDCClassifier(hidden_layer_sizes=(16,), max_iter=200, learning_rate_init=0.01,
    ...                     random_state=0)
    >>> sp = StatisticalPruning(net, random_state=0).fit(X, y)
    >>> round(sp.sparsity_, 2), round(sp.score(X, y), 2)
    (0.32, 0.98)
    >>> sp.predict(X[:3]).tolist()
    [0, 0, 0]
    """

    _parameter_constraints: dict = {
        **_PruningMetaEstimator._parameter_constraints,
        "z_crit": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        estimator,
        z_crit: float = 1.5,
        retrain_epochs: int = 10,
        *,
        retrain_solver: str = "sgd",
        retrain_learning_rate: float = 1e-3,
        retrain_momentum: float = 0.5,
        variance: str = "gauss_newton",
        prune_bias: bool = False,
        prefit: bool = False,
        random_state=None,
        verbose: int = 0,
    ) -> None:
        _store_parameters(self, locals())

    @_fit_context(prefer_skip_nested_validation=False)
    @atomic_fit
    def fit(self, X, y, sample_weight=None):
        """Fit the estimator (unless ``prefit``), prune at ``z_crit``, retrain.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or images
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets.
        sample_weight : array-like of shape (n_samples,), optional
            Passed to the estimator's ``fit``; also weights P(w) and the retraining.

        Returns
        -------
        self
        """
        rng = check_random_state(self.random_state)
        estimator = self._fit_estimator(self._new_estimator(rng), X, y, sample_weight)
        data = self._prepare(estimator, X, y, sample_weight)
        self._prune(estimator, self.z_crit, data)
        loss = np.nan
        if self.retrain_epochs > 0:
            history = self._retrain(estimator, data, seed=int(rng.randint(2**31 - 1)))
            loss = history.mean_error[-1] if history.mean_error else np.nan
            if history.stop_reason == "interrupted":
                warnings.warn(
                    f"Retraining interrupted after {history.n_iter} epochs; the pruned "
                    "network was kept and the estimator is usable.",
                    UserWarning,
                )
        self._record_masks()
        self.best_z_ = float(self.z_crit)
        self.pruning_path_ = self._path(
            [dict(z_crit=self.best_z_, sparsity=self.sparsity_, validation_score=np.nan,
                  training_loss=loss, accepted=True)]
        )
        return self


class GradualStatisticalPruning(_PruningMetaEstimator):
    """Gradual statistical pruning (GSP, Algorithm 3 of Lo et al.).

    Starting from the fitted network ``w_old`` with validation score ``v_old``, for
    ``z_c = z_start, z_start + z_step, …, z_max``: prune ``w_old`` at z_c
    (:class:`StatisticalPruning`), retrain for ``retrain_epochs`` epochs and keep the
    epoch with the best validation score ``v_new``; if ``v_new > v_old`` the pruned
    network replaces ``w_old`` (``accept="not_worse"``: ``v_new >= v_old``). Stops
    after ``z_max`` or as soon as ``v_old`` reaches ``target_score`` (the paper's
    v_opt). The result is the best network seen. X and y are validated (scikit-learn's
    messages) before any hold-out is split off.

    Scores are the estimator's: accuracy for classifiers, R² for regressors, so
    higher is better (the paper states the same rule with validation errors).

    Parameters
    ----------
    estimator : skconvex estimator
        As for :class:`StatisticalPruning`.
    z_start, z_max, z_step : float, default=0.2, 3.0, 0.1
        The grid of critical values, ``z_max`` included (the paper's setting).
    retrain_epochs : int, default=10
        R, retraining epochs after each pruning step.
    target_score : float or None, default=None
        Stop once the best validation score reaches it (the paper's v_opt, e.g.
        0.992 accuracy for its 0.80 % error); None runs the whole grid.
    accept : {"better", "not_worse"}, default="better"
        When a candidate replaces the kept network: ``"better"``, strictly higher
        validation score (Algorithm 3); ``"not_worse"``, a score at least as high, so
        that pruning goes on while validation does not suffer (with accuracy on a
        small validation set, ties are frequent and "better" often never prunes).
    validation_fraction : float or None, default=0.1
        Share of the training data held out for the validation score when ``fit``
        gets no ``X_val``; None scores on the training data itself. The hold-out is
        a function of the data: the distinct rows (features and target) that carry
        weight are ranked by a hash of their contents salted with ``random_state``,
        and the first ``ceil(validation_fraction · n)`` of each class (of all rows
        for a regressor) are held out, leaving at least one row of each class for
        training. Copies of a row share its hash, so they land on the same side: the
        split does not depend on the order of the rows, a weight of k equals k
        copies of a row, and no copy of a training row is scored as validation.
        Small data: when fewer than 2 distinct rows would be held out (for example
        fewer than 11 distinct rows of a regressor at the default 0.1), a
        UserWarning says so and the training data are scored instead.
    retrain_solver, retrain_learning_rate, retrain_momentum, variance, prune_bias, prefit, random_state :
        As for :class:`StatisticalPruning`; ``random_state`` also salts the split.
    verbose : int, default=0
        Show a progress bar over the z_c grid.

    Attributes
    ----------
    estimator_ : estimator
        The fitted estimator holding the best pruned network.
    masks_, sparsity_, layer_sparsity_ :
        As for :class:`StatisticalPruning`, of the kept network.
    pruning_path_ : dict of str to ndarray
        One entry per z_c tried: ``z_crit``, ``sparsity`` and ``validation_score`` of
        the best retrained candidate, ``training_loss`` (its mean training error),
        ``accepted`` (whether it replaced the kept network).
    initial_validation_score_ : float
        Validation score of the unpruned network.
    best_validation_score_ : float
        Validation score of the kept network.
    best_z_ : float or None
        The z_c that produced the kept network; None if no pruning step improved
        the validation score (the network is the unpruned one).
    classes_ : ndarray
        Class labels (classifiers).
    n_features_in_ : int
        Number of features seen during ``fit``.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.preprocessing import minmax_scale
    >>> from skconvex import GDCClassifier, GradualStatisticalPruning
    >>> X, y = load_iris(return_X_y=True)
    >>> X = minmax_scale(X, (-1, 1))
    >>> net = GDCClassifier(hidden_layer_sizes=(16,), max_iter=200, learning_rate_init=0.01,
    ...                     random_state=0)
    >>> gsp = GradualStatisticalPruning(net, z_start=1.0, z_max=3.0, z_step=1.0,
    ...                                 retrain_epochs=2, accept="not_worse",
    ...                                 random_state=0).fit(X, y)
    >>> gsp.pruning_path_["z_crit"].tolist()
    [1.0, 2.0, 3.0]
    >>> gsp.pruning_path_["validation_score"].round(3).tolist()
    [1.0, 1.0, 0.933]
    >>> gsp.best_z_, round(gsp.sparsity_, 2)
    (2.0, 0.38)

    The unpruned network already scores 1.0 on its 15 held-out rows, so the default
    ``accept="better"`` would keep it; ``"not_worse"`` prunes while validation does
    not suffer.
    """

    _parameter_constraints: dict = {
        **_PruningMetaEstimator._parameter_constraints,
        "z_start": [Interval(Real, 0, None, closed="left")],
        "z_max": [Interval(Real, 0, None, closed="left")],
        "z_step": [Interval(Real, 0, None, closed="neither")],
        "target_score": [Real, None],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither"), None],
        "accept": [StrOptions({"better", "not_worse"})],
    }

    def __init__(
        self,
        estimator,
        z_start: float = 0.2,
        z_max: float = 3.0,
        z_step: float = 0.1,
        retrain_epochs: int = 10,
        target_score: float | None = None,
        validation_fraction: float | None = 0.1,
        *,
        accept: str = "better",
        retrain_solver: str = "sgd",
        retrain_learning_rate: float = 1e-3,
        retrain_momentum: float = 0.5,
        variance: str = "gauss_newton",
        prune_bias: bool = False,
        prefit: bool = False,
        random_state=None,
        verbose: int = 0,
    ) -> None:
        _store_parameters(self, locals())

    def z_grid(self) -> np.ndarray:
        """The critical values tried, ``z_start`` to ``z_max`` by ``z_step``."""
        n = int(np.floor((self.z_max - self.z_start) / self.z_step + 1e-9)) + 1
        return np.round(self.z_start + self.z_step * np.arange(max(n, 0)), 12)

    def _split(self, X, y, sample_weight, X_val, y_val, sample_weight_val, estimator, salt):
        """``(train, val)`` triples; ``val is train`` when scoring on the training data."""
        if (X_val is None) != (y_val is None):
            raise ValueError("Pass both X_val and y_val, or neither.")
        train = (X, y, sample_weight)
        if X_val is not None:
            return train, (X_val, y_val, sample_weight_val)
        if self.validation_fraction is None:
            return train, train
        Xc, Yc, swc = self._validate(estimator, X, y, sample_weight)
        stratify = get_tags(self.estimator).estimator_type == "classifier"
        held = _hash_holdout(Xc, Yc, swc, self.validation_fraction, salt, stratify)
        if held is None:
            warnings.warn(
                f"GradualStatisticalPruning: validation_fraction={self.validation_fraction} "
                f"of {len(Yc)} rows holds out fewer than {MIN_VALIDATION_ROWS} distinct rows; "
                "the validation score is computed on the training data (as with "
                "validation_fraction=None). Pass X_val and y_val, or more data.",
                UserWarning,
            )
            return train, train
        parts = []
        for rows in (np.flatnonzero(~held), np.flatnonzero(held)):
            sw = None if swc is None else swc[rows]
            parts.append((_take(X, rows), _take(y, rows), sw))
        return parts[0], parts[1]

    def _step(self, estimator, z_crit: float, data, score, seed: int):
        """Prune the kept network at ``z_crit`` and retrain: ``(v_new, loss, history)``."""
        self._prune(estimator, z_crit, data)
        if self.retrain_epochs == 0:
            return float(score(estimator.module_.eval())), np.nan, None
        history = self._retrain(estimator, data, seed, validation_score=score)
        best = max(history.best_epoch, 0)
        loss = history.mean_error[best] if history.mean_error else np.nan
        return history.best_score, loss, history

    def _search(self, estimator, data, score, rng, progress) -> list[dict]:
        """Algorithm 3 over the z_c grid; leaves the kept network in the module.

        Ctrl-C (or an interrupted retraining) ends the search with a warning; the best
        network so far is kept.
        """
        module = estimator.module_
        self.best_validation_score_, self.best_z_ = self.initial_validation_score_, None
        kept, rows = [snapshot(module)], []
        try:
            for z_crit in self.z_grid():
                if self.target_score is not None and self.best_validation_score_ >= self.target_score:
                    break
                restore(module, kept[0])
                seed = int(rng.randint(2**31 - 1))
                v_new, loss, history = self._step(estimator, float(z_crit), data, score, seed)
                rows.append(self._accept(module, float(z_crit), v_new, loss, kept))
                if progress is not None:
                    progress.update(1)
                    progress.set_postfix(z=f"{z_crit:.2f}", best=f"{self.best_validation_score_:.4g}")
                if history is not None and history.stop_reason == "interrupted":
                    raise KeyboardInterrupt
        except KeyboardInterrupt:
            warnings.warn(
                f"Pruning interrupted after {len(rows)} of {len(self.z_grid())} critical "
                "values; the best network so far was kept and the estimator is usable.",
                UserWarning,
            )
        restore(module, kept[0])
        return rows

    def _accept(self, module, z_crit: float, v_new: float, loss: float, kept: list) -> dict:
        """Algorithm 3's test; an accepted candidate becomes ``kept[0]``. The path row."""
        v_old = self.best_validation_score_
        accepted = bool(v_new > v_old if self.accept == "better" else v_new >= v_old)
        if accepted:
            kept[0], self.best_validation_score_, self.best_z_ = snapshot(module), float(v_new), z_crit
        return dict(z_crit=z_crit, sparsity=masks.sparsity(module), validation_score=float(v_new),
                    training_loss=float(loss), accepted=accepted)

    @_fit_context(prefer_skip_nested_validation=False)
    @atomic_fit
    def fit(self, X, y, sample_weight=None, X_val=None, y_val=None, sample_weight_val=None):
        """Fit the estimator (unless ``prefit``), then prune gradually (Algorithm 3).

        X and y are validated first (scikit-learn's messages), then split: with
        neither ``X_val`` nor ``validation_fraction=None``, a share of the distinct
        rows is held out by a salted hash of their contents (see the class
        docstring); too small a hold-out falls back, with a warning, to scoring on
        the training data.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or images
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets.
        sample_weight : array-like of shape (n_samples,), optional
            Passed to the estimator's ``fit``; also weights P(w), the retraining and
            the validation score.
        X_val, y_val : array-like, optional
            Validation data; when given, all of X is used for training.
        sample_weight_val : array-like, optional
            Weights of the validation score.

        Returns
        -------
        self
        """
        if not len(self.z_grid()):  # allowed (an unpruned baseline), but said
            warnings.warn(
                f"z_start={self.z_start!r} is above z_max={self.z_max!r}: no critical value "
                "to try, so nothing is pruned.",
                UserWarning,
            )
        rng = check_random_state(self.random_state)
        salt = int(rng.randint(2**31 - 1))
        estimator = self._new_estimator(rng)
        train, val = self._split(X, y, sample_weight, X_val, y_val, sample_weight_val, estimator, salt)
        self._fit_estimator(estimator, *train)
        data = self._prepare(estimator, *train)
        Xv, Yv, swv = data[:3] if val is train else estimator._training_tensors(*val)
        score = estimator._validation_scorer(Xv, Yv, swv)
        self.initial_validation_score_ = float(score(estimator.module_.eval()))
        progress = None
        if self.verbose:
            from tqdm.auto import tqdm

            progress = tqdm(total=len(self.z_grid()), desc="z_c", unit="step")
        try:
            rows = self._search(estimator, data, score, rng, progress)
        finally:
            if progress is not None:
                progress.close()
        estimator.module_.eval()
        self._record_masks()
        self.pruning_path_ = self._path(rows)
        return self

"""StatisticalPruning and GradualStatisticalPruning: pruning as a post-fit step.

Lo et al., section IV: Algorithm 2 (SP) prunes every weight whose z-statistic is
below a critical value z_c and retrains the rest for R epochs; Algorithm 3 (GSP)
raises z_c step by step and keeps the weights with the best validation score.
"""

from __future__ import annotations

import copy
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, MetaEstimatorMixin, _fit_context, clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted
from sklearn_compat.utils._tags import get_tags

from .._base import NeuralNetMixin, _store_parameters, make_optimizer_factory
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
    def _fit_estimator(self, X, y, sample_weight) -> NeuralNetMixin:
        if not isinstance(self.estimator, NeuralNetMixin):
            raise TypeError(
                f"{type(self).__name__} prunes skconvex estimators (a torch module in "
                f"`module_`); got {type(self.estimator).__name__}."
            )
        if self.prefit:
            check_is_fitted(self.estimator)
            # The user's model stays untouched: prune a copy (SelectFromModel does too).
            estimator = copy.deepcopy(self.estimator)
        else:
            fit_params = {} if sample_weight is None else {"sample_weight": sample_weight}
            estimator = clone(self.estimator).fit(X, y, **fit_params)
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
    z_crit : float, default=2.0
        Critical value z_c: weights with ``z < z_crit`` are pruned. z_c = 2 is a
        two-sided significance level of 4.55 %.
    retrain_epochs : int, default=10
        R, epochs of retraining after pruning (0: prune only).
    retrain_solver : {"sgd", "adam"}, default="sgd"
        Optimizer of the retraining; the paper uses SGD with momentum.
    retrain_learning_rate : float, default=1e-5
        Fixed learning rate of the retraining (the paper's 1e-5, no decay).
    retrain_momentum : float, default=0.5
        Momentum of the SGD retraining (the paper's 0.5).
    variance : {"paper", "gauss_newton"}, default="paper"
        How s_i is estimated: the paper's formula, or the diagonal Gauss–Newton
        ``s_i² = (P/m) / Σ_k Σ_o (∂f_o(x_k)/∂w_i)²`` of nonlinear least squares
        (see :mod:`skconvex.pruning.zstatistics`; the paper's statistic is not
        scale-free and vanishes wherever ∂P/∂w = 0).
    prune_bias : bool, default=False
        Also test and prune the biases of Linear and Conv layers.
    prefit : bool, default=False
        Prune a copy of the given fitted ``estimator`` without refitting it; the
        given estimator is left untouched.
    random_state : int, RandomState instance or None, default=None
        Seeds the retraining (shuffling, dropout).
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
    >>> sp = StatisticalPruning(net, z_crit=2.0, variance="gauss_newton",
    ...                         random_state=0).fit(X, y)
    >>> 0.2 < sp.sparsity_ < 0.6, sp.score(X, y) > 0.95
    (True, True)
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
        z_crit: float = 2.0,
        retrain_epochs: int = 10,
        *,
        retrain_solver: str = "sgd",
        retrain_learning_rate: float = 1e-5,
        retrain_momentum: float = 0.5,
        variance: str = "paper",
        prune_bias: bool = False,
        prefit: bool = False,
        random_state=None,
        verbose: int = 0,
    ) -> None:
        _store_parameters(self, locals())

    @_fit_context(prefer_skip_nested_validation=False)
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
        estimator = self._fit_estimator(X, y, sample_weight)
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
    network replaces ``w_old`` (``accept="not_worse"``: ``v_new >= v_old``). Stops after ``z_max`` or as soon as ``v_old`` reaches
    ``target_score`` (the paper's v_opt). The result is the best network seen.

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
        Share of the training data held out (stratified for classifiers) for the
        validation score when ``fit`` gets no ``X_val``. None scores on the training
        data itself (for very small data sets).
    retrain_solver, retrain_learning_rate, retrain_momentum, variance, prune_bias, prefit, random_state :
        As for :class:`StatisticalPruning`; ``random_state`` also seeds the split.
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
    ...                                 retrain_epochs=2, variance="gauss_newton",
    ...                                 validation_fraction=0.3, random_state=0).fit(X, y)
    >>> gsp.pruning_path_["z_crit"].tolist()
    [1.0, 2.0, 3.0]
    >>> gsp.best_validation_score_ >= gsp.initial_validation_score_
    True
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
        retrain_learning_rate: float = 1e-5,
        retrain_momentum: float = 0.5,
        variance: str = "paper",
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

    def _split(self, X, y, sample_weight, rng):
        arrays = [X, y] + ([] if sample_weight is None else [sample_weight])
        stratify = y if get_tags(self.estimator).estimator_type == "classifier" else None
        parts = train_test_split(
            *arrays, test_size=self.validation_fraction, random_state=rng, stratify=stratify
        )
        train, val = tuple(parts[0::2]), tuple(parts[1::2])
        if len(val[1]) < 2:
            raise ValueError(
                "The validation set is too small: increase validation_fraction or the "
                "number of samples, or pass X_val and y_val to fit."
            )
        if sample_weight is None:
            train, val = train + (None,), val + (None,)
        return train, val

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, sample_weight=None, X_val=None, y_val=None, sample_weight_val=None):
        """Fit the estimator (unless ``prefit``), then prune gradually (Algorithm 3).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or images
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets.
        sample_weight : array-like of shape (n_samples,), optional
            Passed to the estimator's ``fit``; also weights P(w), the retraining and,
            with ``validation_fraction=None``, the validation score.
        X_val, y_val : array-like, optional
            Validation data; when given, all of X is used for training.
        sample_weight_val : array-like, optional
            Weights of the validation score.

        Returns
        -------
        self
        """
        if (X_val is None) != (y_val is None):
            raise ValueError("Pass both X_val and y_val, or neither.")
        rng = check_random_state(self.random_state)
        if X_val is not None:
            train = (X, y, sample_weight)
            val = (X_val, y_val, sample_weight_val)
        elif self.validation_fraction is None:
            train = val = (X, y, sample_weight)
        else:
            train, val = self._split(X, y, sample_weight, rng)
        estimator = self._fit_estimator(*train)
        data = self._prepare(estimator, *train)
        Xv, Yv, swv = data[:3] if val is train else estimator._training_tensors(*val)
        score = estimator._validation_scorer(Xv, Yv, swv)
        module = estimator.module_

        v_old = self.initial_validation_score_ = float(score(module.eval()))
        kept = snapshot(module)
        best_z = None
        rows = []
        grid = self.z_grid()
        progress = None
        if self.verbose:
            from tqdm.auto import tqdm

            progress = tqdm(total=len(grid), desc="z_c", unit="step")
        try:
            for z_crit in grid:
                if self.target_score is not None and v_old >= self.target_score:
                    break
                restore(module, kept)
                self._prune(estimator, float(z_crit), data)
                seed = int(rng.randint(2**31 - 1))
                if self.retrain_epochs > 0:
                    history = self._retrain(estimator, data, seed, validation_score=score)
                    v_new = history.best_score
                    best = max(history.best_epoch, 0)
                    loss = history.mean_error[best] if history.mean_error else np.nan
                else:
                    v_new, loss = float(score(module.eval())), np.nan
                accepted = bool(v_new > v_old if self.accept == "better" else v_new >= v_old)
                rows.append(dict(z_crit=float(z_crit), sparsity=masks.sparsity(module),
                                 validation_score=float(v_new), training_loss=float(loss),
                                 accepted=accepted))
                if accepted:
                    kept, v_old, best_z = snapshot(module), float(v_new), float(z_crit)
                if progress is not None:
                    progress.update(1)
                    progress.set_postfix(z=f"{z_crit:.2f}", best=f"{v_old:.4g}")
                if self.retrain_epochs > 0 and history.stop_reason == "interrupted":
                    raise KeyboardInterrupt
        except KeyboardInterrupt:
            warnings.warn(
                f"Pruning interrupted after {len(rows)} of {len(grid)} critical values; "
                "the best network so far was kept and the estimator is usable.",
                UserWarning,
            )
        finally:
            if progress is not None:
                progress.close()
        restore(module, kept)
        module.eval()
        self._record_masks()
        self.best_z_ = best_z
        self.best_validation_score_ = v_old
        self.pruning_path_ = self._path(rows)
        return self

"""RVSMRegressor and RVSMClassifier: sparse networks by relaxed variable splitting."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn_compat.base import _fit_context

from ._base import STOPPING_ATTRIBUTES_DOC, STOPPING_PARAMETERS_DOC, NeuralNetMixin, _layer_sizes, _store_parameters
from ._tasks import (
    IncrementalClassifierMixin,
    IncrementalRegressorMixin,
    NeuralClassifierMixin,
    NeuralRegressorMixin,
)
from .nn import masks
from .nn.factory import BUILTIN_MODULES
from .theory import angle
from .thresholds import KINDS
from .training.callbacks import Callback
from .training.rvsm import ADMMSplitting, RelaxedSplitting

__all__ = ["RVSMClassifier", "RVSMRegressor"]

_PARAMETERS_DOC = """
    architecture : {"mlp", "no_overlap_cnn", "lenet5", "lenet5_20_50_500"} or callable, default="mlp"
        The network. "no_overlap_cnn" is the paper's one-hidden-layer CNN with
        non-overlapping patches of ``patch_size`` features and a shared filter; a
        callable is a ``torch.nn.Module`` factory (see ``GDCClassifier``'s ``module``).
    penalty : {"l0", "l1", "tl1"}, default="l0"
        P of the sparse copy u: ℓ0 (hard threshold at sqrt(2λ/β)), ℓ1 (soft threshold
        at λ/β) or transformed ℓ1 ρ_a (its closed-form proximal map).
    lam : float, default=1e-5
        λ, the weight of the penalty.
    beta : float, default=1e-2
        β, the weight of the coupling (β/2)‖w − u‖² (the authors' code uses 1e-2).
    a : float, default=1.0
        The parameter a of transformed ℓ1 (ignored by the other penalties).
    method : {"rvsm", "admm"}, default="rvsm"
        "rvsm" is Algorithm 1. "admm" is the baseline of §3.3: ADMM on the same
        splitting (eq. 10) with a Lagrange multiplier z and a gradient step for w,
        u = threshold(w + z/β), z ← z + β(w − u); z closes the gap between w and u,
        which makes u less sparse.
    reset_to_sparse : bool, default=False
        Set w = u at the start of every epoch after the first, as the authors' code does
        after each epoch (it is not in Algorithm 1): weights under the threshold restart
        from zero, which makes u sparser.
    use_sparse_weights : bool, default=True
        Predict with u, the sparse copy (the paper evaluates u); the pruned weights are
        then masked zeros of ``module_``. False predicts with w.
    patch_size : int, default=None
        Patch size d of "no_overlap_cnn" (None: one patch of all features).
    hidden_layer_sizes : array-like of int, default=(100,)
        Hidden widths of "mlp".
    module_params : dict, default=None
        Extra keyword arguments of the network (e.g. ``n_filters``, ``readout`` of the
        no-overlap CNN); ``module__<name>`` in ``set_params``.
    image_shape : tuple of int, default=None
        (channels, height, width) for the LeNets.
    solver : {"sgd", "adam"}, default="sgd"
        The w-step's optimizer; plain SGD (momentum=0) is exactly Algorithm 1. The
        coupling gradient β(w − u) goes through momentum or Adam like the data gradient.
    learning_rate_init : float, default=0.01
        η.
    momentum : float, default=0.9
    nesterovs_momentum : bool, default=True
    beta_1, beta_2, epsilon : float, default=0.9, 0.999, 1e-8
    alpha : float, default=0.0
        L2 penalty (weight decay) on the weights.
    batch_size : int or "auto", default="auto"
    max_iter : int, default=200
        Epochs.
    shuffle : bool, default=True
    tol : float, default=1e-4
        Stop when the Lagrangian has not decreased by ``tol`` for ``n_iter_no_change``
        epochs.
    n_iter_no_change : int, default=10
    random_state : int, RandomState instance or None, default=None
    verbose : int, default=0
    device : str, default="cpu"
    dtype : {"float32", "float64"}, default="float32"
""" + STOPPING_PARAMETERS_DOC

_ATTRIBUTES_DOC = """
    module_ : torch.nn.Module
        The trained network; with ``use_sparse_weights`` its split weights are u.
    sparse_weights_ : dict of str to ndarray
        u, the sparse copy, per split parameter (the weights of Linear/Conv layers).
    dense_weights_ : dict of str to ndarray
        w, the relaxed weights, per split parameter.
    dual_weights_ : dict of str to ndarray
        z, the Lagrange multipliers (``method="admm"`` only).
    sparsity_ : float
        Share of zeros in u over all split parameters.
    layer_sparsity_ : dict of str to float
        Share of zeros in u per split parameter.
    lagrangian_curve_ : list of float
        L_β(w, u) = f(w) + λP(u) + (β/2)‖w − u‖² per epoch (``method="admm"``: plus
        ⟨z, w − u⟩, eq. 9), f the mean error seen
        during the epoch); also ``loss_curve_``.
    training_error_curve_ : list of float
        f, the mean per-sample error, per epoch.
    n_iter_ : int
    stop_reason_ : str
    n_features_in_ : int
    feature_names_in_ : ndarray of str
""" + STOPPING_ATTRIBUTES_DOC


class _RVSMMixin:
    """The RVSM part shared by the regressor and the classifier."""

    _parameter_constraints: dict = {
        "architecture": [StrOptions(set(BUILTIN_MODULES)), callable],
        "penalty": [StrOptions(set(KINDS))],
        "lam": [Interval(Real, 0, None, closed="left")],
        "beta": [Interval(Real, 0, None, closed="neither")],
        "a": [Interval(Real, 0, None, closed="neither")],
        "method": [StrOptions({"rvsm", "admm"})],
        "reset_to_sparse": ["boolean"],
        "use_sparse_weights": ["boolean"],
        "patch_size": [Interval(Integral, 1, None, closed="left"), None],
        **{
            key: NeuralNetMixin._common_constraints[key]
            for key in (
                "hidden_layer_sizes", "module_params", "image_shape", "solver",
                "learning_rate_init", "momentum", "nesterovs_momentum", "beta_1", "beta_2",
                "epsilon", "alpha", "batch_size", "max_iter", "shuffle", "tol",
                "n_iter_no_change", "random_state", "verbose", "device", "dtype",
                "stopping", "record_grad_norm",
            )
        },
    }

    def __init__(
        self, architecture="mlp", penalty="l0", lam=1e-5, beta=1e-2, a=1.0,
        method="rvsm", reset_to_sparse=False, use_sparse_weights=True, patch_size=None, hidden_layer_sizes=(100,),
        module_params=None, image_shape=None, solver="sgd", learning_rate_init=0.01,
        momentum=0.9, nesterovs_momentum=True, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
        alpha=0.0, batch_size="auto", max_iter=200, shuffle=True, tol=1e-4,
        n_iter_no_change=10, random_state=None, verbose=0, device="cpu", dtype="float32",
        stopping="convergence", record_grad_norm=False,
    ):
        # One signature for both estimators (scikit-learn reads it from the MRO).
        _store_parameters(self, locals())

    @property
    def module(self):  # NeuralNetMixin reads `module`; RVSM calls it `architecture`
        return self.architecture

    def _module_arguments(self, n_features: int, n_outputs: int) -> dict:
        params: dict = {}
        if self.architecture == "mlp":
            params = dict(
                hidden_layer_sizes=_layer_sizes(self.hidden_layer_sizes),
                activation="relu",
                output_activation="identity",
            )
        elif self.architecture == "no_overlap_cnn":
            params = dict(
                patch_size=n_features if self.patch_size is None else int(self.patch_size),
                readout="average" if n_outputs == 1 else "linear",
            )
        elif isinstance(self.architecture, str):  # the LeNets
            params = dict(
                image_shape=self._image_shape(n_features),
                activation="relu",
                output_activation="identity",
            )
        params.update(self.module_params or {})
        return dict(module=self.architecture, n_features=n_features, n_outputs=n_outputs, params=params)

    def _holdout_fraction(self):
        return None

    def _make_strategy(self, resume: bool = False):
        splitting = ADMMSplitting if self.method == "admm" else RelaxedSplitting
        return splitting(self.penalty, self.lam, self.beta, self.a, reset_to_sparse=self.reset_to_sparse)

    def _continue_module(self) -> None:
        """Before a continued fit (partial_fit): train w again, not the masked copy u."""
        dense = getattr(self, "dense_weights_", None)
        if not self.use_sparse_weights or dense is None:
            return
        params = dict(self.module_.named_parameters())
        with torch.no_grad():
            for name, mask in masks.get_masks(self.module_).items():
                mask.fill_(True)
            for name, w in dense.items():
                params[name].copy_(torch.as_tensor(w, device=params[name].device))

    def _record_history(self, history, strategy, reset: bool) -> None:
        if history.stop_reason in ("diverged", "interrupted") and strategy.params:
            strategy.resync()  # the loop restored w: u must follow it
        super()._record_history(history, strategy, reset)
        self.lagrangian_curve_ = list(self.loss_curve_)
        angles = history.records.get("angle")
        if angles is None:
            self.angle_curve_ = None
        else:
            old = None if reset else getattr(self, "angle_curve_", None)
            self.angle_curve_ = (old or []) + angles
        self.dense_weights_ = {n: p.detach().cpu().numpy().copy() for n, p in zip(strategy.names, strategy.params)}
        self.sparse_weights_ = {n: u.cpu().numpy().copy() for n, u in zip(strategy.names, strategy.u)}
        if self.method == "admm":
            self.dual_weights_ = {n: z.cpu().numpy().copy() for n, z in zip(strategy.names, strategy.z)}
        zeros = {n: int((u == 0).sum()) for n, u in self.sparse_weights_.items()}
        sizes = {n: u.size for n, u in self.sparse_weights_.items()}
        self.layer_sparsity_ = {n: zeros[n] / sizes[n] for n in zeros}
        self.sparsity_ = sum(zeros.values()) / max(1, sum(sizes.values()))
        if self.use_sparse_weights:
            # Predict with u: its zeros become masked connections of module_.
            masks.add_masks(self.module_)
            with torch.no_grad():
                for p, u in zip(strategy.params, strategy.u):
                    p.copy_(u)
            masks.prune_(self.module_, {n: u != 0 for n, u in zip(strategy.names, strategy.u)})

    def _fit_rvsm(self, X, y, sample_weight, w_true):
        if w_true is None:
            return self._fit(X, y, sample_weight)
        if self.architecture != "no_overlap_cnn":
            raise ValueError("w_true (the angle curve) needs architecture='no_overlap_cnn'.")
        return self._fit(X, y, sample_weight, callbacks=[_AngleRecorder(w_true)])


class _AngleRecorder(Callback):
    """Records the angle between the learned filter and the true one after each epoch."""

    def __init__(self, w_true):
        self.w_true = np.asarray(w_true, dtype=np.float64).ravel()

    def on_epoch_end(self, ctx) -> None:
        w = ctx.module.filter.detach().to(torch.float64).cpu().numpy()[0]
        ctx.history.record("angle", float(angle(w, self.w_true)))


class RVSMRegressor(
    _RVSMMixin, IncrementalRegressorMixin, NeuralRegressorMixin, NeuralNetMixin, RegressorMixin,
    BaseEstimator,
):
    __doc__ = (
        """Sparse network regression by the relaxed variable splitting method (RVSM).

    Trains w on the squared error plus (β/2)‖w − u‖² and keeps u = threshold(w), the
    proximal map of (λ/β)·P, after every step (Dinh & Xin, Algorithm 1); u is the
    sparse network. Targets are scaled to [−1, 1] per output for training and scaled
    back at prediction, except with ``architecture="no_overlap_cnn"``: the paper's
    no-overlap network has non-negative outputs and no output bias, and trains on the
    targets as given.

    Parameters
    ----------"""
        + _PARAMETERS_DOC
        + """
    Attributes
    ----------"""
        + _ATTRIBUTES_DOC
        + """    angle_curve_ : list of float or None
        With ``fit(w_true=...)`` and the no-overlap CNN: θ(w, w*) per epoch (radians).

    Examples
    --------
    >>> from skconvex import RVSMRegressor
    >>> from skconvex.datasets import make_no_overlap_regression
    >>> from skconvex.theory import angle
    >>> X, y, w_star = make_no_overlap_regression(
    ...     2000, n_patches=4, patch_size=8, random_state=0, return_coef=True
    ... )
    >>> reg = RVSMRegressor(architecture="no_overlap_cnn", patch_size=8, lam=1e-4,
    ...                     max_iter=30, random_state=0).fit(X, y, w_true=w_star)
    >>> bool(reg.angle_curve_[-1] < 0.1)
    True
    """
    )

    @property
    def _scale_targets(self) -> bool:
        # The no-overlap network has non-negative outputs and no output bias: it
        # trains on the targets as given (the paper's setting). Every other network
        # trains on targets scaled to [-1, 1], as GDCRegressor's: on raw targets such
        # as diabetes' (25 to 346) the default SGD step diverged in 3 epochs.
        return self.architecture != "no_overlap_cnn"

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, w_true=None):
        """Train w and its sparse copy u on (X, y).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None
        w_true : array-like of shape (patch_size,), default=None
            The ground-truth filter (``make_no_overlap_regression(return_coef=True)``):
            records ``angle_curve_``.

        Returns
        -------
        self : RVSMRegressor
        """
        return self._fit_rvsm(X, y, sample_weight, w_true)


class RVSMClassifier(
    _RVSMMixin, IncrementalClassifierMixin, NeuralClassifierMixin, NeuralNetMixin,
    ClassifierMixin, BaseEstimator,
):
    __doc__ = (
        """Sparse network classification by the relaxed variable splitting method (RVSM).

    RVSM (Dinh & Xin, Algorithm 1) on the softmax cross-entropy: the paper names
    classification as its future work. See :class:`RVSMRegressor`.

    Parameters
    ----------"""
        + _PARAMETERS_DOC
        + """
    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)"""
        + _ATTRIBUTES_DOC
        + """
    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skconvex import RVSMClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = RVSMClassifier(hidden_layer_sizes=(64,), lam=1e-4, max_iter=30,
    ...                      random_state=0).fit(X / 16, y)
    >>> bool(clf.score(X / 16, y) > 0.9), bool(clf.sparsity_ > 0.3)
    (True, True)
    """
    )

    criterion = "cross_entropy"  # softmax outputs; not a parameter

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Train w and its sparse copy u on (X, y).

        Returns
        -------
        self : RVSMClassifier
        """
        return self._fit_rvsm(X, y, sample_weight, None)

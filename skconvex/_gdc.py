"""GDCClassifier and GDCRegressor: NRAE/RAE training with gradual deconvexification."""

from __future__ import annotations

import warnings
from numbers import Integral, Real

from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn_compat.base import _fit_context

from ._base import (
    _DTYPES,
    STOPPING_ATTRIBUTES_DOC,
    STOPPING_PARAMETERS_DOC,
    NeuralNetMixin,
    _store_parameters,
)
from ._tasks import (
    IncrementalClassifierMixin,
    IncrementalRegressorMixin,
    NeuralClassifierMixin,
    NeuralRegressorMixin,
)
from .nn.factory import module_param_names
from .training import AdaptiveLambda, ConstantNRAE, GradualDeconvexification, MeanLoss

__all__ = ["GDCClassifier", "GDCRegressor", "PAPER_RECIPE"]

#: The settings of Lo, Gui & Peng's experiments (section V): pairwise momentum SGD with
#: lr 1e-4 and momentum 0.5, λ₀ = 1e4 decayed by 0.9 after 10 stagnant epochs, the
#: switch to RAE, SSE below λ = 1 with the learning rate halved every 10 epochs,
#: scaled-tanh units with the ±2.4/fan-in initialization, no weight decay.
#: ``GDCClassifier(**PAPER_RECIPE)``. Pairwise steps are slow in Python: for the
#: paper's MNIST runs expect hours per model on a CPU.
PAPER_RECIPE: dict = dict(
    schedule="gdc",
    lambda_init=1e4,
    lambda_decay=0.9,
    lambda_patience=10,
    lambda_min=1.0,
    switch_to_rae=True,
    normalizer="global",
    activation="lecun_tanh",
    init="paper",
    solver="sgd",
    learning_rate_init=1e-4,
    momentum=0.5,
    nesterovs_momentum=False,
    batch_size=1,
    alpha=0.0,
    learning_rate="step",
    lr_step_epochs=10,
    lr_step_factor=0.5,
)

_GDC_CONSTRAINTS = {
    "schedule": [StrOptions({"gdc", "constant", "adaptive", "none"})],
    "lambda_init": [StrOptions({"auto"}), Interval(Real, 0, None, closed="neither")],
    "lambda_decay": [Interval(Real, 0, 1, closed="right")],
    "lambda_tol": [Interval(Real, 0, None, closed="left")],
    "lambda_patience": [Interval(Integral, 1, None, closed="left")],
    "lambda_min": [StrOptions({"auto"}), Interval(Real, 0, None, closed="left")],
    "switch_to_rae": ["boolean"],
    "normalizer": [StrOptions({"batch", "global"})],
    "fast_gradient": ["boolean"],
    "lambda_penalty": [Interval(Real, 0, None, closed="left")],
    "lambda_penalty_power": [Interval(Real, 0, None, closed="neither")],
    "lambda_power": [Interval(Real, 0, None, closed="neither")],
    "dropout": [Interval(Real, 0, 1, closed="left")],
    "pretrain": [StrOptions({"denoising"}), None],
    "denoising_rate": [Interval(Real, 0, 1, closed="right")],
    "box_bound": [Interval(Real, 0, None, closed="neither")],
    "pretrain_iter": [Interval(Integral, 1, None, closed="left")],
}

_ANRAT_LAMBDA_INIT = 8.0  # λ₀ of the ANRAT authors' code

_PARAMETERS_DOC = (
    """
    schedule : {"gdc", "constant", "adaptive", "none"}, default="gdc"
        How the risk-sensitivity index λ evolves. "gdc": gradual deconvexification
        (λ decays on stagnancy, switch to RAE below λ_c, plain criterion below
        ``lambda_min``); "constant": NRAE at a fixed λ; "adaptive": ANRAT, λ learned
        with the weights under the penalty a·λ^(−q); "none": plain criterion, the
        baseline.
    lambda_init : float or "auto", default="auto"
        λ₀, the initial risk-sensitivity index. "auto" picks λ₀ so that
        λ₀·(e_M − median e_k) = 1 on the initial network's errors (what drives
        NRAE is λ times the spread of the errors); for ``schedule="adaptive"``,
        "auto" is the ANRAT authors' λ₀ = 8. The paper uses 1e4 (and up to 1e9).
        Not used when ``schedule="none"``.
    lambda_decay : float, default=0.9
        Deconvexification rate: λ ← lambda_decay·λ on stagnancy. Only used when
        ``schedule="gdc"``.
    lambda_tol : float, default=1e-3
        Stagnancy threshold τ: the criterion has stagnated when it has not decreased
        by a relative τ within ``lambda_patience`` epochs. Only used when
        ``schedule="gdc"``.
    lambda_patience : int, default=10
        P, epochs without a relative decrease of τ before λ is decayed. Only used
        when ``schedule="gdc"``.
    lambda_min : float or "auto", default="auto"
        Below this λ, training continues on the plain criterion (SSE or
        cross-entropy) until convergence (the paper switches to SSE below λ = 1).
        "auto" is λ₀/100. Only used when ``schedule="gdc"``.
    switch_to_rae : bool, default=True
        GDC stage 2: once λ < λ_c = (ln F_max − ln K)/e_M, minimize the RAE J_λ
        with the normalized gradient ∇J/‖∇J‖. As ∇J_λ = λ J_λ ∇C_λ this is the NRAE
        direction with a step of fixed length: the same code path, another step rule.
        The normalization applies with ``solver="sgd"`` (the paper's); Adam already
        rescales its steps, so with Adam stage 2 takes Adam steps along ∇C_λ. Only
        used when ``schedule="gdc"``.
    normalizer : {"batch", "global"}, default="batch"
        Over which samples NRAE is normalized. "batch": NRAE of each minibatch
        (with one sample it is plain squared error). "global": the loop keeps the
        latest e_k of all K samples and steps with weights
        K·exp(λ e_k − logsumexp(λ e_cache)), an estimate of the training-set NRAE
        gradient; this is how the paper's pairwise mode (batch_size=1) works. Not
        used when ``schedule="none"``.
    fast_gradient : bool, default=False
        Algorithm 1's fast gradient: samples whose NRAE weight is below eps/K of the
        largest one are not backpropagated (a speed option at large λ). Only used
        when ``schedule="gdc"``.
    lambda_penalty : float, default=0.01
        ANRAT's penalty weight a in a·λ^(−q) (the paper's grid: 1, 0.1, 0.001).
        Only used when ``schedule="adaptive"``.
    lambda_penalty_power : float, default=1.0
        ANRAT's q. Only used when ``schedule="adaptive"``.
    lambda_power : float, default=1.0
        p in the exponent λ^p of NRAE (the ANRAT authors' code uses p = 2). Only
        used when ``schedule="adaptive"``.
    module : {"mlp", "lenet5", "lenet5_20_50_500"} or callable, default="mlp"
        The network: a built-in name, or a ``torch.nn.Module`` subclass or factory
        called as ``module(n_features=..., n_outputs=..., **module_params)`` (the two
        sizes only if it accepts them).
    module_params : dict, default=None
        Extra keyword arguments of the module; ``module__<name>`` in ``set_params``
        and ``GridSearchCV`` sets them one by one.
    hidden_layer_sizes : array-like of int, default=(100,)
        Hidden layer widths. Only used when ``module="mlp"``.
    activation : {"relu", "tanh", "logistic", "lecun_tanh", "identity"}, default="relu"
        Hidden activation; "lecun_tanh" is 1.7159·tanh(2v/3), the paper's.
    output_activation : str, default="auto"
        Output activation; "auto" is "lecun_tanh" for classification with SSE (the
        ±1 codes of the paper) and "identity" otherwise.
    init : {"auto", "paper", "glorot", "torch"}, default="auto"
        Weight initialization of the built-in modules; "paper" is U(±2.4/fan-in);
        "auto" is "paper" for lecun_tanh and scikit-learn's Glorot otherwise.
    image_shape : tuple of int, default=None
        (channels, height, width) of the images for the LeNet modules; None infers a
        square single-channel image from the number of features. Only used with
        the LeNet modules.
    solver : {"adam", "sgd"}, default="adam"
        Optimizer; "sgd" is momentum SGD, the paper's.
    alpha : float, default=1e-4
        L2 penalty (weight decay) on the weights; not on biases nor on λ.
    batch_size : int or "auto", default="auto"
        Minibatch size; "auto" is min(200, n_samples); 1 is the paper's pairwise mode.
    learning_rate : {"constant", "step"}, default="constant"
        "step" multiplies the learning rate by ``lr_step_factor`` every
        ``lr_step_epochs`` epochs of the final stage (plain criterion, or throughout
        for the other schedules).
    learning_rate_init : float, default=1e-3
        Initial learning rate.
    lr_step_epochs : int, default=10
        Epochs of the final stage between two learning-rate steps. Only used when
        ``learning_rate="step"``.
    lr_step_factor : float, default=0.5
        Factor of each learning-rate step. Only used when ``learning_rate="step"``.
    momentum : float, default=0.9
        Momentum of the SGD steps. Only used when ``solver="sgd"``.
    nesterovs_momentum : bool, default=True
        Whether to use Nesterov's momentum. Only used when ``solver="sgd"`` and
        ``momentum > 0``.
    beta_1, beta_2, epsilon : float, default=0.9, 0.999, 1e-8
        Adam's parameters. Only used when ``solver="adam"``.
    max_iter : int, default=200
        Maximum number of epochs.
    shuffle : bool, default=True
        Shuffle the samples every epoch.
    tol : float, default=1e-4
        Training stops when the plain mean training error (λ-free, for every
        schedule) or, with early stopping, the validation score has not improved by
        ``tol`` for ``n_iter_no_change`` epochs. Never during GDC stage 1, where
        stagnancy lowers λ instead.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data (stratified for classifiers),
        stop when its score has not improved by ``tol`` for ``n_iter_no_change``
        epochs (not during GDC stage 1), and restore the best weights.
    validation_fraction : float, default=0.1
        Share of the training data held out for validation. Only used when
        ``early_stopping=True``.
    n_iter_no_change : int, default=10
        Epochs without an improvement of ``tol`` before training stops (see
        ``tol``).
    random_state : int, RandomState instance or None, default=None
        Seeds initialization, shuffling, dropout and the validation split.
    verbose : int, default=0
        Show a progress bar over epochs.
    warm_start : bool, default=False
        Continue from the fitted weights, λ and stage.
    device : str, default="cpu"
        "cpu", "cuda", "cuda:N" or "auto" (CUDA when available).
    dtype : {"float32", "float64"}, default="float32"
        Dtype of the network. Criteria are always computed in float64.
    dropout : float, default=0.0
        Drop probability of the input and every hidden unit during training (the
        interplay paper's eq. 5, keep probability ``ζ = 1 − dropout``; PyTorch's
        inverted dropout). For "mlp"; "lenet5_20_50_500" applies it before its dense
        layers; other modules raise (pass a module of your own its dropout through
        ``module_params``).
    pretrain : {"denoising"} or None, default=None
        "denoising": before supervised training, pretrain every hidden layer of the
        "mlp" module, bottom up, as a tied-weight denoising autoencoder with the box
        constraint ``W ∈ [−box_bound, box_bound]`` (projected steps) and Bernoulli
        input corruption (the interplay paper's eq. 4; Vincent et al. 2010), with
        the same optimizer and batch size. Fine-tuning is not box-constrained.
    denoising_rate : float, default=0.9
        ``ζ`` of eq. 4: the probability of *keeping* each input of a pretrained
        layer (0.9 corrupts 10 % of them). Only used when ``pretrain="denoising"``.
    box_bound : float, default=1.0
        ``w_m``: pretrained weights stay in ``[−w_m, w_m]``. Only used when
        ``pretrain="denoising"``.
    pretrain_iter : int, default=10
        Epochs of pretraining per hidden layer. Only used when
        ``pretrain="denoising"``.
"""
    + STOPPING_PARAMETERS_DOC
)

_ATTRIBUTES_DOC = (
    """
    module_ : torch.nn.Module
        The trained network (in evaluation mode).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Defined when X has feature names that are all strings.
    n_outputs_ : int
        Number of network outputs.
    loss_curve_ : list of float
        Per epoch, the criterion minimized (NRAE at that epoch's λ during GDC stages
        1 and 2, the ANRAT objective, or the mean error), on the training set.
    training_error_curve_ : list of float
        Per epoch, the plain mean per-sample error (squared error or cross-entropy).
    lambda_curve_ : list of float or None
        λ at each epoch (0 in the final plain stage, None for schedule="none").
    stage_curve_ : list of str
        Criterion of each epoch: "nrae", "rae", "mean" or "adaptive".
    validation_scores_ : list of float or None
        Validation score per epoch with early stopping, else None.
    best_validation_score_ : float or None
    best_loss_ : float
        Smallest plain mean training error reached.
    n_iter_ : int
        Epochs run.
    lambda_ : float or None
        Final λ.
    stage_ : str
        Final stage.
    stop_reason_ : str
        "max_iter", "converged", "early_stopping", "diverged", "interrupted" or
        "random_stop".
    pretrain_loss_curves_ : list of list of float or None
        With ``pretrain="denoising"``, per hidden layer, the mean reconstruction
        error of each pretraining epoch (on the corrupted inputs seen).
    pretrain_grad_norm_curves_ : list of list of float or None
        With pretraining and ``record_grad_norm``, per hidden layer and step, the
        norm of the gradient mapping ``(W_k − W_{k+1}) / learning_rate_init`` of the
        box-constrained weights: the projected gradient of Theorem IV.1 for plain
        SGD (``momentum=0``).
"""
    + STOPPING_ATTRIBUTES_DOC
)


class _GDCParams:
    """The parameters of both GDC estimators, declared once.

    scikit-learn reads the parameter names from ``type(self).__init__`` through the
    MRO, so this ``__init__`` is the regressor's; the classifier puts its
    ``criterion`` in front (see :meth:`_signature_after`).
    """

    def __init__(
        self,
        schedule="gdc",
        lambda_init="auto",
        lambda_decay=0.9,
        lambda_tol=1e-3,
        lambda_patience=10,
        lambda_min="auto",
        switch_to_rae=True,
        normalizer="batch",
        fast_gradient=False,
        lambda_penalty=0.01,
        lambda_penalty_power=1.0,
        lambda_power=1.0,
        module="mlp",
        module_params=None,
        hidden_layer_sizes=(100,),
        activation="relu",
        output_activation="auto",
        init="auto",
        image_shape=None,
        solver="adam",
        alpha=1e-4,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=1e-3,
        lr_step_epochs=10,
        lr_step_factor=0.5,
        momentum=0.9,
        nesterovs_momentum=True,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        max_iter=200,
        shuffle=True,
        tol=1e-4,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        random_state=None,
        verbose=0,
        warm_start=False,
        device="cpu",
        dtype="float32",
        dropout=0.0,
        pretrain=None,
        denoising_rate=0.9,
        box_bound=1.0,
        pretrain_iter=10,
        stopping="convergence",
        record_grad_norm=False,
    ):
        _store_parameters(self, locals())

    @staticmethod
    def _signature_after(init):
        """The signature of ``init``, an estimator's own ``__init__(self, own..., *args,
        **kwargs)``, followed by the shared parameters: what scikit-learn reads."""
        import inspect

        own = [
            p for p in inspect.signature(init).parameters.values()
            if p.kind is p.POSITIONAL_OR_KEYWORD
        ]
        shared = list(inspect.signature(_GDCParams.__init__).parameters.values())[1:]
        return inspect.Signature(own + shared)


class _GDCMixin:
    """The GDC-specific part: pick the strategy from the parameters."""

    def _make_strategy(self, resume: bool = False):
        """The strategy of ``schedule``; with ``resume``, continuing the fitted λ, stage
        and resolved ``lambda_min`` (a warm start after unpickling: the fitted strategy
        itself is not pickled)."""
        lam0 = self.lambda_init
        if resume and getattr(self, "lambda_", None) is not None:
            lam0 = self.lambda_
        if self.schedule == "none":
            return MeanLoss()
        if self.schedule == "constant":
            return ConstantNRAE(lam0, normalizer=self.normalizer)
        if self.schedule == "adaptive":
            return AdaptiveLambda(
                _ANRAT_LAMBDA_INIT if lam0 == "auto" else lam0,
                penalty=self.lambda_penalty,
                penalty_power=self.lambda_penalty_power,
                power=self.lambda_power,
                normalizer=self.normalizer,
                dtype=_DTYPES[self.dtype],
            )
        lambda_min = self.lambda_min
        if resume and getattr(self, "_lambda_min_", None) is not None:
            lambda_min = self._lambda_min_  # keep the first fit's resolved "auto"
        strategy = GradualDeconvexification(
            lam0,
            lambda_decay=self.lambda_decay,
            lambda_tol=self.lambda_tol,
            lambda_patience=self.lambda_patience,
            lambda_min=lambda_min,
            switch_to_rae=self.switch_to_rae,
            normalizer=self.normalizer,
            fast_gradient=self.fast_gradient,
            net_dtype=_DTYPES[self.dtype],
            # The normalized-gradient rule is the paper's, for momentum SGD; Adam
            # normalizes its steps itself (see GradualDeconvexification).
            normalized_step=self.solver == "sgd",
        )
        if resume:
            strategy.stage = self.stage_
        return strategy

    def _module_arguments(self, n_features: int, n_outputs: int) -> dict:
        args = super()._module_arguments(n_features, n_outputs)
        if self.pretrain is not None and self.module != "mlp":
            raise ValueError(
                f"pretrain={self.pretrain!r} pretrains the hidden layers of the 'mlp' "
                f"module; got module={self.module!r}."
            )
        if self.dropout > 0:
            accepted = module_param_names(self.module) if isinstance(self.module, str) else set()
            if self.module == "mlp":
                dropout = dict(dropout=self.dropout, input_dropout=self.dropout)
            elif "dropout" in accepted:
                dropout = dict(dropout=self.dropout)
            else:
                raise ValueError(
                    f"dropout applies to the built-in modules that have a dropout layer "
                    f"('mlp', 'lenet5_20_50_500'), not module={self.module!r}; give a "
                    "module of your own its dropout through module_params."
                )
            # module_params, set explicitly, take precedence.
            args["params"] = {**dropout, **args["params"]}
        return args

    def _pretrain(self, X, sample_weight, batch_size: int, seed: int) -> str | None:
        self.pretrain_loss_curves_ = None
        self.pretrain_grad_norm_curves_ = None
        if self.pretrain is None:
            return
        from .training.pretraining import pretrain_denoising

        logs = pretrain_denoising(
            self.module_,
            X,
            self._make_optimizer_factory(),
            sample_weight=sample_weight,
            keep_probability=self.denoising_rate,
            box_bound=self.box_bound,
            epochs=self.pretrain_iter,
            batch_size=batch_size,
            seed=seed,
            learning_rate=self.learning_rate_init if self.record_grad_norm else None,
            verbose=self.verbose,
        )
        self.pretrain_loss_curves_ = [log["loss_curve"] for log in logs]
        if self.record_grad_norm:
            self.pretrain_grad_norm_curves_ = [log["projected_grad_norm"] for log in logs]
        for layer, log in enumerate(logs):
            if log["stop_reason"] == "diverged":
                warnings.warn(
                    f"Pretraining of hidden layer {layer + 1} diverged; its weights were "
                    "restored to those of its best epoch. Lower learning_rate_init or "
                    "box_bound.",
                    ConvergenceWarning,
                )
        return logs[-1]["stop_reason"] if logs else None

    def _record_history(self, history, strategy, reset: bool) -> None:
        super()._record_history(history, strategy, reset)
        self._extend_curve("lambda_curve_", history.lam, reset)
        self.lambda_ = strategy.lam
        # The resolved lambda_min ("auto" = λ₀/100 of the first fit), for warm starts.
        self._lambda_min_ = getattr(strategy, "lambda_min", None)


class GDCClassifier(
    _GDCMixin, _GDCParams, IncrementalClassifierMixin, NeuralClassifierMixin, NeuralNetMixin,
    ClassifierMixin, BaseEstimator,
):
    __doc__ = (
        """Neural network classifier trained with NRAE and gradual deconvexification.

    Minimizes the normalized risk-averting error (NRAE) of the per-sample errors at
    a large risk-sensitivity index λ, lowers λ whenever training stagnates, switches
    to the risk-averting error (RAE) with normalized gradient once it cannot
    overflow, and finishes on the plain criterion (Lo, Gui & Peng). The adaptive
    schedule learns λ instead (ANRAT). See the user guide for the formulas.

    Parameters
    ----------
    criterion : {"sse", "cross_entropy", "true_class_squared"}, default="sse"
        Per-sample error e_k: squared error against ±1 one-hot codes with
        scaled-tanh outputs (the paper's), cross-entropy of softmax outputs, or
        (1 − p_y)² of the softmax (the ANRAT authors' L_i).
"""
        + _PARAMETERS_DOC
        + """
    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels."""
        + _ATTRIBUTES_DOC
        + """
    See Also
    --------
    GDCRegressor : The same training for regression.
    sklearn.neural_network.MLPClassifier : Plain cross-entropy training.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skconvex import GDCClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = make_pipeline(StandardScaler(), GDCClassifier(max_iter=300, random_state=0))
    >>> clf.fit(X, y).score(X, y) > 0.95
    True
    """
    )

    _parameter_constraints: dict = {
        **NeuralNetMixin._common_constraints,
        **_GDC_CONSTRAINTS,
        "criterion": [StrOptions({"sse", "cross_entropy", "true_class_squared"})],
    }

    def __init__(self, criterion="sse", *args, **kwargs):
        self.criterion = criterion
        super().__init__(*args, **kwargs)

    # criterion first, then the shared parameters in their order: scikit-learn (and
    # positional calls) see the signature the classifier always had.
    __init__.__signature__ = _GDCParams._signature_after(__init__)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Train the network on (X, y).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Inputs (images as flattened rows for the LeNet modules).
        y : array-like of shape (n_samples,)
            Labels of any kind.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights; they enter NRAE's log-sum-exp, and integer weights
            act as repeated samples.

        Returns
        -------
        self : GDCClassifier
        """
        return self._fit(X, y, sample_weight)


class GDCRegressor(
    _GDCMixin, _GDCParams, IncrementalRegressorMixin, NeuralRegressorMixin, NeuralNetMixin,
    RegressorMixin, BaseEstimator,
):
    __doc__ = (
        """Neural network regressor trained with NRAE and gradual deconvexification.

    The squared error of each sample, with targets scaled to [−1, 1] per output as
    in the paper (and scaled back by ``predict``), is the e_k of NRAE. Single and
    multiple outputs; a 1-d ``y`` gives 1-d predictions.

    Parameters
    ----------"""
        + _PARAMETERS_DOC
        + """
    Attributes
    ----------"""
        + _ATTRIBUTES_DOC
        + """
    See Also
    --------
    GDCClassifier : The same training for classification.
    sklearn.neural_network.MLPRegressor : Plain squared-error training.

    Examples
    --------
    >>> import numpy as np
    >>> from skconvex import GDCRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.uniform(-1, 1, size=(200, 2))
    >>> y = np.sin(3 * X[:, 0]) + X[:, 1] ** 2
    >>> reg = GDCRegressor(hidden_layer_sizes=(32,), batch_size=20, random_state=0)
    >>> reg.fit(X, y).score(X, y) > 0.9
    True
    """
    )

    _parameter_constraints: dict = {**NeuralNetMixin._common_constraints, **_GDC_CONSTRAINTS}

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Train the network on (X, y).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights; they enter NRAE's log-sum-exp.

        Returns
        -------
        self : GDCRegressor
        """
        return self._fit(X, y, sample_weight)

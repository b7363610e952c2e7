"""Shared machinery of the skconvex estimators.

Validation the scikit-learn way, building the torch module, handing module and
strategy to the one training loop, fast prediction, and persistence that holds only
CPU numpy data. Target encoding lives in :mod:`skconvex._tasks`, devices and threads
in :mod:`skconvex._device`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight, check_is_fitted
from sklearn_compat.utils.validation import validate_data

from ._device import resolve_device, to_tensor, torch_thread_limit
from ._fit_guard import check_finite_module, keep_fitted_state_on_error
from ._rng import seeded_global_rng, training_generator
from ._state_validation import check_module_state
from ._version import __version__
from .convergence._stopping import _pmf as _check_pmf
from .exceptions import InconsistentVersionWarning
from .nn import build_module
from .nn.factory import BUILTIN_MODULES
from .nn.masks import register_mask_buffers
from .nn.randomness import use_generator_dropout_, using_generator
from .training import MeanLoss, train
from .training.callbacks import (
    BestWeights,
    Convergence,
    EarlyStopping,
    GradientNormRecorder,
    LearningRateSteps,
    ProgressBar,
    RandomStopping,
    ValidationScore,
    WeightDecay,
)
from .training.loop import param_groups

__all__ = ["NeuralNetMixin", "make_optimizer_factory"]

#: Parameter docs shared by every estimator (spliced into their docstrings).
STOPPING_PARAMETERS_DOC = """
    stopping : {"convergence", "random"} or array-like of shape (N,), default="convergence"
        When training ends. "convergence": on convergence (``tol``), early stopping
        or ``max_iter``, as scikit-learn's MLP. "random": random-stopping SGD
        (Ghadimi & Lan; the interplay paper's eq. 6): the stopping iteration ``R`` is
        drawn before training from ``Unif[1, N]``, ``N`` the optimizer steps of
        ``max_iter`` epochs (the distribution of a constant step), and the weights
        ``W^R`` after ``R − 1`` steps are returned, not the best ones. An array is
        the pmf ``P_R(k)``, ``k = 1, …, N`` (e.g. from
        :func:`skconvex.convergence.random_stopping_pmf` for decaying steps); it
        sets ``N``, whatever ``max_iter``. Not with ``early_stopping=True``.
    record_grad_norm : bool, default=False
        Record the Euclidean norm of the minibatch gradient at every optimizer step
        in ``grad_norm_curve_`` (of the loss the step minimizes, before weight
        decay), to check the convergence bounds on your own data.
"""

STOPPING_ATTRIBUTES_DOC = """
    grad_norm_curve_ : list of float or None
        Per optimizer step, the norm of the minibatch gradient (``record_grad_norm``).
    stopping_iteration_ : int or None
        ``R``, the stopping iteration drawn (1-based: ``R − 1`` steps were taken),
        with random stopping; else None.
"""

_DTYPES = {"float32": torch.float32, "float64": torch.float64}
_PREDICT_CHUNK = 32768  # rows per forward pass at predict time (memory bound)


def _flatten_images(X):
    """Images as (n, C, H, W) (or (n, H, W)) become rows of C·H·W features.

    Returns the rows and the image shape (C, H, W), or X unchanged and None.
    """
    ndim = getattr(X, "ndim", None)
    if ndim is None or ndim <= 2:
        return X, None
    X = np.asarray(X)
    shape = X.shape[1:] if ndim == 4 else (1, *X.shape[1:])
    if ndim > 4:
        raise ValueError(
            f"Found array with dim {ndim}; expected rows (n_samples, n_features) or "
            "images (n_samples, channels, height, width)."
        )
    return X.reshape(X.shape[0], -1), tuple(int(s) for s in shape)


def _layer_sizes(hidden_layer_sizes) -> tuple[int, ...]:
    """``hidden_layer_sizes`` as ints; 8.7 is an error, not silently 8."""
    sizes = np.atleast_1d(hidden_layer_sizes)
    if sizes.ndim != 1 or not all(float(h).is_integer() for h in sizes.tolist()):
        raise ValueError(f"hidden_layer_sizes must be whole numbers; got {hidden_layer_sizes!r}.")
    return tuple(int(h) for h in sizes.tolist())


def _check_hyperparameters_fit_dtype(estimator, dtype: torch.dtype) -> None:
    """alpha and learning_rate_init enter float tensors: refuse values that overflow."""
    limit = float(torch.finfo(dtype).max)
    for name in ("alpha", "learning_rate_init"):
        value = getattr(estimator, name, None)
        if value is not None and not abs(float(value)) <= limit:
            raise ValueError(
                f"{name}={value!r} overflows the network's dtype {str(dtype).replace('torch.', '')} "
                f"(largest value {limit:.3g})."
            )


def _check_within_dtype(X: np.ndarray, dtype: torch.dtype) -> None:
    """Refuse finite values that the network's dtype would turn into inf.

    Validation accepts any finite float64, but a float32 network sees X cast to
    float32, where |x| > 3.4e38 is inf and the outputs NaN.
    """
    if dtype != torch.float32 or X.dtype == np.float32 or X.size == 0:
        return
    limit = float(np.finfo(np.float32).max)
    if X.max() > limit or X.min() < -limit:
        raise ValueError(
            f"Input X contains values beyond the range of float32 (|x| > {limit:.3g}), the "
            "dtype the network computes in. Scale X, or pass dtype='float64'."
        )


def make_optimizer_factory(
    solver: str,
    learning_rate: float,
    *,
    momentum: float = 0.0,
    nesterov: bool = False,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
):
    """``groups -> optimizer`` for ``solver`` "sgd" or "adam" (the loop builds it)."""
    if solver == "sgd":
        nesterov = bool(nesterov and momentum > 0)
        return lambda groups: torch.optim.SGD(
            groups, lr=learning_rate, momentum=momentum, nesterov=nesterov, foreach=True
        )
    # foreach: one fused call per parameter group instead of a Python loop over
    # tensors, which dominates the step of small networks on the CPU.
    return lambda groups: torch.optim.Adam(
        groups, lr=learning_rate, betas=betas, eps=eps, foreach=True
    )


def _store_parameters(estimator, arguments: dict) -> None:
    """``estimator.<name> = <name>`` for every argument of its ``__init__``.

    Called as ``_store_parameters(self, locals())`` first thing in ``__init__``:
    scikit-learn's rule is that ``__init__`` stores its arguments unchanged and does
    nothing else, and this states it once instead of 50 assignment lines per estimator.
    """
    for name, value in arguments.items():
        if name not in ("self", "__class__"):
            setattr(estimator, name, value)


@dataclass
class _FitData:
    """The validated, encoded data of one fit and where it trains (tensors made once)."""

    X: np.ndarray
    Y: np.ndarray
    sample_weight: np.ndarray | None
    device: torch.device
    dtype: torch.dtype
    seed: int
    target_tensor: Callable
    validation: tuple | None = None
    batch_size: int = 200
    _tensors: dict = field(default_factory=dict)

    @property
    def n_batches(self) -> int:
        return -(-self.X.shape[0] // self.batch_size)

    def hold_out(self, y, fraction: float, rng, stratified: bool) -> None:
        """Split a validation share off the training data (stratified for classifiers)."""
        sw = [] if self.sample_weight is None else [self.sample_weight]
        split = train_test_split(
            self.X, self.Y, *sw, test_size=fraction, random_state=rng,
            stratify=y if stratified else None,
        )
        self.X, X_val, self.Y, Y_val = split[:4]
        sw_val = None
        if self.sample_weight is not None:
            self.sample_weight, sw_val = split[4], split[5]
        if X_val.shape[0] < 2:
            raise ValueError(
                "The validation set is too small: increase validation_fraction or "
                "the number of samples."
            )
        self.validation = (X_val, Y_val, sw_val)

    def _as_tensors(self, key: str, arrays) -> tuple | None:
        if arrays is None:
            return None
        if key not in self._tensors:
            X, Y, sw = arrays
            self._tensors[key] = (
                to_tensor(X, self.dtype, self.device),
                self.target_tensor(Y, self.dtype, self.device),
                None if sw is None else to_tensor(sw, torch.float64, self.device),
            )
        return self._tensors[key]

    def tensors(self) -> tuple:
        """``(X, Y, sample_weight)`` of the training data on the device."""
        return self._as_tensors("train", (self.X, self.Y, self.sample_weight))

    def validation_tensors(self) -> tuple | None:
        return self._as_tensors("validation", self.validation)


class NeuralNetMixin:
    """Fit/predict machinery shared by the estimators; subclasses declare parameters.

    A subclass (with a ``*Mixin`` for the task) provides ``_make_strategy(resume)``
    and, through the task mixin, ``_encode_targets``, ``_per_sample_loss`` and
    ``_default_output_activation``.
    """

    #: True when the number of epochs is the method's schedule, not a cap (CPNA):
    #: reaching it is no reason for a ConvergenceWarning.
    _fixed_budget = False

    _common_constraints: dict = {
        "module": [StrOptions(set(BUILTIN_MODULES)), callable],
        "module_params": [dict, None],
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions({"relu", "tanh", "logistic", "lecun_tanh", "identity"})],
        "output_activation": [
            StrOptions({"auto", "relu", "tanh", "logistic", "lecun_tanh", "identity"})
        ],
        "init": [StrOptions({"auto", "paper", "glorot", "torch"})],
        "image_shape": ["array-like", None],
        "solver": [StrOptions({"sgd", "adam"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "learning_rate": [StrOptions({"constant", "step"})],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "lr_step_epochs": [Interval(Integral, 1, None, closed="left")],
        "lr_step_factor": [Interval(Real, 0, 1, closed="right")],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "device": [str],
        "dtype": [StrOptions(set(_DTYPES))],
        "stopping": [StrOptions({"convergence", "random"}), "array-like"],
        "record_grad_norm": ["boolean"],
    }

    # ------------------------------------------------------------------ params
    def get_params(self, deep: bool = True) -> dict:
        """Parameters of this estimator; with ``deep``, also ``module__<name>`` entries."""
        params = super().get_params(deep=deep)
        if deep and isinstance(getattr(self, "module_params", None), dict):
            params.update({f"module__{k}": v for k, v in self.module_params.items()})
        return params

    def set_params(self, **params):
        """Set parameters; ``module__<name>=v`` sets ``module_params[name] = v``.

        This is what lets ``GridSearchCV`` tune arguments of a user's own module.
        """
        nested = {k[len("module__") :]: params.pop(k) for k in list(params) if k.startswith("module__")}
        if nested:
            self.module_params = {**(self.module_params or {}), **nested}
        return super().set_params(**params)

    # ------------------------------------------------------------------ module
    def _module_arguments(self, n_features: int, n_outputs: int) -> dict:
        """Everything build_module needs; kept so a pickle can rebuild the module."""
        output_activation = (
            self._default_output_activation()
            if self.output_activation == "auto"
            else self.output_activation
        )
        params: dict = {}
        if self.module == "mlp":
            params = dict(
                hidden_layer_sizes=_layer_sizes(self.hidden_layer_sizes),
                activation=self.activation,
                output_activation=output_activation,
                init=self.init,
            )
        elif isinstance(self.module, str) and self.module.startswith("lenet"):
            params = dict(
                image_shape=self._image_shape(n_features),
                activation=self.activation,
                output_activation=output_activation,
                init=self.init,
            )
        params.update(self.module_params or {})
        return dict(module=self.module, n_features=n_features, n_outputs=n_outputs, params=params)

    def _image_shape(self, n_features: int) -> tuple[int, int, int]:
        if self.image_shape is not None:
            return tuple(int(s) for s in self.image_shape)
        if getattr(self, "_fit_image_shape", None) is not None:
            return self._fit_image_shape
        side = int(round(np.sqrt(n_features)))
        if side * side != n_features:
            raise ValueError(
                f"module={self.module!r} needs images; {n_features} features are not a "
                "square single-channel image: set image_shape=(channels, height, width)."
            )
        return (1, side, side)

    @staticmethod
    def _build(args: dict, device: torch.device, dtype: torch.dtype) -> torch.nn.Module:
        module = build_module(args["module"], args["n_features"], args["n_outputs"], **args["params"])
        use_generator_dropout_(module)  # a user module's dropout draws from the fit's generator
        return module.to(device=device, dtype=dtype)

    def _make_optimizer_factory(self):
        return make_optimizer_factory(
            self.solver,
            self.learning_rate_init,
            momentum=self.momentum,
            nesterov=self.nesterovs_momentum,
            betas=(self.beta_1, self.beta_2),
            eps=self.epsilon,
        )

    # --------------------------------------------------------------------- fit
    def _validate_training_data(self, X, y, sample_weight, reset: bool):
        """Validate X, y and sample_weight the scikit-learn way (images flattened).

        Returns ``(X, y, sample_weight, image_shape)``; uniform weights become None,
        which makes a weighted fit with equal weights exactly the unweighted one.
        """
        X, image_shape = _flatten_images(X)
        X, y = validate_data(
            self,
            X,
            y,
            reset=reset,
            dtype=[np.float64, np.float32],
            multi_output=not self._is_classifier_task,
            y_numeric=not self._is_classifier_task,
        )
        _check_within_dtype(X, _DTYPES[self.dtype])
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=np.float64, ensure_non_negative=True
            )
            if not np.any(sample_weight > 0):
                raise ValueError("sample_weight must have at least one positive entry.")
            if np.all(sample_weight == sample_weight[0]):
                sample_weight = None  # uniform weights: exactly the unweighted fit
        return X, y, sample_weight, image_shape

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False  # same random_state, same model on CPU
        tags.input_tags.allow_nan = False
        return tags

    def _fit(
        self, X, y, sample_weight=None, X_val=None, y_val=None, sample_weight_val=None,
        *, callbacks=(), incremental: bool = False, classes=None,
    ):
        """Validate, encode, build (or continue) the module and train it with the loop.

        ``incremental`` is ``partial_fit``: one pass over the given data, continuing
        the fitted network, strategy and optimizer state; ``classes`` the labels of
        a first call. ``callbacks`` run after the estimator's own. Subclasses steer
        it through small hooks: ``_make_strategy``, ``_holdout_fraction``,
        ``_init_module``, ``_monitors``, ``_max_epochs`` and ``_record_history``.
        """
        continues = hasattr(self, "module_") and (incremental or getattr(self, "warm_start", False))
        with keep_fitted_state_on_error(self, in_place=continues):
            return self._fit_in_place(
                X, y, sample_weight, X_val, y_val, sample_weight_val,
                callbacks=callbacks, incremental=incremental, classes=classes,
            )

    def _fit_in_place(
        self, X, y, sample_weight, X_val, y_val, sample_weight_val, *, callbacks, incremental, classes
    ):
        fitted = hasattr(self, "module_")
        reset = not (fitted and (incremental or getattr(self, "warm_start", False)))
        data = self._prepare_data(
            X, y, sample_weight, X_val, y_val, sample_weight_val, reset, incremental, classes
        )
        with seeded_global_rng(data.seed):  # the build's draws; the caller's RNG untouched
            strategy, optimizer = self._network_and_state(data, reset)
            generator = training_generator(data.device, data.seed)
        with torch_thread_limit(), using_generator(generator):
            tensors = data.tensors()
            pretrain_stop = self._pretrain(tensors[0], tensors[2], data.batch_size, data.seed) if reset else None
            max_iter = 1 if incremental else self._max_epochs(strategy)
            stop_after = None if incremental else self._random_stopping_steps(max_iter * data.n_batches, data.seed)
            if stop_after is not None:
                max_iter = max(1, -(-stop_after // data.n_batches))
            if pretrain_stop == "interrupted":  # Ctrl-C in pretraining: keep what it made
                max_iter, stop_after = 0, None
            loop_callbacks = self._loop_callbacks(data, stop_after, incremental) + list(callbacks)
            history = train(
                self.module_, self._per_sample_loss(strategy.error_dtype), strategy, *tensors[:2], optimizer,
                sample_weight=tensors[2], max_iter=max_iter, batch_size=data.batch_size,
                shuffle=self.shuffle, generator=torch.Generator().manual_seed(data.seed),
                callbacks=loop_callbacks,
            )
        if pretrain_stop == "interrupted":
            history.stop_reason = "interrupted"
        self._strategy_, self._optimizer_ = strategy, optimizer
        self._record_history(history, strategy, reset)
        check_finite_module(self.module_, type(self).__name__)
        if not incremental:
            self._warn_on_stop(history)
        return self

    def _prepare_data(
        self, X, y, sample_weight, X_val, y_val, sample_weight_val, reset, incremental, classes
    ) -> "_FitData":
        """Validated, encoded and split data, the seed, the device and the batch size."""
        X, y, sample_weight, image_shape = self._validate_training_data(X, y, sample_weight, reset)
        if not incremental:
            self._stopping_pmf(warn=False)  # a bad stopping setting fails before training
        if reset:
            self._fit_image_shape = image_shape
        Y, n_outputs = self._encode_targets(y, sample_weight, reset=reset, classes=classes)
        self.n_outputs_ = n_outputs
        _check_hyperparameters_fit_dtype(self, _DTYPES[self.dtype])
        rng = check_random_state(self.random_state)
        data = _FitData(
            X=X, Y=Y, sample_weight=sample_weight, device=resolve_device(self.device),
            dtype=_DTYPES[self.dtype], seed=int(rng.randint(np.iinfo(np.int32).max)),
            target_tensor=self._target_tensor,
        )
        if X_val is not None or y_val is not None:
            if X_val is None or y_val is None:
                raise ValueError("Pass both X_val and y_val, or neither.")
            X_val, y_val, sample_weight_val, _ = self._validate_training_data(
                X_val, y_val, sample_weight_val, reset=False
            )
            Y_val, _ = self._encode_targets(y_val, sample_weight_val, reset=False)
            data.validation = (X_val, Y_val, sample_weight_val)
        elif self._holdout_fraction() is not None and not incremental:
            data.hold_out(y, self._holdout_fraction(), rng, self._is_classifier_task)
        n_samples = data.X.shape[0]
        batch_size = min(200, n_samples) if self.batch_size == "auto" else self.batch_size
        data.batch_size = max(1, min(batch_size, n_samples))
        return data

    def _network_and_state(self, data: "_FitData", reset: bool):
        """A fresh module, strategy and optimizer, or the fitted ones to continue."""
        if reset:
            self._module_args_ = self._module_arguments(data.X.shape[1], self.n_outputs_)
            self.module_ = self._build(self._module_args_, data.device, data.dtype)
            self._init_module(self.module_)
            strategy, optimizer = self._make_strategy(), None
        else:
            place = self._module_place()
            self.module_.to(device=data.device, dtype=data.dtype)
            self._continue_module()
            strategy = getattr(self, "_strategy_", None) or self._make_strategy(resume=True)
            optimizer = getattr(self, "_optimizer_", None)
            if place != (data.device, data.dtype):
                optimizer = None  # its state lives on the old device
        if optimizer is None:
            # Weight decay is the WeightDecay callback: one parameter group, one
            # multi-tensor optimizer pass per step.
            groups = param_groups(self.module_, strategy.extra_parameters())
            optimizer = self._make_optimizer_factory()(groups)
        else:
            self._update_optimizer(optimizer)
        return strategy, optimizer

    def _update_optimizer(self, optimizer) -> None:
        """Continue with the optimizer's state but the current hyperparameters."""
        for group in optimizer.param_groups:
            group["lr"] = self.learning_rate_init

    def _continue_module(self) -> None:
        """Prepare the fitted module for a continued fit (RVSM restores its dense w)."""

    def _max_epochs(self, strategy) -> int:
        """Epochs of one fit (CPNA: its schedule's length)."""
        return self.max_iter

    def _loop_callbacks(self, data: "_FitData", stop_after, incremental: bool) -> list:
        """Monitors, then convergence or random stopping, learning-rate steps, the
        best weights, gradient norms and the progress bar, from the parameters."""
        callbacks = list(self._monitors(data.tensors(), data.validation_tensors()))
        validated = bool(callbacks)
        early = bool(getattr(self, "early_stopping", False)) and validated and not incremental
        if stop_after is not None:
            callbacks.append(RandomStopping(stop_after))
        elif not (incremental or self._fixed_budget):  # CPNA: its schedule is the budget
            test = EarlyStopping if early else Convergence
            callbacks.append(test(tol=self.tol, n_iter_no_change=self.n_iter_no_change))
        if getattr(self, "learning_rate", "constant") == "step":
            callbacks.append(LearningRateSteps(self.lr_step_epochs, self.lr_step_factor))
        callbacks.append(BestWeights(restore=early and stop_after is None))
        if self.record_grad_norm:
            callbacks.append(GradientNormRecorder())
        if self.alpha > 0:  # after every other gradient hook: norms exclude the penalty
            decay = [p for n, p in self.module_.named_parameters() if not n.endswith("bias")]
            callbacks.append(WeightDecay(decay, self.alpha))
        if self.verbose:
            callbacks.append(ProgressBar())
        return callbacks

    def _random_stopping_steps(self, n_iter: int, seed: int) -> int | None:
        """Draw ``R ~ P_R`` for ``stopping="random"`` (or a pmf); None otherwise.

        Returns the number of optimizer steps to take, ``R − 1`` (``W^R`` is the
        iterate after ``R − 1`` steps, ``W¹`` the initialization), and sets
        ``stopping_iteration_``. ``"random"`` is ``Unif[1, N]`` with ``N = n_iter``,
        the steps of ``max_iter`` epochs: the distribution Theorems III.1 and IV.1 use for a
        constant step. R comes from its own generator seeded by ``random_state``:
        the same seed gives the same R and leaves every other draw unchanged.
        """
        from .convergence import draw_stopping_iteration

        pmf = self._stopping_pmf()
        if pmf is None:
            self.stopping_iteration_ = None
            return None
        if isinstance(pmf, str):  # "random"
            pmf = np.full(n_iter, 1.0 / n_iter)
        rng = np.random.default_rng([seed, 0x5709])  # its own stream (R only)
        r = int(draw_stopping_iteration(pmf, rng))
        self.stopping_iteration_ = r
        return r - 1

    def _stopping_pmf(self, warn: bool = True):
        """Check ``stopping`` before any work: None, "random" or the pmf as an array."""
        stopping = self.stopping
        if isinstance(stopping, str) and stopping == "convergence":
            return None
        if getattr(self, "early_stopping", False):
            raise ValueError(
                "stopping='random' (or a stopping pmf) returns the weights of the drawn "
                "iteration R; it cannot be combined with early_stopping=True."
            )
        if isinstance(stopping, str):  # "random"
            if warn and getattr(self, "learning_rate", "constant") != "constant":
                warnings.warn(
                    "stopping='random' draws R uniformly, the stopping distribution of a "
                    "constant step; with learning_rate='step' pass "
                    "stopping=skconvex.convergence.random_stopping_pmf(steps, lipschitz).",
                    UserWarning,
                )
            return stopping
        pmf = np.asarray(stopping, dtype=np.float64)
        if pmf.ndim != 1 or pmf.size == 0:
            raise ValueError(
                "stopping must be 'convergence', 'random' or a 1-D pmf over the "
                f"iterations 1..N; got an array of shape {pmf.shape}."
            )
        return _check_pmf(pmf)  # non-negative, finite, sums to 1

    def _pretrain(self, X, sample_weight, batch_size: int, seed: int) -> str | None:
        """Unsupervised pretraining of a fresh module before training (GDC's).

        Returns the stop reason of its last run ("interrupted" skips training).
        """
        return None

    # Hooks of _fit; the defaults are those of the GDC estimators.
    def _holdout_fraction(self) -> float | None:
        """Share of the training data held out for validation (None: no hold-out)."""
        return self.validation_fraction if self.early_stopping else None

    def _init_module(self, module: torch.nn.Module) -> None:
        """Prepare a freshly built module (CPNA adds its masks here)."""

    def _monitors(self, training, validation) -> list:
        """Callbacks that score the network after every epoch (higher is better).

        ``training`` and ``validation`` are ``(X, Y, sample_weight)`` tensors;
        ``validation`` is None without validation data. The default scores the
        validation data (accuracy or R²) for early stopping.
        """
        if validation is None:
            return []
        return [ValidationScore(self._validation_scorer(*validation))]

    def _extend_curve(self, name: str, values, reset: bool) -> None:
        """Set ``self.<name>`` to ``values``, appended to the old curve on a warm start."""
        old = getattr(self, name, None)
        old = [] if reset or old is None else list(old)
        setattr(self, name, old + list(values))

    def _record_history(self, history, strategy, reset: bool) -> None:
        self._extend_curve("loss_curve_", history.loss, reset)
        self._extend_curve("training_error_curve_", history.mean_error, reset)
        self._extend_curve("stage_curve_", history.stage, reset)
        if getattr(self, "early_stopping", False):
            self._extend_curve("validation_scores_", history.validation_scores, reset)
            self.best_validation_score_ = max(self.validation_scores_) if self.validation_scores_ else None
        else:
            self.validation_scores_ = None
            self.best_validation_score_ = None
        self.best_loss_ = min(self.training_error_curve_) if self.training_error_curve_ else None
        self.n_iter_ = history.n_iter if reset else getattr(self, "n_iter_", 0) + history.n_iter
        if self.record_grad_norm:
            self._extend_curve("grad_norm_curve_", history.grad_norm, reset)
        else:
            self.grad_norm_curve_ = None
        self.stage_ = strategy.stage
        self.stop_reason_ = history.stop_reason

    def _warn_on_stop(self, history) -> None:
        reason = history.stop_reason
        if reason == "diverged":
            warnings.warn(
                "Training diverged (non-finite loss or weights) at epoch "
                f"{history.n_iter}; stopped and restored the best weights (epoch "
                f"{history.best_epoch + 1}). Lower learning_rate_init (or lambda_init for GDC).",
                ConvergenceWarning,
            )
        elif reason == "interrupted":
            warnings.warn(
                f"Training interrupted after {history.n_iter} epochs; the best weights "
                f"(epoch {history.best_epoch + 1}) were kept and the estimator is usable.",
                UserWarning,
            )
        elif reason == "max_iter" and not getattr(self, "early_stopping", False) and not self._fixed_budget:
            warnings.warn(
                f"Stochastic optimizer: maximum iterations ({self.max_iter}) reached "
                "and the optimization hasn't converged yet.",
                ConvergenceWarning,
            )

    # ------------------------------------------------ post-fit steps (pruning)
    def _module_place(self) -> tuple[torch.device, torch.dtype]:
        param = next(self.module_.parameters(), None)
        if param is None:
            return torch.device("cpu"), torch.float32
        return param.device, param.dtype

    def _training_tensors(self, X, y, sample_weight=None):
        """``(X, Y, sample_weight)`` validated against the fitted model, encoded as in
        ``fit``, as tensors on the module's device (for post-fit steps such as pruning).
        """
        check_is_fitted(self, "module_")
        X, y, sample_weight, _ = self._validate_training_data(X, y, sample_weight, reset=False)
        Y, _ = self._encode_targets(y, sample_weight, reset=False)
        device, dtype = self._module_place()
        swt = None if sample_weight is None else to_tensor(sample_weight, torch.float64, device)
        return to_tensor(X, dtype, device), self._target_tensor(Y, dtype, device), swt

    def _retrain(
        self,
        X,
        Y,
        sample_weight=None,
        *,
        epochs: int,
        optimizer_factory,
        validation_score=None,
        restore_best: bool = False,
        seed: int = 0,
    ):
        """Train ``module_`` further for ``epochs`` epochs on the mean per-sample error.

        ``X, Y, sample_weight`` come from :meth:`_training_tensors`. The λ schedule
        is not resumed: retraining after pruning minimizes the plain criterion (SSE or
        cross-entropy) with its own optimizer, no weight decay and no learning-rate
        decay. Masks stay enforced by the loop. Returns the loop's History; the
        estimator's own curves are left as they are.
        """
        batch_size = min(200, len(X)) if self.batch_size == "auto" else self.batch_size
        callbacks = [] if validation_score is None else [ValidationScore(validation_score)]
        callbacks.append(BestWeights(restore=restore_best))  # runs `epochs` epochs: no convergence test
        # The fitted optimizer's state belongs to the network before the change.
        self.__dict__.pop("_optimizer_", None)
        dropout = torch.Generator(device=X.device).manual_seed(seed)
        with torch_thread_limit(), using_generator(dropout):
            return train(
                self.module_,
                self._per_sample_loss(MeanLoss.error_dtype),
                MeanLoss(),
                X,
                Y,
                optimizer_factory,
                sample_weight=sample_weight,
                max_iter=epochs,
                batch_size=batch_size,
                shuffle=self.shuffle,
                generator=torch.Generator().manual_seed(seed),
                callbacks=callbacks,
            )

    # ----------------------------------------------------------------- predict
    def _validate_predict_X(self, X) -> np.ndarray:
        """validate_data(reset=False), with a fast path for clean float arrays.

        Prediction must be cheap (a 450-row batch in well under a millisecond). A
        2-d float ndarray of the right width whose sum is finite (so no NaN or inf)
        needs no conversion; anything else, including every error case, goes
        through scikit-learn's validation and its messages.
        """
        X, _ = _flatten_images(X)
        if (
            type(X) is np.ndarray
            and X.ndim == 2
            and X.dtype in (np.float32, np.float64)
            and X.shape[0] > 0
            and X.shape[1] == self.n_features_in_
            and not hasattr(self, "feature_names_in_")
            and np.isfinite(X.sum())
        ):
            X_checked = X
        else:
            X_checked = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        _check_within_dtype(X_checked, self._module_place()[1])
        return X_checked

    def _forward(self, X, numpy: bool = True):
        """Network outputs for X (one pass per chunk, no DataLoader).

        Returns a float64 numpy array, or with ``numpy=False`` the torch tensor.
        """
        check_is_fitted(self, "module_")
        X = self._validate_predict_X(X)
        module = self.module_
        param = next(module.parameters(), None)
        device = param.device if param is not None else torch.device("cpu")
        dtype = param.dtype if param is not None else torch.float32
        with torch_thread_limit(), torch.inference_mode():
            outs = [
                module(to_tensor(X[i : i + _PREDICT_CHUNK], dtype, device))
                for i in range(0, X.shape[0], _PREDICT_CHUNK)
            ]
        out = outs[0] if len(outs) == 1 else torch.cat(outs)
        return out.to(torch.float64).cpu().numpy() if numpy else out

    # -------------------------------------------------------------- persistence
    def __getstate__(self):
        state = super().__getstate__()
        # The optimizer and the strategy hold tensors tied to module_ and its device:
        # a warm start after loading rebuilds them from the fitted attributes.
        state = {k: v for k, v in state.items() if k not in ("_optimizer_", "_strategy_")}
        if "module_" in state:
            # CPU numpy arrays only: loads without CUDA, and skops can check it.
            state = dict(state)
            module = state.pop("module_")
            state["_module_state_"] = {
                k: v.detach().cpu().numpy() for k, v in module.state_dict().items()
            }
            param = next(module.parameters(), None)
            state["_module_dtype_"] = str(param.dtype).replace("torch.", "") if param is not None else "float32"
        state["_skconvex_version"] = __version__
        return state

    def __setstate__(self, state):
        state = dict(state)
        version = state.pop("_skconvex_version", None)
        if version != __version__:
            warnings.warn(
                InconsistentVersionWarning(type(self).__name__, version, __version__)
            )
        module_state = state.pop("_module_state_", None)
        module_dtype = state.pop("_module_dtype_", "float32")
        if module_state is not None:  # shapes against _module_args_; nothing built before
            check_module_state(type(self).__name__, state, module_state, module_dtype)
        super().__setstate__(state)
        if module_state is not None:
            device = resolve_device(self.device, fitting=False)
            with seeded_global_rng(0):  # building draws initial weights (overwritten)
                module = self._build(self._module_args_, torch.device("cpu"), _DTYPES[module_dtype])
            register_mask_buffers(module, module_state)  # a pruned module's masks
            module.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in module_state.items()})
            self.module_ = module.to(device).eval()

"""Task mixins: target encoding for training and decoding for prediction.

``NeuralClassifierMixin`` (labels of any kind, ±1 codes or class indices) and
``NeuralRegressorMixin`` (targets scaled to [−1, 1] per output) complete
:class:`skconvex._base.NeuralNetMixin` for one task each.
"""

from __future__ import annotations

import functools

import numpy as np
import torch
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import column_or_1d

from . import criteria
from ._device import to_tensor

__all__ = [
    "IncrementalClassifierMixin",
    "IncrementalRegressorMixin",
    "NeuralClassifierMixin",
    "NeuralRegressorMixin",
]


_SCORE_CHUNK = 8192  # rows per forward pass of a validation scorer (memory bound)


def _outputs_in_chunks(module, X):
    """``module(X)`` in chunks, without autograd (validation sets can be large)."""
    with torch.no_grad():
        return torch.cat([module(X[i : i + _SCORE_CHUNK]) for i in range(0, len(X), _SCORE_CHUNK)])


class NeuralClassifierMixin:
    """Target encoding and decoding for classifiers (``classes_`` of any label type)."""

    _is_classifier_task = True

    def _default_output_activation(self) -> str:
        # The paper: scaled tanh outputs against ±1 codes; logits for cross-entropy.
        return "lecun_tanh" if self.criterion == "sse" else "identity"

    def _encode_targets(self, y, sample_weight, reset, classes=None):
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        if reset:
            labels = y if classes is None else np.asarray(classes)
            self.classes_ = LabelEncoder().fit(labels).classes_
        if (not reset or classes is not None) and not np.isin(np.unique(y), self.classes_).all():
            raise ValueError(
                "A fitted classifier cannot learn new classes (warm_start, pruning): "
                "y has labels not in classes_ "
                f"{self.classes_.tolist()}."
            )
        if len(self.classes_) < 2:
            raise ValueError(
                "Classifier can't train when only one class is present: "
                f"y contains only {self.classes_[0]!r}."
            )
        idx = np.searchsorted(self.classes_, y)
        return idx, len(self.classes_)

    def _target_tensor(self, idx, dtype, device):
        if self.criterion == "sse":
            codes = -np.ones((len(idx), len(self.classes_)))
            codes[np.arange(len(idx)), idx] = 1.0
            # float64 like the errors computed from them: no cast per step.
            return to_tensor(codes, torch.float64, device)
        return torch.as_tensor(idx, dtype=torch.long, device=device)

    def _per_sample_loss(self, dtype: torch.dtype | None = torch.float64):
        loss = {
            "sse": criteria.squared_errors,
            "cross_entropy": criteria.cross_entropy_errors,
            "true_class_squared": criteria.true_class_squared_errors,
        }[self.criterion]
        return _in_dtype(loss, dtype)

    def _validation_scorer(self, X_val, Y_val, sample_weight=None):
        target = Y_val.argmax(dim=1) if Y_val.dim() == 2 else Y_val

        def accuracy(module):
            with torch.no_grad():
                hit = (_outputs_in_chunks(module, X_val).argmax(dim=1) == target).double()
                if sample_weight is None:
                    return float(hit.mean())
                return float((hit * sample_weight).sum() / sample_weight.sum())

        return accuracy

    def _regression_view(self, Y):
        """How the paper's P(w) reads this classifier: ``(output map, float targets)``.

        P is the mean squared distance between the mapped outputs and the targets:
        the ±1 codes for ``criterion="sse"``, else softmax probabilities against
        one-hot rows.
        """
        if self.criterion == "sse":
            return None, Y
        onehot = torch.nn.functional.one_hot(Y, len(self.classes_)).to(torch.float64)
        return (lambda out: torch.softmax(out, dim=1)), onehot

    def _proba_from_outputs(self, out: np.ndarray) -> np.ndarray:
        if self.criterion == "sse":
            # Outputs estimate the ±1 codes, E[y_j | x] = 2 P(j | x) − 1, so
            # P ≈ (o + 1)/2; negative parts are cut and rows renormalized. Rows with
            # every output ≤ −1 fall back to a softmax so argmax stays consistent.
            q = np.maximum((out + 1.0) / 2.0, 0.0)
            total = q.sum(axis=1, keepdims=True)
            soft = np.exp(out - out.max(axis=1, keepdims=True))
            soft /= soft.sum(axis=1, keepdims=True)
            return np.where(total > 0, q / np.where(total > 0, total, 1.0), soft)
        out = out - out.max(axis=1, keepdims=True)
        p = np.exp(out)
        return p / p.sum(axis=1, keepdims=True)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, columns in the order of ``classes_``.

        With ``criterion="sse"`` they are read off the ±1 output codes (see the user
        guide); with the cross-entropy criteria they are the softmax of the outputs.
        """
        return self._proba_from_outputs(self._forward(X))

    def predict_log_proba(self, X) -> np.ndarray:
        """Logarithm of :meth:`predict_proba`."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def decision_function(self, X) -> np.ndarray:
        """Network outputs; for two classes the score of ``classes_[1]`` (shape (n,)).

        For ``criterion="sse"`` the binary score is ``p₁ − p₀`` of :meth:`predict_proba`
        (so that it ranks samples as the probabilities do), otherwise the logit
        difference.
        """
        out = self._forward(X)
        if out.shape[1] != 2:
            return out
        if self.criterion == "sse":
            p = self._proba_from_outputs(out)
            return p[:, 1] - p[:, 0]
        return out[:, 1] - out[:, 0]

    def predict(self, X) -> np.ndarray:
        """Predicted labels (values of ``classes_``)."""
        # argmax of the outputs is argmax of predict_proba (both maps are monotone).
        out = self._forward(X, numpy=False)
        return self.classes_[out.argmax(dim=1).cpu().numpy()]


def _in_dtype(loss, dtype: torch.dtype | None):
    """``loss`` computing its errors in ``dtype`` (the criteria's default is float64)."""
    return loss if dtype == torch.float64 else functools.partial(loss, dtype=dtype)


class NeuralRegressorMixin:
    """Targets scaled to [−1, 1] per output (as in the paper) and scaled back."""

    _is_classifier_task = False
    #: False trains on the raw targets (RVSM's no-overlap network has no output bias
    #: and non-negative outputs, so it cannot fit targets centred at zero).
    _scale_targets = True

    def _default_output_activation(self) -> str:
        return "identity"

    def _encode_targets(self, y, sample_weight, reset, classes=None):
        y = np.asarray(y, dtype=np.float64)
        self._y_was_1d = y.ndim == 1 if reset else self._y_was_1d
        Y = y.reshape(len(y), -1)
        if reset:
            # Range over samples that carry weight, so zero weights act as removal.
            ref = Y if sample_weight is None else Y[sample_weight > 0]
            low, high = ref.min(axis=0), ref.max(axis=0)
            half = (high - low) / 2.0
            self._y_center = low + half
            self._y_half_range = np.where(half > 0, half, 1.0)
            if not self._scale_targets:
                self._y_center = np.zeros_like(self._y_center)
                self._y_half_range = np.ones_like(self._y_half_range)
        elif Y.shape[1] != len(self._y_center):
            raise ValueError(
                f"y has {Y.shape[1]} outputs but the model was fitted with {len(self._y_center)}."
            )
        return (Y - self._y_center) / self._y_half_range, Y.shape[1]

    def _target_tensor(self, Y, dtype, device):
        # float64 like the errors computed from them: no cast per step.
        return to_tensor(Y, torch.float64, device)

    def _per_sample_loss(self, dtype: torch.dtype | None = torch.float64):
        return _in_dtype(criteria.squared_errors, dtype)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.regressor_tags.poor_score = False
        return tags

    def _validation_scorer(self, X_val, Y_val, sample_weight=None):
        # R² is invariant to the per-output affine scaling of the targets.
        w = torch.ones(len(Y_val), 1, dtype=torch.float64, device=Y_val.device)
        if sample_weight is not None:
            w = sample_weight.reshape(-1, 1).to(torch.float64)

        def r2(module):
            with torch.no_grad():
                pred = _outputs_in_chunks(module, X_val).reshape(Y_val.shape).double()
                target = Y_val.double()
                mean = (w * target).sum(dim=0) / w.sum()
                ss_res = (w * (target - pred) ** 2).sum(dim=0)
                ss_tot = (w * (target - mean) ** 2).sum(dim=0)
                scores = torch.where(ss_tot > 0, 1 - ss_res / ss_tot, torch.zeros_like(ss_res))
                return float(scores.mean())

        return r2

    def _regression_view(self, Y):
        """``(output map, float targets)`` of the paper's P(w): outputs vs scaled targets."""
        return None, Y

    def predict(self, X) -> np.ndarray:
        """Predicted targets, in the units of ``y`` (1-d for a 1-d ``y``)."""
        out = self._forward(X).reshape(-1, len(self._y_center))
        pred = out * self._y_half_range + self._y_center
        return pred.ravel() if self._y_was_1d else pred


class IncrementalClassifierMixin:
    """``partial_fit`` for classifiers, with scikit-learn's semantics."""

    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """Train one pass over (X, y), continuing the fitted network and schedule.

        The λ schedule (or the splitting state), the optimizer's state and the
        network carry over between calls: data larger than memory trains chunk by
        chunk (by hand, or through dask-ml's ``Incremental``). Each call is one
        epoch of the schedule on that chunk; early stopping, convergence tests and
        random stopping do not apply (as in scikit-learn's MLP).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
        classes : array-like of shape (n_classes,), default=None
            Every label of the problem: required on the first call, may be omitted
            (or must be the same) afterwards.

        Returns
        -------
        self
        """
        first = not hasattr(self, "module_")
        if first and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit.")
        if not first and classes is not None:
            if not np.array_equal(self.classes_, np.unique(np.asarray(classes))):
                raise ValueError(
                    f"`classes={list(classes)!r}` is not the same as on last call to "
                    f"partial_fit, was: {list(self.classes_)!r}"
                )
        if first:
            self._validate_params()
        return self._fit(X, y, sample_weight, incremental=True, classes=classes if first else None)


class IncrementalRegressorMixin:
    """``partial_fit`` for regressors, with scikit-learn's semantics."""

    def partial_fit(self, X, y, sample_weight=None):
        """Train one pass over (X, y), continuing the fitted network and schedule.

        The λ schedule (or the splitting state), the optimizer's state and the
        network carry over between calls: data larger than memory trains chunk by
        chunk (by hand, or through dask-ml's ``Incremental``). Each call is one
        epoch of the schedule on that chunk; early stopping, convergence tests and
        random stopping do not apply. The target scaling is set by the first call's
        targets.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self
        """
        if not hasattr(self, "module_"):
            self._validate_params()
        return self._fit(X, y, sample_weight, incremental=True)

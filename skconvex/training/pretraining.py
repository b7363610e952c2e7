"""Layer-wise pretraining of an MLP's hidden layers as box-constrained denoising autoencoders.

The interplay paper (Ithapu, Ravi & Singh, eq. 4) pretrains each hidden layer ``l`` of
an ``L``-layer network as a denoising autoencoder (DA) with tied weights,

    L(x; W) = ‖x − σ(Wᵀ σ(W (x * z)))‖²,   z_i ~ Bernoulli(ζ),   W ∈ [−w_m, w_m]^{d_l × d_{l−1}},

where ``ζ`` is the probability of *keeping* an input (``z_i = 0`` nullifies ``x_i``)
and the box is enforced by projected gradient steps: after every optimizer step ``W``
is clamped to ``[−w_m, w_m]`` (the Euclidean projection onto a box). Layer ``l`` is
trained on the clean representation ``h^{l−1}`` computed by the layers below it, which
are already pretrained (Vincent et al. 2010, stacked DAs); then the whole network is
fine-tuned on the supervised criterion, without the box.

What we add to eq. 4, as Vincent et al. do: the layer's own bias in the encoder (so
the representation pretrained is the one the network computes) and a decoder bias
``c`` that is discarded afterwards. The encoder uses the network's hidden activation;
the decoder uses, for the first layer, the logistic function when the inputs lie in
[0, 1] (the paper's inputs) and the identity otherwise, and for higher layers the
activation that produced their inputs, so that the reconstruction can reach its target. The box holds ``W`` only.

Every layer trains through the one loop (:func:`~skconvex.training.train`), so
minibatching, the optimizer, gradient-norm recording and Ctrl-C work as for
supervised training. Nothing here imports scikit-learn.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from ..criteria import squared_errors
from ..nn.activations import ACTIVATIONS, make_activation
from ..nn.randomness import current_generator
from .callbacks import GradientNormRecorder, ProgressBar
from .loop import History, train
from .strategies import MeanLoss

__all__ = ["BoxProjection", "DenoisingAutoencoder", "pretrain_denoising"]


class DenoisingAutoencoder(nn.Module):
    """Tied-weight denoising autoencoder around an existing ``nn.Linear`` (eq. 4).

    ``x̃ = x * z`` with ``z_i ~ Bernoulli(keep_probability)`` in training mode (no
    corruption in evaluation mode, and no rescaling: eq. 4 nullifies inputs), then
    ``h = σ_h(W x̃ + b)`` and ``x̂ = σ_v(Wᵀ h + c)``. ``W`` and ``b`` are the
    encoder's own parameters, shared, so training this module trains the layer.

    Parameters
    ----------
    encoder : torch.nn.Linear
        The layer to pretrain (``W`` of shape ``(d_h, d_v)``).
    activation : str
        Hidden activation ``σ_h`` (a key of :data:`skconvex.nn.ACTIVATIONS`).
    output_activation : str
        Reconstruction activation ``σ_v``.
    keep_probability : float
        ``ζ ∈ (0, 1]``, the paper's denoising rate.

    Examples
    --------
    >>> import torch
    >>> _ = torch.manual_seed(0)
    >>> dae = DenoisingAutoencoder(torch.nn.Linear(6, 3), "logistic", "logistic", 0.8)
    >>> dae(torch.rand(5, 6)).shape
    torch.Size([5, 6])
    """

    def __init__(
        self, encoder: nn.Linear, activation: str, output_activation: str, keep_probability: float
    ) -> None:
        super().__init__()
        if not 0.0 < keep_probability <= 1.0:
            raise ValueError(f"keep_probability must be in (0, 1], got {keep_probability!r}.")
        self.encoder = encoder
        self.decoder_bias = nn.Parameter(
            torch.zeros(encoder.in_features, dtype=encoder.weight.dtype, device=encoder.weight.device)
        )
        self.activation = make_activation(activation)
        self.output_activation = make_activation(output_activation)
        self.keep_probability = float(keep_probability)

    def forward(self, x: Tensor) -> Tensor:
        if self.training and self.keep_probability < 1.0:
            keep = torch.full_like(x, self.keep_probability)
            x = x * torch.bernoulli(keep, generator=current_generator())
        h = self.activation(self.encoder(x))
        return self.output_activation(F.linear(h, self.encoder.weight.t(), self.decoder_bias))


class BoxProjection(MeanLoss):
    """Mean squared reconstruction error with projected steps onto ``[−w_m, w_m]``.

    After every optimizer step the constrained weights are clamped to the box. With
    ``learning_rate`` given, each step's gradient mapping ``(W_k − W_{k+1})/γ`` is
    recorded (over the constrained weights; in ``projected_grad_norm`` after
    :meth:`collect`, which syncs with the device once): for plain SGD
    it is exactly the projected gradient ``(W − P(W − γG))/γ`` whose expectation
    Theorem IV.1 bounds; with momentum or Adam it is the step taken, per unit of
    learning rate.

    Parameters
    ----------
    params : list of Tensor
        The constrained weights.
    box_bound : float
        ``w_m > 0``.
    learning_rate : float, optional
        ``γ``, to record the gradient mapping.

    Examples
    --------
    >>> import torch
    >>> w = torch.nn.Parameter(torch.tensor([-3.0, 0.5, 2.0]))
    >>> BoxProjection([w], box_bound=1.0).after_step(None)
    >>> w.data
    tensor([-1.0000,  0.5000,  1.0000])
    """

    def __init__(self, params: list[Tensor], box_bound: float, learning_rate: float | None = None):
        if not box_bound > 0:
            raise ValueError(f"box_bound must be positive, got {box_bound!r}.")
        self.params = list(params)
        self.box_bound = float(box_bound)
        self.learning_rate = learning_rate
        self.projected_grad_norm: list[float] = []
        self._norms: list[Tensor] = []  # 0-d tensors: one host sync at the end
        self._before: list[Tensor] | None = None

    @torch.no_grad()
    def project_(self) -> None:
        for p in self.params:
            p.clamp_(-self.box_bound, self.box_bound)

    def batch_loss(self, errors, idx, sample_weight, n_drawn=None) -> Tensor:
        if self.learning_rate is not None:
            self._before = [p.detach().clone() for p in self.params]
        return super().batch_loss(errors, idx, sample_weight, n_drawn)

    @torch.no_grad()
    def after_step(self, module) -> None:
        self.project_()
        if self._before is not None:
            sq = sum(((b - p) ** 2).sum() for b, p in zip(self._before, self.params))
            self._norms.append(torch.sqrt(sq) / self.learning_rate)
            self._before = None

    def collect(self) -> list[float]:
        """Move the recorded gradient-mapping norms to ``projected_grad_norm``."""
        if self._norms:
            self.projected_grad_norm += torch.stack(self._norms).cpu().tolist()
            self._norms = []
        return self.projected_grad_norm


def _reconstruction_activation(inputs: Tensor, below: str | None) -> str:
    """σ_v: for hidden codes the activation that produced them; for raw inputs the
    logistic function if they lie in [0, 1] (the paper's inputs), else the identity."""
    if below is not None:
        return below
    return "logistic" if bool(((inputs >= 0) & (inputs <= 1)).all()) else "identity"


@torch.no_grad()
def _encode(linear: nn.Linear, activation: nn.Module, X: Tensor, chunk: int = 4096) -> Tensor:
    return torch.cat([activation(linear(X[i : i + chunk])) for i in range(0, len(X), chunk)])


def pretrain_denoising(
    mlp: nn.Module,
    X: Tensor,
    optimizer_factory: Callable[[list[dict]], torch.optim.Optimizer],
    *,
    sample_weight: Tensor | None = None,
    keep_probability: float = 0.9,
    box_bound: float = 1.0,
    epochs: int = 10,
    batch_size: int = 200,
    seed: int = 0,
    learning_rate: float | None = None,
    record_grad_norm: bool = False,
    verbose: int = 0,
) -> list[dict]:
    """Pretrain every hidden layer of ``mlp`` as a box-constrained DA, bottom up (eq. 4).

    Parameters
    ----------
    mlp : skconvex.nn.MLP
        The network; its hidden layers' weights and biases are overwritten in place
        (the output layer is left as it is). Needs ``linears`` and ``activation``.
    X : Tensor of shape (n_samples, n_features)
        Training inputs, on the network's device and dtype.
    optimizer_factory : callable
        ``groups -> optimizer``, as for :func:`~skconvex.training.train`.
    sample_weight : Tensor of shape (n_samples,), optional
        Per-sample weights of the reconstruction error (float64), as in supervised
        training: integer weights act as repeated samples.
    keep_probability : float, default=0.9
        ``ζ``: each input of a layer is kept with this probability (Bernoulli).
    box_bound : float, default=1.0
        ``w_m``: every pretrained weight stays in ``[−w_m, w_m]``.
    epochs : int, default=10
        Passes over the data per layer.
    batch_size : int, default=200
    seed : int, default=0
        Seeds the shuffling of each layer (the corruption draws from torch's global
        generator, like dropout).
    learning_rate : float, optional
        The optimizer's step, to record the projected gradient's norm per step.
    record_grad_norm : bool, default=False
        Also record the raw minibatch gradient norms (as ``train`` does).
    verbose : int, default=0

    Returns
    -------
    list of dict
        One per hidden layer: ``loss_curve`` (mean reconstruction error per epoch,
        on the corrupted inputs seen in training), ``initial_loss`` (clean inputs,
        before pretraining), ``final_loss`` (clean inputs, after), ``grad_norm``
        and ``projected_grad_norm`` (per step; empty unless asked), ``stop_reason``.

    Examples
    --------
    >>> import torch
    >>> from skconvex.nn import MLP
    >>> from skconvex.training import pretrain_denoising
    >>> _ = torch.manual_seed(0)
    >>> net = MLP(8, 2, hidden_layer_sizes=(6, 4), activation="logistic")
    >>> X = torch.rand(64, 8)
    >>> sgd = lambda groups: torch.optim.SGD(groups, lr=0.5)
    >>> logs = pretrain_denoising(net, X, sgd, box_bound=0.3, epochs=5, batch_size=16)
    >>> len(logs), bool(net.linears[0].weight.abs().max() <= 0.3)
    (2, True)
    >>> logs[0]["final_loss"] < logs[0]["initial_loss"]
    True
    """
    linears = list(mlp.linears)[:-1]
    activation_name = _activation_name(mlp)
    inputs = X
    below = None  # the activation that produced `inputs` (None: raw data)
    logs = []
    for layer_index, linear in enumerate(linears):
        dae = DenoisingAutoencoder(
            linear, activation_name, _reconstruction_activation(inputs, below), keep_probability
        )
        strategy = BoxProjection([linear.weight], box_bound, learning_rate)
        strategy.project_()
        initial = _clean_loss(dae, inputs, sample_weight)
        history: History = train(
            dae,
            squared_errors,
            strategy,
            inputs,
            inputs,
            optimizer_factory,
            sample_weight=sample_weight,
            max_iter=epochs,
            batch_size=batch_size,
            generator=torch.Generator().manual_seed(seed + layer_index),
            # The given number of epochs: no convergence test.
            callbacks=_callbacks(verbose, record_grad_norm, layer_index),
        )
        logs.append(
            dict(
                loss_curve=list(history.loss),
                initial_loss=initial,
                final_loss=_clean_loss(dae, inputs, sample_weight),
                grad_norm=list(history.grad_norm),
                projected_grad_norm=list(strategy.collect()),
                stop_reason=history.stop_reason,
            )
        )
        if history.stop_reason == "interrupted":
            break
        inputs = _encode(linear, dae.activation, inputs)
        below = activation_name
    mlp.train(False)
    return logs


def _activation_name(mlp: nn.Module) -> str:
    """The name of the MLP's hidden activation (the DA's encoder uses the same)."""
    names = {cls: name for name, cls in ACTIVATIONS.items()}
    name = names.get(type(getattr(mlp, "activation", None)))
    if name is None or not hasattr(mlp, "linears"):
        raise ValueError(
            "Denoising pretraining needs the built-in 'mlp' module (skconvex.nn.MLP); "
            f"got {type(mlp).__name__}."
        )
    return name


@torch.no_grad()
def _clean_loss(
    dae: DenoisingAutoencoder, inputs: Tensor, sample_weight: Tensor | None = None, chunk: int = 4096
) -> float:
    """(Weighted) mean squared reconstruction error on uncorrupted inputs."""
    was_training = dae.training
    dae.eval()
    errors = torch.cat([
        squared_errors(dae(inputs[i : i + chunk]), inputs[i : i + chunk])
        for i in range(0, len(inputs), chunk)
    ])
    dae.train(was_training)
    if sample_weight is None:
        return float(errors.mean())
    return float((errors * sample_weight).sum() / sample_weight.sum())


def _callbacks(verbose: int, record_grad_norm: bool, layer_index: int) -> list:
    callbacks = []
    if record_grad_norm:
        callbacks.append(GradientNormRecorder())
    if verbose:
        callbacks.append(ProgressBar(desc=f"pretraining layer {layer_index + 1}"))
    return callbacks

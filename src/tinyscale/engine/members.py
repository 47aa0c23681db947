"""The runs a training job trains, as the loop's step sees them: one plain model (K = 1) or K seeds
stacked into one vmapped model, each from its own seed or starting weights, with its own
optimiser state and dropout stream; and the recipe's loss."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..families import build_model
from ..families.layers import dropout_masks, set_dropout_masks
from ..runs import Run
from .augment import augment
from .packing import PackedModels
from .recipes import Recipe
from .speed import FastPath
from .streams import dropout_generator


def make_optimizer(params, recipe: Recipe) -> torch.optim.Optimizer:
    """The recipe's optimiser over `params` (a module's parameters, or packed stacked ones): SGD, or
    Adam at the recipe's rate with torch's other defaults (the scale–time study's negative control)."""
    if recipe.optimizer == "adam":
        return torch.optim.Adam(params, lr=recipe.lr, weight_decay=recipe.weight_decay)
    if recipe.optimizer != "sgd":
        raise ValueError(f"recipe {recipe.name}: unknown optimizer {recipe.optimizer!r}; use sgd or adam")
    return torch.optim.SGD(
        params, lr=recipe.lr, momentum=recipe.momentum, weight_decay=recipe.weight_decay, nesterov=recipe.nesterov,
    )


def loss_of(logits: torch.Tensor, y: torch.Tensor, recipe: Recipe, reduction: str = "mean") -> torch.Tensor:
    """The recipe's loss: cross-entropy, or MSE on one-hot targets (mean over classes per sample).
    Token windows (logits B×T×V, targets B×T) score every position; a sample's loss is its mean."""
    if logits.dim() == 3:
        per_token = loss_of(logits.flatten(0, 1), y.flatten().long(), recipe, reduction="none").view(y.shape)
        return per_token.mean() if reduction == "mean" else per_token.mean(dim=1)
    if recipe.loss == "cross_entropy":
        return F.cross_entropy(logits, y, reduction=reduction, label_smoothing=recipe.label_smoothing)
    if recipe.loss == "mse":
        per_sample = (logits - F.one_hot(y, logits.shape[-1]).to(logits.dtype)).square().mean(dim=-1)
        return per_sample.mean() if reduction == "mean" else per_sample
    raise ValueError(f"recipe {recipe.name}: unknown loss {recipe.loss!r}")


def batch(train_x, draws, step: int, recipe: Recipe, aug_stats, dtype) -> tuple[torch.Tensor, torch.Tensor]:
    """(augmented images, indices) of batch `step` of one run's epoch draws; token windows (N×T) are
    fed as integers, unaugmented."""
    idx = draws.order[step * recipe.batch_size : (step + 1) * recipe.batch_size]
    if train_x.dim() == 2:
        return train_x[idx].long(), idx
    return augment(train_x[idx], draws, idx, recipe.augment, *aug_stats).to(dtype), idx


def build_member(run: Run, num_classes: int, in_channels: tuple, recipe: Recipe, device, dtype, init_state=None):
    """One run's model as training starts: from its seed, or from another run's final weights,
    with LSQ quantisers when the recipe quantises. `in_channels` is one example's shape."""
    torch.manual_seed(run.seed)  # initialisation comes from the seed alone
    model = build_model(run.family, run.width, num_classes, in_channels[0], in_channels).to(device, dtype)
    if init_state is not None:
        model.load_state_dict(init_state)
    if recipe.quantised:
        from ..quant import quantize_model

        model = quantize_model(model, recipe.weight_bits, recipe.act_bits, recipe.end_bits).to(device, dtype)
    return model


@torch.no_grad()
def prime_quantisers(model: torch.nn.Module, x: torch.Tensor) -> None:
    """Initialise a model's LSQ step sizes from the batch its first training step will see, and
    leave everything else as it was (BatchNorm statistics are put back).

    A single run initialises them in its first forward; a vmapped forward cannot (each model
    would need its own data-dependent branch), so packed runs do it here, before stacking, from
    the same batch: the steps start where the single run's start.
    """
    from torch.nn.modules.batchnorm import _BatchNorm

    saved = {m: [b.clone() for b in m.buffers()] for m in model.modules() if isinstance(m, _BatchNorm)}
    model.train()
    model(x)
    for m, buffers in saved.items():
        for b, old in zip(m.buffers(), buffers):
            b.copy_(old)


class Single:
    """One run as a plain module: the K = 1 case."""

    def __init__(self, runs: list[Run], num_classes: int, in_channels: tuple, recipe: Recipe, device, dtype,
                 compile_cache=None, init_states=None):
        (run,) = runs
        self.model = build_member(run, num_classes, in_channels, recipe, device, dtype, (init_states or [None])[0])
        self.opt = make_optimizer(self.model.parameters(), recipe)
        self.dropout_gens = [dropout_generator(run, device)]
        self.forward = FastPath(self.model, recipe, device, compile_cache)

    def step(self, train_x, train_y, draws, step, recipe, aug_stats, dtype) -> torch.Tensor:
        """One SGD step on batch `step` of the epoch's draws; the loss (on device, no sync) as a 1-vector."""
        (d,) = draws
        x, idx = batch(train_x, d, step, recipe, aug_stats, dtype)
        masks = dropout_masks(self.model, len(idx), self.dropout_gens[0])
        set_dropout_masks(self.model, {k: m.to(dtype) for k, m in masks.items()})
        loss = loss_of(self.forward(x), train_y[idx], recipe)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        return loss.detach().double().view(1)

    def models(self) -> list[torch.nn.Module]:
        return [self.model]

    def train_mode(self) -> None:
        self.model.train()

    def get_states(self) -> list[dict]:
        """Each run's weights and SGD momentum by parameter name (the resume-state format)."""
        momentum = {name: self.opt.state[p]["momentum_buffer"] for name, p in self.model.named_parameters()
                    if self.opt.state.get(p, {}).get("momentum_buffer") is not None}
        return [{"model": self.model.state_dict(), "momentum": momentum,
                 **_adam_states(self.opt, dict(self.model.named_parameters()), None)}]

    def set_state(self, k: int, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        for name, p in self.model.named_parameters():
            if name in state["momentum"]:
                self.opt.state[p]["momentum_buffer"] = state["momentum"][name].to(p.device, p.dtype).clone()
        _set_adam_states(self.opt, dict(self.model.named_parameters()), state, None)


class Packed:
    """K runs of one configuration stacked into one vmapped model: the K > 1 case."""

    def __init__(self, runs: list[Run], num_classes: int, in_channels: tuple, recipe: Recipe, device, dtype,
                 compile_cache=None, init_states=None, first_batches=None):
        init_states = init_states or [None] * len(runs)
        # Each seed's own initialisation (or starting weights), exactly as a single run.
        models = [build_member(r, num_classes, in_channels, recipe, device, dtype, s) for r, s in zip(runs, init_states)]
        if recipe.quantised:
            for model, x in zip(models, first_batches):
                prime_quantisers(model, x)
        self.packed = PackedModels(models)
        self.opt = make_optimizer(self.packed.params.values(), recipe)
        self.dropout_gens = [dropout_generator(r, device) for r in runs]

    def step(self, train_x, train_y, draws, step, recipe, aug_stats, dtype) -> torch.Tensor:
        """One SGD step of every packed model on its own batch; the K losses (on device)."""
        xs, idx = zip(*(batch(train_x, d, step, recipe, aug_stats, dtype) for d in draws))
        x, y = torch.stack(xs), torch.stack([train_y[i] for i in idx])
        masks = [dropout_masks(self.packed.models[0], len(idx[0]), g) for g in self.dropout_gens]
        stacked = {name: torch.stack([m[name] for m in masks]).to(dtype) for name in masks[0]}
        logits = self.packed(x, stacked)
        # Sum of the per-model mean losses: each model's gradient is its own loss's gradient.
        losses = loss_of(logits.flatten(0, 1), y.flatten(0, 1), recipe, reduction="none").view(len(draws), -1).mean(dim=1)
        self.opt.zero_grad(set_to_none=True)
        losses.sum().backward()
        self.opt.step()
        return losses.detach().double()

    def models(self) -> list[torch.nn.Module]:
        return self.packed.unstack()

    def train_mode(self) -> None:
        self.packed.train()

    def get_states(self) -> list[dict]:
        """Each run's weights and SGD momentum by parameter name, from one unstack."""
        buffers = {name: self.opt.state[p]["momentum_buffer"] for name, p in self.packed.params.items()
                   if self.opt.state.get(p, {}).get("momentum_buffer") is not None}
        return [{"model": model.state_dict(), "momentum": {name: buf[k] for name, buf in buffers.items()},
                 **_adam_states(self.opt, self.packed.params, k)}
                for k, model in enumerate(self.packed.unstack())]

    def set_state(self, k: int, state: dict) -> None:
        self.packed.models[k].load_state_dict(state["model"])
        self.packed.restack(k)
        for name, p in self.packed.params.items():
            if name in state["momentum"]:
                buf = self.opt.state[p].setdefault("momentum_buffer", torch.zeros_like(p))
                buf[k].copy_(state["momentum"][name])
        _set_adam_states(self.opt, self.packed.params, state, k)


def _adam_states(opt, params: dict, k: int | None) -> dict:
    """Adam's moments and step count by parameter name (run k's slice of packed ones); {} for SGD,
    so SGD resume states keep their format."""
    if not isinstance(opt, torch.optim.Adam):
        return {}
    return {"adam": {name: {key: (v[k] if k is not None and v.dim() else v).clone() for key, v in opt.state[p].items()}
                     for name, p in params.items() if opt.state.get(p)}}


def _set_adam_states(opt, params: dict, state: dict, k: int | None) -> None:
    for name, saved in state.get("adam", {}).items():
        p = params[name]
        current = opt.state[p]
        for key, v in saved.items():
            if k is None or v.dim() == 0:
                current[key] = v.to(current[key].device if key in current else v.device).clone()
            else:
                current.setdefault(key, torch.zeros_like(p))[k].copy_(v)

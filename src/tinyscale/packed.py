"""Packed training: the seeds of one configuration train together, as one vmapped model.

A 22K-parameter network cannot keep a GPU busy; K of them stacked can. `torch.func` stacks
the K models' parameters and buffers along a new leading dimension and vmaps one functional
forward over them, so every layer runs once for all K models (a batched/grouped kernel).
Each seed keeps its own initialisation, data order, augmentation and dropout masks, drawn
from the same per-run generators as `train.train_run`, so a packed run learns what the same
run trained alone learns (tests/test_packed.py checks gradients and final weights).
"""

from __future__ import annotations

import copy
import time
from typing import Callable

import torch
import torch.nn.functional as F
from torch.func import functional_call, stack_module_state, vmap

from . import provenance
from .augment import AugmentConfig, augment, draw_epoch, epoch_generator
from .data import Dataset
from .models import build_model, count_params, dropout_masks
from .predict import predict_probs
from .runs import Run
from .train import TrainConfig, TrainResult, _print_progress, cosine_lr, dropout_generator, make_optimizer, steps_per_epoch, to_device


class PackedModels:
    """K same-shaped models as stacked parameters and buffers, with one vmapped forward."""

    def __init__(self, models: list[torch.nn.Module]):
        self.models = models
        self.params, self.buffers = stack_module_state(models)
        self.base = copy.deepcopy(models[0]).to("meta")  # structure only, no storage

        def call(params, buffers, x):
            return functional_call(self.base, (params, buffers), (x,))

        self.forward = vmap(call)

    def __call__(self, x: torch.Tensor, extra_buffers: dict | None = None) -> torch.Tensor:
        """x: (K, B, C, H, W) → logits (K, B, classes); `extra_buffers` override stacked ones (dropout masks)."""
        return self.forward(self.params, {**self.buffers, **(extra_buffers or {})}, x)

    def train(self, mode: bool = True) -> None:
        self.base.train(mode)

    def unstack(self) -> list[torch.nn.Module]:
        """Copy the stacked state back into the K separate modules and return them."""
        with torch.no_grad():
            for k, model in enumerate(self.models):
                for name, p in model.named_parameters():
                    p.copy_(self.params[name][k])
                for name, b in model.named_buffers():
                    if name in self.buffers and b.shape == self.buffers[name][k].shape:
                        b.copy_(self.buffers[name][k])
        return self.models


def packed_step(packed, opt, train_x, train_y, draws, step, cfg, aug, mean, std, dropout_gens, dtype=torch.float32):
    """One SGD step of every packed model on its own batch; returns the K losses (on device)."""
    idx = [d.order[step * cfg.batch_size : (step + 1) * cfg.batch_size] for d in draws]
    x = torch.stack([augment(train_x[i], d, i, aug, mean, std).to(dtype) for i, d in zip(idx, draws)])
    y = torch.stack([train_y[i] for i in idx])
    masks = [dropout_masks(packed.models[0], len(idx[0]), g) for g in dropout_gens]
    stacked_masks = {name: torch.stack([m[name] for m in masks]).to(dtype) for name in masks[0]}
    logits = packed(x, stacked_masks)
    # Sum of the per-model mean losses: each model's gradient is its own loss's gradient.
    losses = F.cross_entropy(logits.flatten(0, 1), y.flatten(), reduction="none",
                             label_smoothing=cfg.label_smoothing).view(len(draws), -1).mean(dim=1)
    opt.zero_grad(set_to_none=True)
    losses.sum().backward()
    opt.step()
    return losses


def make_packed(runs: list[Run], num_classes: int, in_channels: int, cfg: TrainConfig, device, dtype=torch.float32):
    """The runs' models (each from its own seed), stacked, with their SGD optimiser and dropout streams."""
    models = []
    for run in runs:
        torch.manual_seed(run.seed)  # each seed's own initialisation, exactly as train_run
        models.append(build_model(run.arch, run.width, num_classes, in_channels).to(device, dtype))
    packed = PackedModels(models)
    opt = make_optimizer(packed.params.values(), cfg)
    return packed, opt, [dropout_generator(r.seed, device) for r in runs]


def train_packed(
    runs: list[Run],
    ds: Dataset,
    cfg: TrainConfig,
    aug: AugmentConfig,
    device: str | torch.device = "cpu",
    progress: Callable[[str], None] = _print_progress,
    dtype: torch.dtype = torch.float32,
) -> list[TrainResult]:
    """Train `runs` (one architecture and width, different seeds) together; one result per run."""
    if len({(r.arch, r.width) for r in runs}) != 1:
        raise ValueError(f"packed runs must share architecture and width, got {[r.id for r in runs]}")
    device = torch.device(device)
    packed, opt, dropout_gens = make_packed(runs, ds.num_classes, ds.in_channels, cfg, device, dtype)

    train_x, train_y, test_x, test_y, mean, std = to_device(ds, device, dtype)
    n, _, h, w = train_x.shape
    n_steps = steps_per_epoch(n, cfg)
    logs = [[] for _ in runs]
    wall = 0.0

    packed.train()
    for epoch in range(cfg.epochs):
        t0 = time.perf_counter()
        lr = cosine_lr(epoch, cfg)
        for group in opt.param_groups:
            group["lr"] = lr
        draws = [draw_epoch(n, h, w, aug, epoch_generator(r.seed, epoch, device)) for r in runs]
        loss_acc = torch.zeros(len(runs), dtype=torch.float64, device=device)
        for step in range(n_steps):
            losses = packed_step(packed, opt, train_x, train_y, draws, step, cfg, aug, mean, std, dropout_gens, dtype)
            loss_acc += losses.detach().double()
        rows = [{"epoch": epoch + 1, "lr": lr, "train_loss": v / n_steps, "test_acc": None} for v in loss_acc.tolist()]
        if (epoch + 1) % cfg.eval_every == 0 or epoch + 1 == cfg.epochs:
            for row, model in zip(rows, packed.unstack()):
                probs = predict_probs(model, test_x, mean, std)
                row["test_acc"] = (probs.argmax(1) == test_y).float().mean().item()
        epoch_time = time.perf_counter() - t0
        wall += epoch_time
        for row, log in zip(rows, logs):
            row["epoch_time_s"] = epoch_time / len(runs)  # the process's time, shared by its runs
            log.append(row)
        losses_text = " ".join(f"{r['train_loss']:.4f}" for r in rows)
        progress(f"[{runs[0].config_id} ×{len(runs)}] epoch {epoch + 1}/{cfg.epochs} loss {losses_text} {epoch_time:.2f}s/epoch")

    prov = provenance.collect(device)
    results = []
    for run, model, log in zip(runs, packed.unstack(), logs):
        p = dict(prov, wall_time_s=wall / len(runs), epochs_done=cfg.epochs, num_params=count_params(model),
                 resumed_from=None, packed_with=[r.id for r in runs])
        results.append(TrainResult(model, log, p))
    return results

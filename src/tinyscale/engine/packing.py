"""Packed models: K same-shaped models as one vmapped model, for the training loop's K > 1 case.

A 22K-parameter network cannot keep a GPU busy; K of them stacked can. `torch.func` stacks
the K models' parameters and buffers along a new leading dimension and vmaps one functional
forward over them, so every layer runs once for all K models (a batched/grouped kernel).
"""

from __future__ import annotations

import copy

import torch
from torch.func import functional_call, stack_module_state, vmap


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

    def restack(self, k: int) -> None:
        """Copy module k's parameters and buffers into slot k of the stacked state (after a resume)."""
        with torch.no_grad():
            for name, p in self.models[k].named_parameters():
                self.params[name][k].copy_(p)
            for name, b in self.models[k].named_buffers():
                if name in self.buffers and b.shape == self.buffers[name][k].shape:
                    self.buffers[name][k].copy_(b)

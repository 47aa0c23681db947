"""Layers any family may use: dropout whose masks come from each run's own stream."""

from __future__ import annotations

import torch
from torch import nn


class MaskedDropout(nn.Module):
    """Dropout whose keep-mask the training loop sets before each step (`set_dropout_masks`).

    Drawn from each run's own generator, the masks are the same whether a run trains alone or
    packed with other seeds (vmap cannot give each packed model its own global RNG stream).
    Same distribution as nn.Dropout: keep with probability 1 − p, scale kept units by 1/(1 − p).
    """

    def __init__(self, p: float, num_features: int):
        super().__init__()
        self.p, self.num_features = p, num_features
        self.register_buffer("mask", torch.ones(1, num_features), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        return x * self.mask / (1 - self.p)


def dropout_masks(model: nn.Module, batch_size: int, generator: torch.Generator) -> dict[str, torch.Tensor]:
    """Fresh keep-masks for every MaskedDropout in `model` (any family), keyed by buffer name."""
    return {
        f"{name}.mask": (torch.rand(batch_size, m.num_features, generator=generator, device=generator.device) >= m.p).float()
        for name, m in model.named_modules() if isinstance(m, MaskedDropout)
    }


def set_dropout_masks(model: nn.Module, masks: dict[str, torch.Tensor]) -> None:
    for name, mask in masks.items():
        model.get_submodule(name.rsplit(".", 1)[0]).mask = mask

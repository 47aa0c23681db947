"""The two width-scaled families of the paper (PROTOCOL.md §1). Depth is fixed; width varies."""

from __future__ import annotations

import torch
from torch import nn


class ConvBlock(nn.Sequential):
    """[conv3×3 (no bias) → BN → ReLU] × 2."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__(
            nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
            nn.BatchNorm2d(c_out),
            nn.ReLU(inplace=True),
            nn.Conv2d(c_out, c_out, 3, padding=1, bias=False),
            nn.BatchNorm2d(c_out),
            nn.ReLU(inplace=True),
        )


class ScaleCNN(nn.Module):
    """Plain ConvNet with stage widths c, 2c, 4c, 8c: 1143c² + 887c + 100 parameters at 100 classes."""

    def __init__(self, c: int, num_classes: int = 100, in_channels: int = 3):
        super().__init__()
        widths = [c, 2 * c, 4 * c, 8 * c]
        self.blocks = nn.ModuleList(
            ConvBlock(c_in, c_out) for c_in, c_out in zip([in_channels] + widths[:-1], widths)
        )
        self.pool = nn.MaxPool2d(2)
        self.head = nn.Linear(widths[-1], num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i, block in enumerate(self.blocks):
            x = block(x)
            if i < len(self.blocks) - 1:  # pool after blocks 1-3: 32 → 16 → 8 → 4
                x = self.pool(x)
        return self.head(x.mean(dim=(2, 3)))


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
    """Fresh keep-masks for every MaskedDropout in `model`, keyed by buffer name."""
    return {
        f"{name}.mask": (torch.rand(batch_size, m.num_features, generator=generator, device=generator.device) >= m.p).float()
        for name, m in model.named_modules() if isinstance(m, MaskedDropout)
    }


def set_dropout_masks(model: nn.Module, masks: dict[str, torch.Tensor]) -> None:
    for name, mask in masks.items():
        model.get_submodule(name.rsplit(".", 1)[0]).mask = mask


def mobilenetv2(width_mult: float, num_classes: int = 100, in_channels: int = 3) -> nn.Module:
    """torchvision's MobileNetV2 from scratch, with a stride-1 stem for 32×32 inputs."""
    from torchvision.models import mobilenet_v2

    model = mobilenet_v2(weights=None, width_mult=width_mult, num_classes=num_classes)
    stem = model.features[0][0]
    # A fresh layer with PyTorch's default init, as the original builds it.
    model.features[0][0] = nn.Conv2d(in_channels, stem.out_channels, 3, stride=1, padding=1, bias=False)
    dropout, linear = model.classifier
    model.classifier[0] = MaskedDropout(dropout.p, linear.in_features)
    return model


def build_model(arch: str, width: float, num_classes: int, in_channels: int = 3) -> nn.Module:
    if arch == "scalecnn":
        if int(width) != width:
            raise ValueError(f"ScaleCNN width must be an integer channel base, got {width}")
        return ScaleCNN(int(width), num_classes, in_channels)
    if arch == "mobilenetv2":
        return mobilenetv2(float(width), num_classes, in_channels)
    raise ValueError(f"unknown architecture {arch!r}; allowed: 'scalecnn', 'mobilenetv2'")


def count_params(model: nn.Module) -> int:
    """Trainable parameters (BN affine counted, running statistics not)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)

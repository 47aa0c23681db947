"""MobileNetV2(w): torchvision's model from scratch with a stride-1 stem for 32×32 inputs (PROTOCOL.md §1)."""

from __future__ import annotations

from torch import nn

from .layers import MaskedDropout


def mobilenetv2(width_mult: float, num_classes: int = 100, in_channels: int = 3) -> nn.Module:
    from torchvision.models import mobilenet_v2

    model = mobilenet_v2(weights=None, width_mult=width_mult, num_classes=num_classes)
    stem = model.features[0][0]
    # A fresh layer with PyTorch's default init, as the original builds it.
    model.features[0][0] = nn.Conv2d(in_channels, stem.out_channels, 3, stride=1, padding=1, bias=False)
    dropout, linear = model.classifier
    model.classifier[0] = MaskedDropout(dropout.p, linear.in_features)
    return model


"""ScaleCNN(c): a plain ConvNet with stage widths c, 2c, 4c, 8c (PROTOCOL.md §1)."""

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
    """1143c² + 887c + 100 parameters at 100 classes."""

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


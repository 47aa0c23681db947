"""DS-CNN(k): Hello Edge's depthwise-separable CNN for keyword spotting (Zhang et al. 2017, arXiv 1711.07128).

conv 10×4 stride 2 (no bias) → BN → ReLU, then `depth` blocks of [depthwise 3×3 → BN → ReLU →
pointwise 1×1 → BN → ReLU], all k channels wide, global average pooling and a linear classifier.
Hello Edge's convolutions have biases; here, as in ScaleCNN, BatchNorm's shift takes their place.
"""

from __future__ import annotations

import torch
from torch import nn


def conv_bn(c_in: int, c_out: int, kernel, stride=1, padding=0, groups: int = 1) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, kernel, stride, padding, groups=groups, bias=False),
            nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]


class DSBlock(nn.Sequential):
    """Depthwise 3×3 (one filter per channel) then pointwise 1×1, each → BN → ReLU."""

    def __init__(self, c: int):
        super().__init__(*conv_bn(c, c, 3, padding=1, groups=c), *conv_bn(c, c, 1))


class DSCNN(nn.Module):
    """40·k·in_channels + 2k (stem) + depth·(k² + 13k) (blocks) + (k + 1)·num_classes (head)
    parameters: 23,180 at k=64, depth 4, one channel and 12 classes."""

    def __init__(self, k: int, num_classes: int = 12, input_shape: tuple[int, ...] = (1, 40, 98), depth: int = 4):
        super().__init__()
        if len(input_shape) != 3:
            raise ValueError(f"DS-CNN takes (channels, frequency, time) inputs; got input_shape {tuple(input_shape)}")
        if depth < 0:
            raise ValueError(f"DS-CNN depth must be 0 or more, got {depth}")
        # 10×4 stride 2 over (frequency, time), padded by (4, 1): 40×98 → 20×49, as Hello Edge halves both
        self.stem = nn.Sequential(*conv_bn(input_shape[0], k, (10, 4), stride=2, padding=(4, 1)))
        self.blocks = nn.Sequential(*(DSBlock(k) for _ in range(depth)))
        self.head = nn.Linear(k, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.blocks(self.stem(x)).mean(dim=(2, 3)))


def dscnn(k: int, num_classes: int, input_shape: tuple[int, ...], depth: int = 4) -> DSCNN:
    return DSCNN(k, num_classes, tuple(input_shape), depth)

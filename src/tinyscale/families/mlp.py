"""MLP(w): flatten → [Linear → ReLU] × depth → Linear, w hidden units per layer (Boopathy & Fiete's
fully connected networks). On 28×28×1 inputs with 10 classes and depth 2 it has
(784w + w) + (w² + w) + (10w + 10) parameters."""

from __future__ import annotations

import math

from torch import nn


class MLP(nn.Sequential):
    def __init__(self, width: int, num_classes: int, input_shape: tuple, depth: int = 2):
        if depth < 1:
            raise ValueError(f"MLP depth must be at least 1 hidden layer, got {depth}")
        sizes = [math.prod(input_shape)] + [width] * depth
        layers: list[nn.Module] = [nn.Flatten()]
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            layers += [nn.Linear(fan_in, fan_out), nn.ReLU(inplace=True)]
        super().__init__(*layers, nn.Linear(width, num_classes))

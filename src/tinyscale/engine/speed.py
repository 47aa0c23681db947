"""Speed switches for CUDA: channels-last, bf16 autocast, torch.compile; "auto" = on for CUDA only.

On the CPU they stay off by default, where they do not pay and where runs must stay
bit-reproducible; each can be forced on or off from the config.
"""

from __future__ import annotations

import os

import torch


def switch_on(value: bool | str, device: torch.device) -> bool:
    """Resolve a speed switch: "auto" means on for CUDA only."""
    return device.type == "cuda" if value == "auto" else bool(value)


class FastPath:
    """The model as the training step calls it, with the configured speed switches applied."""

    def __init__(self, model: torch.nn.Module, recipe, device: torch.device, compile_cache: str | None = None):
        self.channels_last = switch_on(recipe.channels_last, device)
        self.bf16 = switch_on(recipe.bf16, device)
        self.device_type = device.type
        if self.channels_last:
            model.to(memory_format=torch.channels_last)
        self.forward = model
        if switch_on(recipe.compile, device):
            if compile_cache:  # one on-disk cache for every job of the machine
                os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", os.path.expanduser(compile_cache))
                os.environ.setdefault("TORCHINDUCTOR_FX_GRAPH_CACHE", "1")
            self.forward = torch.compile(model, dynamic=False)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        if not self.bf16:
            return self.forward(x)
        # BatchNorm runs in fp32 under autocast (its parameters and statistics stay fp32).
        with torch.autocast(self.device_type, dtype=torch.bfloat16):
            return self.forward(x).float()  # the loss in fp32

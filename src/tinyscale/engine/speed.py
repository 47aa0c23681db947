"""Speed switches for CUDA: channels-last, bf16 autocast, torch.compile, cuDNN autotuning, TF32.

All off by default, so the paper's config trains as the original did: fp32 without autocast,
`cudnn.deterministic=True`, `benchmark=False`. Each is one config line (`train:`): true, or
"auto" = on for CUDA only. On the CPU only channels-last and bf16 do anything when forced on.
"""

from __future__ import annotations

import os

import torch


def switch_on(value: bool | str, device: torch.device) -> bool:
    """Resolve a speed switch: "auto" means on for CUDA only."""
    return device.type == "cuda" if value == "auto" else bool(value)


def set_backends(recipe, device: torch.device) -> None:
    """cuDNN's algorithm choice and TF32 as the recipe asks (process-wide settings in PyTorch)."""
    if device.type != "cuda":
        return
    benchmark = switch_on(recipe.cudnn_benchmark, device)
    torch.backends.cudnn.benchmark = benchmark
    torch.backends.cudnn.deterministic = not benchmark
    # PyTorch's own default lets cuDNN convolutions use TF32: off unless asked, for true fp32.
    tf32 = switch_on(recipe.tf32, device)
    torch.backends.cudnn.allow_tf32 = tf32
    torch.backends.cuda.matmul.allow_tf32 = tf32


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

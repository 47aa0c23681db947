"""Which torch device a config's `device` setting means on this machine."""

from __future__ import annotations


def resolve_device(name: str):
    import torch

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("config sets device: cuda, but PyTorch sees no CUDA GPU here; use device: auto or cpu")
    if name not in ("cpu", "cuda"):
        raise ValueError(f"device {name!r} is not one of: auto, cpu, cuda")
    return torch.device(name)

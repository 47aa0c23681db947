"""Which torch device a config's `device` setting means on this machine."""

from __future__ import annotations

_held_slots = []  # GPU slots stay locked for the life of the process


def resolve_device(name: str, jobs_per_gpu: int = 1):
    """`auto`, `cpu` or `cuda` → a torch.device; on CUDA this job also gets its own GPU slot."""
    import torch

    from .gpus import acquire_gpu, use_gpu

    if name not in ("auto", "cpu", "cuda"):
        raise ValueError(f"device {name!r} is not one of: auto, cpu, cuda")
    if name == "cpu" or (name == "auto" and not torch.cuda.is_available()):
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise RuntimeError("config sets device: cuda, but PyTorch sees no CUDA GPU here; use device: auto or cpu")
    slot = acquire_gpu(torch.cuda.device_count(), jobs_per_gpu)
    use_gpu(slot)  # before the first CUDA call of this process
    _held_slots.append(slot)
    return torch.device("cuda", 0)

"""A run's random streams: data order and augmentation (one generator per epoch) and dropout masks.

Each stream is seeded from the run's family, width and seed through a stable hash (the same in
every process, machine and Python version, unlike `hash()`), so two widths of one seed draw
independent streams, as the original's do (it draws them from the global RNG after building
the model, whose size differs per width), and seed-matched pairs across sizes are not
correlated through their data. Packed and single training of a run draw the same streams.
Initialisation is not a stream here: it comes from `torch.manual_seed(seed)`, as in the original.
"""

from __future__ import annotations

import hashlib

import torch

from ..families import get as get_family
from ..runs import Run


def stream_seed(run: Run, stream: str, index: int = 0) -> int:
    """A 63-bit seed for stream `stream` (number `index`, e.g. the epoch) of `run`."""
    width = get_family(run.family).format_width(run.width)
    key = f"{run.family}|{width}|{run.seed}|{stream}|{index}".encode()
    return int.from_bytes(hashlib.sha256(key).digest()[:8], "big") >> 1


def epoch_generator(run: Run, epoch: int, device: torch.device | str = "cpu") -> torch.Generator:
    """The generator of one epoch's shuffle and augmentation draws (`augment.draw_epoch`)."""
    return torch.Generator(device=device).manual_seed(stream_seed(run, "epoch", epoch))


def dropout_generator(run: Run, device: torch.device | str = "cpu") -> torch.Generator:
    """The run's stream of dropout masks, apart from initialisation and augmentation."""
    return torch.Generator(device=device).manual_seed(stream_seed(run, "dropout"))

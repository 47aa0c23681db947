"""Batched, on-device data augmentation: crop with zero padding → flip → normalise → cutout.

All random draws for one epoch are made up front from one generator (`streams.epoch_generator`:
the run's family, width, seed and the epoch), one row per training image. A batch then only indexes into them, so resuming mid-epoch
replays exactly what an uninterrupted run would have drawn — and no per-image Python runs.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class AugmentConfig:
    crop_padding: int  # zero pixels added on each side before the random crop
    flip: bool  # horizontal flip with probability 1/2
    cutout: int  # side of the square set to 0 after normalisation; 0 = off


@dataclass
class EpochDraws:
    """One epoch's random choices: the shuffle and, per image, crop offset, flip, cutout centre."""

    order: torch.Tensor  # permutation of the training set
    crop: torch.Tensor  # (N, 2) offsets (dy, dx) in 0..2·padding
    flip: torch.Tensor  # (N,) bool
    centre: torch.Tensor  # (N, 2) cutout centre (cy, cx) in 0..H-1, 0..W-1


def draw_epoch(n: int, height: int, width: int, cfg: AugmentConfig, gen: torch.Generator) -> EpochDraws:
    device = gen.device
    order = torch.randperm(n, generator=gen, device=device)
    crop = torch.randint(0, 2 * cfg.crop_padding + 1, (n, 2), generator=gen, device=device)
    flip = torch.rand(n, generator=gen, device=device) < 0.5
    cy = torch.randint(0, height, (n,), generator=gen, device=device)
    cx = torch.randint(0, width, (n,), generator=gen, device=device)
    return EpochDraws(order, crop, flip, torch.stack([cy, cx], dim=1))


def normalize(x: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """uint8 N×C×H×W → float, (x/255 − mean) / std per channel."""
    return (x.float().div_(255.0) - mean.view(1, -1, 1, 1)) / std.view(1, -1, 1, 1)


def random_crop(x: torch.Tensor, offsets: torch.Tensor, padding: int) -> torch.Tensor:
    if padding == 0:
        return x
    n, c, h, w = x.shape
    padded = F.pad(x, (padding, padding, padding, padding))  # zeros in raw pixel space
    rows = (offsets[:, 0:1] + torch.arange(h, device=x.device)).view(n, 1, h, 1)
    cols = (offsets[:, 1:2] + torch.arange(w, device=x.device)).view(n, 1, 1, w)
    batch = torch.arange(n, device=x.device).view(n, 1, 1, 1)
    chans = torch.arange(c, device=x.device).view(1, c, 1, 1)
    return padded[batch, chans, rows, cols]


def cutout_mask(centre: torch.Tensor, size: int, height: int, width: int) -> torch.Tensor:
    """(N, 1, H, W) bool: the size×size box around each centre, clipped at the border."""
    lo, hi = size // 2, size - size // 2
    ys = torch.arange(height, device=centre.device).view(1, height, 1)
    xs = torch.arange(width, device=centre.device).view(1, 1, width)
    cy, cx = centre[:, 0].view(-1, 1, 1), centre[:, 1].view(-1, 1, 1)
    inside = (ys >= cy - lo) & (ys < cy + hi) & (xs >= cx - lo) & (xs < cx + hi)
    return inside.unsqueeze(1)


def augment(
    x: torch.Tensor, draws: EpochDraws, idx: torch.Tensor, cfg: AugmentConfig,
    mean: torch.Tensor, std: torch.Tensor,
) -> torch.Tensor:
    """Augment the uint8 images `x` (already gathered) whose epoch-draw rows are `idx`."""
    x = random_crop(x, draws.crop[idx], cfg.crop_padding)
    if cfg.flip:
        x = torch.where(draws.flip[idx].view(-1, 1, 1, 1), x.flip(3), x)
    x = normalize(x, mean, std)
    if cfg.cutout > 0:
        x = x.masked_fill(cutout_mask(draws.centre[idx], cfg.cutout, x.shape[2], x.shape[3]), 0.0)
    return x

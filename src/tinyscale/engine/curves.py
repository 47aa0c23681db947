"""Learning curves: test and training-subset error and loss at steps 2^k and every epoch end, for
recipes that log them (the scale–time study reads time-to-threshold off these)."""

from __future__ import annotations

import torch

from .members import loss_of
from .predict import eval_logits
from .recipes import Recipe

CURVE_COLUMNS = ["step", "epoch", "test_error", "test_loss", "train_error", "train_loss"]


def curve_subset(n: int, size: int, device) -> torch.Tensor:
    """The fixed training subset a curve's training error is measured on: the same for every run."""
    return torch.randperm(n, generator=torch.Generator().manual_seed(0))[: min(size, n)].to(device)


def is_curve_step(step: int) -> bool:
    """Steps 1, 2, 4, 8, …: log-spaced points of the learning curve (epoch ends are logged too)."""
    return step & (step - 1) == 0


def error_and_loss(model, x_uint8, y, mean, std, recipe: Recipe, batch_size: int = 1000) -> tuple[float, float]:
    """Error rate and mean loss of `model` in eval mode on (x, y)."""
    wrong, loss = 0, 0.0
    for i, logits in zip(range(0, len(y), batch_size), eval_logits(model, x_uint8, mean, std, batch_size)):
        wrong += (logits.argmax(-1) != y[i : i + batch_size]).sum().item()
        loss += loss_of(logits, y[i : i + batch_size], recipe, reduction="none").sum().item()
    return wrong / y.numel(), loss / len(y)  # token windows: the error per position

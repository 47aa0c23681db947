"""Learning curves: test and training-subset error and loss at steps 2^k and every epoch end, for
recipes that log them (the scale–time study reads time-to-threshold off these)."""

from __future__ import annotations

import torch

from .members import loss_of
from .recipes import Recipe


CURVE_COLUMNS = ["step", "epoch", "test_error", "test_loss", "train_error", "train_loss"]


def curve_subset(n: int, size: int, device) -> torch.Tensor:
    """The fixed training subset a curve's training error is measured on: the same for every run."""
    return torch.randperm(n, generator=torch.Generator().manual_seed(0))[: min(size, n)].to(device)


def is_curve_step(step: int) -> bool:
    """Steps 1, 2, 4, 8, …: log-spaced points of the learning curve (epoch ends are logged too)."""
    return step & (step - 1) == 0


@torch.no_grad()
def error_and_loss(model, x_uint8, y, mean, std, recipe: Recipe, batch_size: int = 1000) -> tuple[float, float]:
    """Error rate and mean loss of `model` in eval mode on (x, y)."""
    from .augment import normalize

    was_training = model.training
    model.eval()
    wrong, loss = 0, 0.0
    for i in range(0, len(x_uint8), batch_size):
        logits = model(normalize(x_uint8[i : i + batch_size], mean, std)).float()
        wrong += (logits.argmax(1) != y[i : i + batch_size]).sum().item()
        loss += loss_of(logits, y[i : i + batch_size], recipe, reduction="none").sum().item()
    model.train(was_training)
    return wrong / len(y), loss / len(y)

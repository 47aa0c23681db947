"""Test-set predictions of a trained model: softmax probabilities (their file format is in tinyscale.io)."""

from __future__ import annotations

import torch

from .augment import normalize


def model_inputs(x_uint8: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """What the model is fed: normalised images (N×C×H×W), or token windows (N×T) as integers."""
    return x_uint8.long() if x_uint8.dim() == 2 else normalize(x_uint8, mean, std)


@torch.no_grad()
def eval_logits(model, x_uint8: torch.Tensor, mean: torch.Tensor, std: torch.Tensor, batch_size: int = 1000) -> list[torch.Tensor]:
    """float32 logits in eval mode, one tensor per batch; `x_uint8` already on the model's device."""
    was_training = model.training
    model.eval()
    out = [model(model_inputs(x_uint8[i : i + batch_size], mean, std)).float() for i in range(0, len(x_uint8), batch_size)]
    model.train(was_training)
    return out


def predict_probs(model, x_uint8: torch.Tensor, mean: torch.Tensor, std: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """Softmax probabilities (float32, N×K; N×T×V for token windows) in eval mode; `x_uint8` already on the model's device."""
    return torch.cat([torch.softmax(logits, dim=-1) for logits in eval_logits(model, x_uint8, mean, std, batch_size)])


def target_probs(model, x_uint8: torch.Tensor, y: torch.Tensor, mean, std, batch_size: int = 1000) -> torch.Tensor:
    """Token windows: the probability the model gives each position's target (float32, N×T)."""
    return torch.cat([torch.softmax(logits, dim=-1).gather(-1, y[i : i + batch_size].long().unsqueeze(-1)).squeeze(-1)
                      for i, logits in zip(range(0, len(y), batch_size), eval_logits(model, x_uint8, mean, std, batch_size))])

"""Test-set predictions of a trained model: softmax probabilities, labels, predicted classes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from .augment import normalize
from .io import atomic_path


@torch.no_grad()
def predict_probs(model, x_uint8: torch.Tensor, mean: torch.Tensor, std: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """Softmax probabilities (float32, N×K) in eval mode; `x_uint8` already on the model's device."""
    was_training = model.training
    model.eval()
    out = [
        torch.softmax(model(normalize(x_uint8[i : i + batch_size], mean, std)).float(), dim=1)
        for i in range(0, len(x_uint8), batch_size)
    ]
    model.train(was_training)
    return torch.cat(out)


def save_predictions(path: str | Path, probs: np.ndarray, labels: np.ndarray) -> None:
    """One file per run: float16 probabilities, int64 labels, and argmax predictions."""
    probs = np.asarray(probs, dtype=np.float32)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez_compressed(
                fh, probs=probs.astype(np.float16), labels=np.asarray(labels, dtype=np.int64),
                preds=probs.argmax(axis=1).astype(np.int64),  # from float32, before rounding
            )


def load_predictions(path: str | Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in ("probs", "labels", "preds")}

"""Per-run metrics as the original computes them (PROTOCOL.md §3). NumPy only."""

from __future__ import annotations

import numpy as np
import pandas as pd


def topk_accuracy(probs: np.ndarray, labels: np.ndarray, k: int = 1) -> float:
    topk = np.argsort(-np.asarray(probs, dtype=np.float32), axis=1, kind="stable")[:, :k]
    return float((topk == np.asarray(labels)[:, None]).any(axis=1).mean())


def nll(probs: np.ndarray, labels: np.ndarray) -> float:
    """Mean negative log-likelihood of the true class (probabilities clipped at 1e-12)."""
    p = np.asarray(probs, dtype=np.float64)[np.arange(len(labels)), labels]
    return float(-np.log(np.clip(p, 1e-12, None)).mean())


def reliability_bins(probs: np.ndarray, labels: np.ndarray, n_bins: int = 15, preds: np.ndarray | None = None) -> pd.DataFrame:
    """Equal-width bins (lo, hi] over the max probability: count, accuracy and confidence per bin."""
    probs = np.asarray(probs, dtype=np.float64)
    conf = probs.max(axis=1)
    preds = probs.argmax(axis=1) if preds is None else np.asarray(preds)
    correct = preds == np.asarray(labels)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    rows = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        inside = (conf > lo) & (conf <= hi)
        n = int(inside.sum())
        rows.append({
            "lo": lo, "hi": hi, "count": n,
            "accuracy": float(correct[inside].mean()) if n else np.nan,
            "confidence": float(conf[inside].mean()) if n else np.nan,
        })
    return pd.DataFrame(rows)


def ece(probs: np.ndarray, labels: np.ndarray, n_bins: int = 15, preds: np.ndarray | None = None) -> float:
    """Expected calibration error: Σ_b (n_b/N)·|acc_b − conf_b| over (lo, hi] bins, no temperature."""
    bins = reliability_bins(probs, labels, n_bins, preds)
    filled = bins[bins["count"] > 0]
    return float((filled["count"] / len(labels) * (filled["accuracy"] - filled["confidence"]).abs()).sum())


def confidence_split(probs: np.ndarray, labels: np.ndarray, preds: np.ndarray | None = None) -> tuple[float | None, float | None]:
    """Mean max probability over correct and over incorrect predictions (None where there are none)."""
    probs = np.asarray(probs, dtype=np.float64)
    conf = probs.max(axis=1)
    preds = probs.argmax(axis=1) if preds is None else np.asarray(preds)
    correct = preds == np.asarray(labels)
    mean = lambda m: float(conf[m].mean()) if m.any() else None  # noqa: E731
    return mean(correct), mean(~correct)


def per_class_accuracy(preds: np.ndarray, labels: np.ndarray, n_classes: int) -> np.ndarray:
    """Accuracy on each class's test images (NaN for a class with none)."""
    preds, labels = np.asarray(preds), np.asarray(labels)
    total = np.bincount(labels, minlength=n_classes).astype(np.float64)
    correct = np.bincount(labels[preds == labels], minlength=n_classes).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, correct / np.where(total > 0, total, 1), np.nan)


def gini(values) -> float:
    """G = (2·Σ i·x₍ᵢ₎ − (n+1)·Σx) / (n·Σx) on the ascending-sorted values, i from 1."""
    x = np.sort(np.asarray(values, dtype=np.float64))
    n, total = len(x), x.sum()
    if n == 0 or total == 0:
        raise ValueError("gini needs at least one value and a positive sum")
    i = np.arange(1, n + 1)
    return float((2 * (i * x).sum() - (n + 1) * total) / (n * total))


def bottom_k_mean(values, k: int) -> float:
    """Mean of the k lowest values (all of them when there are fewer than k)."""
    x = np.sort(np.asarray(values, dtype=np.float64))
    return float(x[:k].mean())


def jaccard(errors_a: np.ndarray, errors_b: np.ndarray) -> float:
    """|A∩B| / |A∪B| of two boolean error masks over the same test set; 1.0 when both are empty."""
    a, b = np.asarray(errors_a, dtype=bool), np.asarray(errors_b, dtype=bool)
    if a.shape != b.shape:
        raise ValueError(f"error masks differ in shape: {a.shape} vs {b.shape}")
    union = np.logical_or(a, b).sum()
    return 1.0 if union == 0 else float(np.logical_and(a, b).sum() / union)


def mean_cross_entropy(logits, targets) -> float:
    """Mean cross-entropy (nats) of integer targets under logits [..., V] over every position, with a
    stable log-softmax."""
    z = np.asarray(logits, dtype=np.float64)
    t = np.asarray(targets, dtype=np.int64)
    if z.shape[:-1] != t.shape:
        raise ValueError(f"logits {z.shape} need targets of shape {z.shape[:-1]}, got {t.shape}")
    z = z - z.max(axis=-1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    return float(-np.take_along_axis(log_p, t[..., None], axis=-1).mean())


def perplexity(logits, targets) -> float:
    """exp(mean cross-entropy): a language model's perplexity per token (per byte for byte tokens)."""
    return float(np.exp(mean_cross_entropy(logits, targets)))


def bits_per_token(logits, targets) -> float:
    """Mean cross-entropy in bits: bits per byte for byte tokens (perplexity = 2^bits)."""
    return mean_cross_entropy(logits, targets) / np.log(2.0)

"""The scale–time study's training sets: fixed nested subsets and symmetric label noise.

Both are drawn from a seed alone (the data split's), so every model and seed of a sweep sees the
same subset and the same noisy labels.
"""

from __future__ import annotations

import numpy as np


def _generator(seed: int, stream: str) -> np.random.Generator:
    # one stream per use, so that the subset and the noise of one seed are independent draws
    return np.random.default_rng([int(seed), sum(map(ord, stream))])


def nested_subset(labels: np.ndarray, size: int, seed: int) -> np.ndarray:
    """Indices of the first `size` images of one seeded permutation of the training set, stratified
    so that every prefix holds each class in proportion (round-robin over per-class permutations):
    the 10,000-image subset is inside the 50,000-image one, and even a small one has every class."""
    labels = np.asarray(labels)
    n = len(labels)
    if not 1 <= size <= n:
        raise ValueError(f"a training subset of {size} images: the training set has {n}; allowed: 1 to {n}")
    rng = _generator(seed, "subset")
    classes = np.unique(labels)
    # Each image gets a rank within its class (its place in the class's permutation), scaled by the
    # class's share, so sorting by it interleaves the classes in proportion; ties broken at random.
    key = np.empty(n)
    for c in classes:
        members = np.flatnonzero(labels == c)
        rank = np.empty(len(members))
        rank[rng.permutation(len(members))] = np.arange(len(members))
        key[members] = (rank + 0.5) / len(members)
    order = np.lexsort((rng.random(n), key))
    return order[:size]


def corrupted_indices(n: int, fraction: float, seed: int) -> np.ndarray:
    """The round(fraction·n) training images whose labels the noise changes (sorted)."""
    if not 0 <= fraction < 1:
        raise ValueError(f"label-noise fraction {fraction!r}: allowed from 0 up to (not including) 1")
    k = int(round(fraction * n))
    return np.sort(_generator(seed, "noise").permutation(n)[:k])


def corrupt_labels(labels: np.ndarray, fraction: float, num_classes: int, seed: int) -> np.ndarray:
    """Symmetric label noise: exactly round(fraction·n) labels, each changed to a different class
    drawn uniformly from the other num_classes − 1, deterministically for `seed`. Returns a copy."""
    if num_classes < 2:
        raise ValueError(f"label noise needs at least 2 classes, got {num_classes}")
    labels = np.asarray(labels)
    if len(labels) and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"labels must lie in 0..{num_classes - 1}, got {labels.min()}..{labels.max()}")
    idx = corrupted_indices(len(labels), fraction, seed)
    out = labels.copy()
    shift = _generator(seed, "noise-class").integers(1, num_classes, len(idx))  # 1..K−1: never the same class
    out[idx] = (labels[idx] + shift) % num_classes
    return out

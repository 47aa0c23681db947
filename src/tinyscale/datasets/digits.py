"""scikit-learn's bundled 8×8 digits, with a fixed stratified train/test split: the quick build's data."""

from __future__ import annotations

import numpy as np

from . import DatasetSpec, register


def load_digits_split(test_fraction: float, seed: int):
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    # Pixel values are 0..16; scale to the 0..255 range every other dataset uses.
    x = np.rint(digits.images * (255.0 / 16.0)).astype(np.uint8)[:, None, :, :]
    y = digits.target.astype(np.int64)
    idx = np.arange(len(y))
    tr, te = train_test_split(idx, test_size=test_fraction, random_state=seed, stratify=y)
    tr.sort(), te.sort()
    return x[tr], y[tr], x[te], y[te], [str(d) for d in range(10)]


DIGITS = register(DatasetSpec(
    name="digits", label=r"scikit-learn's $8\times8$ digits",
    read=lambda cfg, files: load_digits_split(cfg["test_fraction"], cfg["split_seed"]),
    image_shape=(1, 8, 8), num_classes=10, train_size=1_347,
    description=(
        r"The $8\times8$ grey-scale digits bundled with scikit-learn (1{,}797 images, 10 classes), "
        r"split once into stratified training and test sets. This is the quick build: it exercises "
        r"the whole pipeline in minutes on a CPU; its numbers are not CIFAR-100's."
    ),
))

"""scikit-learn's bundled 8×8 digits, with a fixed stratified train/test split: the quick build's data."""

from __future__ import annotations

import math

import numpy as np

from . import DatasetSpec, register

N_IMAGES, N_CLASSES = 1_797, 10


def split_sizes(data_cfg: dict) -> tuple[int, int]:
    """(training, test) images of the stratified split, as scikit-learn rounds them; each side needs
    one image per class (train_test_split refuses fewer)."""
    fraction = data_cfg["test_fraction"]
    n_test = math.ceil(fraction * N_IMAGES)
    if min(n_test, N_IMAGES - n_test) < N_CLASSES:
        lo, hi = (N_CLASSES - 1) / N_IMAGES, (N_IMAGES - N_CLASSES) / N_IMAGES
        raise ValueError(
            f"config key 'data.test_fraction' is {fraction!r}: it leaves {n_test} test and {N_IMAGES - n_test} "
            f"training images of the {N_IMAGES}, and the stratified split needs at least one per class "
            f"({N_CLASSES}) on each side; allowed: above {lo:.4f} and at most {hi:.4f}"
        )
    return N_IMAGES - n_test, n_test


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
    image_shape=(1, 8, 8), num_classes=N_CLASSES, train_size=1_347, split=split_sizes,
    description=(
        r"The $8\times8$ grey-scale digits bundled with scikit-learn (1{,}797 images, 10 classes), "
        r"split once into stratified training and test sets. This is the quick build: it exercises "
        r"the whole pipeline in minutes on a CPU; its numbers are not CIFAR-100's."
    ),
))

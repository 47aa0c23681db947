"""CIFAR-10 and CIFAR-100 from their official python-format archives (pickled dicts in a tar.gz)."""

from __future__ import annotations

import pickle
import tarfile
from pathlib import Path

import numpy as np

from ..io import reading
from . import DatasetSpec, RemoteFile, register


def _unpickle(tar: tarfile.TarFile, member: str) -> dict:
    fh = tar.extractfile(member)
    if fh is None:
        raise ValueError(f"archive has no file {member}")
    return pickle.load(fh, encoding="bytes")


def _images(d: dict) -> np.ndarray:
    # Rows of 3072 bytes: the R plane, then G, then B, each 32×32 row-major.
    return np.asarray(d[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32)


def read_archive(path: str | Path, train: list[str], test: list[str], meta: str, label_key: bytes, names_key: bytes):
    """(train_x, train_y, test_x, test_y, class names) from a CIFAR python archive."""
    # a truncated archive fails anywhere from opening to the last member: all of it is one read
    with reading(path, "CIFAR python archive", fix="delete it to download it again"), tarfile.open(path, "r:gz") as tar:
        names = {Path(m.name).name: m.name for m in tar.getmembers() if m.isfile()}
        missing = set(train + test + [meta]) - set(names)
        if missing:
            raise ValueError(f"missing {sorted(missing)}")
        load = lambda keys: [_unpickle(tar, names[k]) for k in keys]  # noqa: E731
        tr, te, (m,) = load(train), load(test), load([meta])
    cat = lambda parts, f: np.concatenate([f(p) for p in parts])  # noqa: E731
    labels = lambda d: np.asarray(d[label_key], dtype=np.int64)  # noqa: E731
    classes = [c.decode() for c in m[names_key]]
    return cat(tr, _images), cat(tr, labels), cat(te, _images), cat(te, labels), classes


CIFAR100 = register(DatasetSpec(
    name="cifar100", label="CIFAR-100",
    files=(RemoteFile("cifar-100-python.tar.gz", "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",
                      "eb9058c3a382ffc7106e4002c42a8d85"),),
    read=lambda cfg, files: read_archive(files["cifar-100-python.tar.gz"], ["train"], ["test"], "meta",
                                         b"fine_labels", b"fine_label_names"),
    image_shape=(3, 32, 32), num_classes=100, train_size=50_000,
    mean=(0.5071, 0.4867, 0.4408), std=(0.2675, 0.2565, 0.2761),
    description=(
        r"CIFAR-100~\citep{krizhevsky2009cifar}: 50{,}000 training and 10{,}000 test images of "
        r"$32\times32$ pixels in 100 classes; we train on all training images and evaluate on the "
        r"test set, with no validation split."
    ),
))

CIFAR10 = register(DatasetSpec(
    name="cifar10", label="CIFAR-10",
    files=(RemoteFile("cifar-10-python.tar.gz", "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
                      "c58f30108f718f92721af3b95e74349a"),),
    read=lambda cfg, files: read_archive(files["cifar-10-python.tar.gz"], [f"data_batch_{i}" for i in range(1, 6)],
                                         ["test_batch"], "batches.meta", b"labels", b"label_names"),
    image_shape=(3, 32, 32), num_classes=10, train_size=50_000,
    mean=(0.4914, 0.4822, 0.4465), std=(0.2470, 0.2435, 0.2616),
    description=(
        r"CIFAR-10~\citep{krizhevsky2009cifar}: 50{,}000 training and 10{,}000 test images of "
        r"$32\times32$ pixels in 10 classes; we train on all training images and evaluate on the "
        r"test set, with no validation split."
    ),
))

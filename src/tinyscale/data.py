"""Datasets prepared once into a compact uint8 file: images N×C×H×W, labels, class names.

CIFAR-100 comes from its official python-format archive (`cifar-100-python.tar.gz`);
the quick config uses scikit-learn's bundled 8×8 digits with a fixed stratified split.
"""

from __future__ import annotations

import hashlib
import pickle
import tarfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .io import atomic_path

CIFAR100_MD5 = "eb9058c3a382ffc7106e4002c42a8d85"


@dataclass
class Dataset:
    train_x: np.ndarray  # uint8, N×C×H×W
    train_y: np.ndarray  # int64
    test_x: np.ndarray
    test_y: np.ndarray
    classes: list[str]
    mean: np.ndarray  # float per channel, in [0, 1] pixel units
    std: np.ndarray
    name: str

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def in_channels(self) -> int:
        return int(self.train_x.shape[1])


def md5sum(path: str | Path) -> str:
    h = hashlib.md5()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def fetch_cifar100(dest: str | Path, url: str, md5: str | None) -> Path:
    """Download the archive to `dest` (atomically) and check its md5."""
    dest = Path(dest)
    try:
        with atomic_path(dest) as tmp:
            urllib.request.urlretrieve(url, tmp)
            check_md5(tmp, md5)
    except OSError as exc:
        raise RuntimeError(
            f"could not download CIFAR-100 from {url} ({exc}). Without network access, put the "
            f"official 'cifar-100-python.tar.gz' at {dest} or set data.archive in the config "
            "to its path."
        ) from exc
    return dest


def check_md5(path: str | Path, md5: str | None) -> None:
    if md5 is None:
        return
    actual = md5sum(path)
    if actual != md5:
        raise ValueError(
            f"{path}: md5 {actual} does not match the expected {md5}; the archive is corrupt or "
            "not the official cifar-100-python.tar.gz (set data.md5: null to skip this check)"
        )


def _unpickle(tar: tarfile.TarFile, member: str) -> dict:
    fh = tar.extractfile(member)
    if fh is None:
        raise ValueError(f"archive has no file {member}")
    return pickle.load(fh, encoding="bytes")


def read_cifar100_archive(path: str | Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Read (train_x, train_y, test_x, test_y, class names) from the python-format archive."""
    with tarfile.open(path, "r:gz") as tar:
        names = {Path(m.name).name: m.name for m in tar.getmembers() if m.isfile()}
        missing = {"train", "test", "meta"} - set(names)
        if missing:
            raise ValueError(f"{path} is not a CIFAR-100 python archive: missing {sorted(missing)}")
        parts = {k: _unpickle(tar, names[k]) for k in ("train", "test", "meta")}
    classes = [c.decode() for c in parts["meta"][b"fine_label_names"]]

    def images(d):  # rows of 3072 bytes: the R plane, then G, then B, each 32×32 row-major
        return np.asarray(d[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32)

    def labels(d):
        return np.asarray(d[b"fine_labels"], dtype=np.int64)

    return images(parts["train"]), labels(parts["train"]), images(parts["test"]), labels(parts["test"]), classes


def load_digits_split(test_fraction: float, seed: int):
    """scikit-learn's 8×8 digits as uint8 images, with a fixed stratified train/test split."""
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


def channel_stats(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and population std of uint8 images, in [0, 1] units."""
    v = x.astype(np.float64) / 255.0
    return v.mean(axis=(0, 2, 3)), v.std(axis=(0, 2, 3))


def prepare(data_cfg: dict, archive: str | Path | None = None) -> Dataset:
    """Build the Dataset a config's `data` section describes (archive: CIFAR-100's path)."""
    if data_cfg["dataset"] == "cifar100":
        check_md5(archive, data_cfg.get("md5"))
        parts = read_cifar100_archive(archive)
    elif data_cfg["dataset"] == "digits":
        parts = load_digits_split(data_cfg["test_fraction"], data_cfg["split_seed"])
    else:
        raise ValueError(f"unknown dataset {data_cfg['dataset']!r}; allowed: cifar100, digits")
    train_x, train_y, test_x, test_y, classes = parts
    mean, std = channel_stats(train_x)
    if data_cfg.get("mean") is not None:
        mean = np.asarray(data_cfg["mean"], dtype=np.float64)
    if data_cfg.get("std") is not None:
        std = np.asarray(data_cfg["std"], dtype=np.float64)
    if len(mean) != train_x.shape[1] or len(std) != train_x.shape[1]:
        raise ValueError(
            f"data.mean/data.std need {train_x.shape[1]} values (one per channel), "
            f"got {len(mean)} and {len(std)}"
        )
    return Dataset(train_x, train_y, test_x, test_y, classes, mean, std, data_cfg["dataset"])


def save_dataset(ds: Dataset, path: str | Path) -> None:
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(
                fh, train_x=ds.train_x, train_y=ds.train_y, test_x=ds.test_x, test_y=ds.test_y,
                classes=np.array(ds.classes), mean=ds.mean, std=ds.std, name=np.array(ds.name),
            )


def load_dataset(path: str | Path) -> Dataset:
    with np.load(path, allow_pickle=False) as z:
        return Dataset(
            z["train_x"], z["train_y"], z["test_x"], z["test_y"], [str(c) for c in z["classes"]],
            z["mean"], z["std"], str(z["name"]),
        )

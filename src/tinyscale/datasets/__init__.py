"""The dataset registry, and datasets prepared once into a compact uint8 file.

One `DatasetSpec` per dataset says where its files come from (url, md5), how to read them,
its image shape and classes, its normalisation, its training-set size (for runtime
estimates) and the sentence the paper describes it with. A new dataset is one
`register(DatasetSpec(...))` call, in this package or in a user's plugin file.
"""

from __future__ import annotations

import hashlib
import importlib
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..io import CorruptFile, atomic_path, reading
from ..registry import Registry


@dataclass(frozen=True)
class RemoteFile:
    name: str  # file name under the config's data.dir
    url: str
    md5: str | None  # None: no published md5 to check against
    # "module:function" that writes the file itself (function(path)), for a stand-in the workflow
    # builds instead of downloading (the url is then empty)
    build: str | None = None


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    label: str  # LaTeX, as the paper names it
    # read(data_cfg, {file name: local path}) → (train_x, train_y, test_x, test_y, class names);
    # images uint8 N×C×H×W (keyword spotting: log-mel features N×1×F×T), labels int64.
    read: Callable[[dict, dict[str, Path]], tuple]
    image_shape: tuple[int, ...]  # C, H, W of an image or spectrogram; (T,) of a token window
    num_classes: int
    train_size: int  # training images, for runtime estimates
    description: str  # one LaTeX paragraph for the paper's method section
    files: tuple[RemoteFile, ...] = ()  # none: bundled with a package
    mean: tuple[float, ...] | None = None  # per-channel normalisation; None = from the training images
    std: tuple[float, ...] | None = None
    # split(data_cfg) → (training, test) images, for a dataset whose config decides them (digits'
    # test_fraction); raises ValueError naming the key when the config leaves a split unusable.
    split: Callable[[dict], tuple[int, int]] | None = None
    task: str = "image_classification"  # a registered task (tinyscale.tasks); its families train on it

    def train_images(self, data_cfg: dict) -> int:
        """Training images under this data section (a config check: nothing is read)."""
        return self.split(data_cfg)[0] if self.split else self.train_size


DATASETS: Registry[DatasetSpec] = Registry("dataset")


def example_area(shape: tuple[int, ...]) -> int:
    """What an example's cost scales with: an image's H·W, a token window's length."""
    return shape[-1] * (shape[-2] if len(shape) == 3 else 1)


def register(spec: DatasetSpec) -> DatasetSpec:
    return DATASETS.add(spec.name, spec)


def get(name: str) -> DatasetSpec:
    return DATASETS.lookup(name)


@dataclass
class Dataset:
    train_x: np.ndarray  # uint8, N×C×H×W
    train_y: np.ndarray  # int64
    test_x: np.ndarray
    test_y: np.ndarray
    classes: list[str]
    mean: np.ndarray  # float per channel, in [0, 1] pixel units
    std: np.ndarray
    name: str = field(default="")

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def in_channels(self) -> int:
        return int(self.train_x.shape[1])

    @property
    def example_shape(self) -> tuple[int, ...]:
        """One training example's shape: (C, H, W) of an image or spectrogram, (T,) of a token window."""
        return tuple(int(d) for d in self.train_x.shape[1:])


def md5sum(path: str | Path) -> str:
    h = hashlib.md5()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def check_md5(path: str | Path, md5: str | None) -> None:
    if md5 is None:
        return
    actual = md5sum(path)
    if actual != md5:
        raise CorruptFile(
            {path: f"md5 {actual} does not match the expected {md5}; the file is corrupt or not the official one"},
            "delete it to download it again, or set data.verify_md5: false to skip this check",
        )


def fetch(file: RemoteFile, dest: str | Path, verify: bool = True) -> Path:
    """Download one dataset file to `dest` (atomically) and check its md5; a file with a `build`
    function is built there instead."""
    dest = Path(dest)
    if file.build:
        module, attr = file.build.split(":")
        with atomic_path(dest) as tmp:
            getattr(importlib.import_module(module), attr)(tmp)
        return dest
    try:
        with atomic_path(dest) as tmp:
            urllib.request.urlretrieve(file.url, tmp)
            check_md5(tmp, file.md5 if verify else None)
    except OSError as exc:
        raise RuntimeError(
            f"could not download {file.name} from {file.url} ({exc}). Without network access, put the "
            f"official '{file.name}' at {dest} (the config's data.dir)."
        ) from exc
    return dest


def file_problem(file: RemoteFile, path: str | Path) -> str | None:
    """Why a dataset file already at `path` cannot be the official one, from its type and first
    bytes (cheap, before any job; the md5 is checked when the data is prepared); None when fine."""
    path = Path(path)
    if not path.exists():
        return None  # the download rule fetches it
    if not path.is_file():
        return f"{path} is not a file (a folder?); remove it, or put the official '{file.name}' there"
    if file.name.endswith(".gz"):
        with open(path, "rb") as fh:
            if fh.read(2) != b"\x1f\x8b":
                return (f"{path} is not a gzip archive (a text or HTML page?); delete it to download it again, "
                        f"or put the official '{file.name}' there")
    return None


def channel_stats(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and population std of uint8 images, in [0, 1] units."""
    v = x.astype(np.float64) / 255.0
    return v.mean(axis=(0, 2, 3)), v.std(axis=(0, 2, 3))


def prepare(data_cfg: dict, files: dict[str, str | Path] | None = None) -> Dataset:
    """Build the Dataset a config's `data` section describes from its local files."""
    spec = get(data_cfg["dataset"])
    files = {name: Path(p) for name, p in (files or {}).items()}
    for f in spec.files:
        if f.name not in files:
            raise ValueError(f"dataset {spec.name} needs the file {f.name}")
        if data_cfg.get("verify_md5", True):
            check_md5(files[f.name], f.md5)
    train_x, train_y, test_x, test_y, classes = spec.read(data_cfg, files)
    if train_x.ndim == 2:  # token windows: integers, nothing to normalise
        return Dataset(train_x, train_y, test_x, test_y, classes, np.zeros(0), np.ones(0), spec.name)
    mean, std = channel_stats(train_x)
    mean = np.asarray(data_cfg.get("mean") or spec.mean or mean, dtype=np.float64)
    std = np.asarray(data_cfg.get("std") or spec.std or std, dtype=np.float64)
    if len(mean) != train_x.shape[1] or len(std) != train_x.shape[1]:
        raise ValueError(
            f"data.mean/data.std need {train_x.shape[1]} values (one per channel), "
            f"got {len(mean)} and {len(std)}"
        )
    return Dataset(train_x, train_y, test_x, test_y, classes, mean, std, spec.name)


def save_dataset(ds: Dataset, path: str | Path) -> None:
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(
                fh, train_x=ds.train_x, train_y=ds.train_y, test_x=ds.test_x, test_y=ds.test_y,
                classes=np.array(ds.classes), mean=ds.mean, std=ds.std, name=np.array(ds.name),
            )


def load_dataset(path: str | Path) -> Dataset:
    with reading(path, "prepared dataset"), np.load(path, allow_pickle=False) as z:
        return Dataset(
            z["train_x"], z["train_y"], z["test_x"], z["test_y"], [str(c) for c in z["classes"]],
            z["mean"], z["std"], str(z["name"]),
        )


from . import cifar, digits, mnist, speech_commands, speech_standin, wikitext  # noqa: E402,F401  (the built-in datasets register themselves)
from .subsets import corrupt_labels, corrupted_indices, nested_subset  # noqa: E402,F401

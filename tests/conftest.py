import io
import pickle
import tarfile
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


def make_cifar100_archive(path: Path, n_train: int = 20, n_test: int = 10, seed: int = 0) -> dict:
    """A small archive in CIFAR-100's own python format (pickled dicts with bytes keys)."""
    rng = np.random.default_rng(seed)
    parts = {}
    for split, n in (("train", n_train), ("test", n_test)):
        parts[split] = {
            b"data": rng.integers(0, 256, size=(n, 3072), dtype=np.uint8),
            b"fine_labels": [int(v) for v in rng.integers(0, 100, size=n)],
            b"coarse_labels": [int(v) for v in rng.integers(0, 20, size=n)],
            b"filenames": [f"img_{i}.png".encode() for i in range(n)],
        }
    parts["meta"] = {
        b"fine_label_names": [f"class_{i}".encode() for i in range(100)],
        b"coarse_label_names": [f"super_{i}".encode() for i in range(20)],
    }
    with tarfile.open(path, "w:gz") as tar:
        for name, obj in parts.items():
            blob = pickle.dumps(obj, protocol=2)
            info = tarfile.TarInfo(f"cifar-100-python/{name}")
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
    return parts


@pytest.fixture
def cifar_archive(tmp_path):
    path = tmp_path / "cifar-100-python.tar.gz"
    parts = make_cifar100_archive(path)
    return path, parts

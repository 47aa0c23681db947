"""The dataset registry: each dataset's own file format read through the real code, md5 checks,
normalisation, the download's error, and a dataset registered by a test alone."""

import numpy as np
import pytest
from conftest import make_cifar10_archive

from tinyscale import datasets
from tinyscale.datasets import DatasetSpec, check_md5, load_dataset, md5sum, prepare, save_dataset

CIFAR100 = "cifar-100-python.tar.gz"


def test_reads_cifar100_archive_in_its_own_format(cifar_archive):
    path, parts = cifar_archive
    train_x, train_y, test_x, test_y, classes = datasets.get("cifar100").read({}, {CIFAR100: path})
    assert train_x.shape == (20, 3, 32, 32) and train_x.dtype == np.uint8
    assert test_x.shape == (10, 3, 32, 32)
    # Row layout: 1024 red bytes, then green, then blue, each row-major 32×32.
    raw = parts["train"][b"data"][3]
    assert np.array_equal(train_x[3, 0].ravel(), raw[:1024])
    assert np.array_equal(train_x[3, 2, 5], raw[2048 + 5 * 32 : 2048 + 6 * 32])
    assert list(train_y) == parts["train"][b"fine_labels"]
    assert classes[:2] == ["class_0", "class_1"] and len(classes) == 100


def test_reads_cifar10_archive_in_its_own_format(tmp_path):
    path = tmp_path / "cifar-10-python.tar.gz"
    parts = make_cifar10_archive(path)
    ds = prepare({"dataset": "cifar10", "verify_md5": False}, {"cifar-10-python.tar.gz": path})
    assert ds.train_x.shape == (20, 3, 32, 32) and ds.test_x.shape == (6, 3, 32, 32)
    # the five batches in order, then the test batch
    assert np.array_equal(ds.train_x[4].ravel(), parts["data_batch_2"][b"data"][0])
    assert list(ds.train_y[:4]) == parts["data_batch_1"][b"labels"] and list(ds.test_y) == parts["test_batch"][b"labels"]
    assert ds.classes == [f"label_{i}" for i in range(10)] and ds.num_classes == 10
    assert list(ds.mean) == [0.4914, 0.4822, 0.4465]  # the registry's normalisation


def test_prepare_checks_md5_and_roundtrips(cifar_archive, tmp_path):
    path, _ = cifar_archive
    cfg = {"dataset": "cifar100", "verify_md5": False, "mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25]}
    ds = prepare(cfg, {CIFAR100: path})
    save_dataset(ds, tmp_path / "ds.npz")
    back = load_dataset(tmp_path / "ds.npz")
    assert np.array_equal(back.train_x, ds.train_x) and np.array_equal(back.test_y, ds.test_y)
    assert back.classes == ds.classes and back.num_classes == 100 and back.in_channels == 3
    assert list(back.mean) == [0.5, 0.5, 0.5]
    with pytest.raises(ValueError, match="md5 .* does not match"):  # a tiny archive is not the official one
        prepare({**cfg, "verify_md5": True}, {CIFAR100: path})


def test_md5_mismatch_is_a_clear_error(cifar_archive):
    path, _ = cifar_archive
    with pytest.raises(ValueError, match="md5 .* does not match .*delete it to download it again.*verify_md5: false"):
        check_md5(path, "0" * 32)
    check_md5(path, md5sum(path))


@pytest.mark.parametrize("content", [None, b"not an archive"])
def test_not_a_cifar_archive(tmp_path, content):
    import tarfile

    bad = tmp_path / "bad.tar.gz"
    if content is None:
        with tarfile.open(bad, "w:gz"):
            pass
    else:
        bad.write_bytes(content)
    with pytest.raises(ValueError, match="not a readable CIFAR python archive.*(missing|not a gzip file)"):
        datasets.get("cifar100").read({}, {CIFAR100: bad})


def test_download_failure_says_where_to_put_the_file(tmp_path):
    spec = datasets.get("cifar100").files[0]
    offline = datasets.RemoteFile(spec.name, "http://127.0.0.1:9/none.tar.gz", spec.md5)
    with pytest.raises(RuntimeError, match="put the official 'cifar-100-python.tar.gz' at .*data.dir"):
        datasets.fetch(offline, tmp_path / "a.tar.gz")
    assert not (tmp_path / "a.tar.gz").exists()


def test_digits_split_is_fixed_and_stratified():
    cfg = {"dataset": "digits", "test_fraction": 0.25, "split_seed": 0, "mean": None, "std": None}
    a, b = prepare(cfg), prepare(cfg)
    assert np.array_equal(a.train_y, b.train_y) and np.array_equal(a.test_x, b.test_x)
    assert a.train_x.shape[1:] == (1, 8, 8) and a.train_x.dtype == np.uint8 and a.train_x.max() == 255
    assert len(a.test_y) == 450 and len(a.train_y) == 1347
    test_share = np.bincount(a.test_y) / (np.bincount(a.test_y) + np.bincount(a.train_y))
    assert np.all(np.abs(test_share - 0.25) < 0.02)
    # normalisation statistics default to the training images'
    assert np.isclose(a.mean[0], a.train_x.mean() / 255)


def test_a_dataset_registered_in_a_test_reads_through_the_same_code(tmp_path, monkeypatch):
    """A new dataset is one registry entry: its reader, shape, classes and prose."""
    rng = np.random.default_rng(0)
    arrays = (rng.integers(0, 256, (12, 1, 4, 4), dtype=np.uint8), np.arange(12) % 3,
              rng.integers(0, 256, (6, 1, 4, 4), dtype=np.uint8), np.arange(6) % 3)
    path = tmp_path / "toy.npz"
    np.savez(path, *arrays)
    monkeypatch.setitem(datasets.DATASETS, "toy", None)  # removed again after the test
    datasets.register(DatasetSpec(
        name="toy", label="Toy", image_shape=(1, 4, 4), num_classes=3, train_size=12, description="A toy.",
        files=(datasets.RemoteFile("toy.npz", "http://127.0.0.1:9/toy.npz", md5sum(path)),),
        read=lambda cfg, files: (*(np.load(files["toy.npz"])[f"arr_{i}"] for i in range(4)), ["a", "b", "c"]),
    ))
    ds = prepare({"dataset": "toy"}, {"toy.npz": path})
    assert ds.num_classes == 3 and ds.in_channels == 1 and np.array_equal(ds.test_y, arrays[3])
    with pytest.raises(ValueError, match="needs the file toy.npz"):
        prepare({"dataset": "toy"}, {})

import numpy as np
import pytest

from tinyscale.data import check_md5, load_dataset, md5sum, prepare, read_cifar100_archive, save_dataset


def test_reads_cifar100_archive_in_its_own_format(cifar_archive):
    path, parts = cifar_archive
    train_x, train_y, test_x, test_y, classes = read_cifar100_archive(path)
    assert train_x.shape == (20, 3, 32, 32) and train_x.dtype == np.uint8
    assert test_x.shape == (10, 3, 32, 32)
    # Row layout: 1024 red bytes, then green, then blue, each row-major 32×32.
    raw = parts["train"][b"data"][3]
    assert np.array_equal(train_x[3, 0].ravel(), raw[:1024])
    assert np.array_equal(train_x[3, 2, 5], raw[2048 + 5 * 32 : 2048 + 6 * 32])
    assert list(train_y) == parts["train"][b"fine_labels"]
    assert classes[:2] == ["class_0", "class_1"] and len(classes) == 100


def test_prepare_checks_md5_and_roundtrips(cifar_archive, tmp_path):
    path, _ = cifar_archive
    cfg = {"dataset": "cifar100", "md5": md5sum(path), "mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25]}
    ds = prepare(cfg, path)
    save_dataset(ds, tmp_path / "ds.npz")
    back = load_dataset(tmp_path / "ds.npz")
    assert np.array_equal(back.train_x, ds.train_x) and np.array_equal(back.test_y, ds.test_y)
    assert back.classes == ds.classes and back.num_classes == 100 and back.in_channels == 3
    assert list(back.mean) == [0.5, 0.5, 0.5]


def test_md5_mismatch_is_a_clear_error(cifar_archive):
    path, _ = cifar_archive
    with pytest.raises(ValueError, match="md5 .* does not match .*data.md5: null"):
        check_md5(path, "0" * 32)


def test_not_a_cifar_archive(tmp_path):
    import tarfile

    bad = tmp_path / "bad.tar.gz"
    with tarfile.open(bad, "w:gz"):
        pass
    with pytest.raises(ValueError, match="missing"):
        read_cifar100_archive(bad)


def test_download_failure_says_where_to_put_the_archive(tmp_path):
    from tinyscale.data import fetch_cifar100

    with pytest.raises(RuntimeError, match="put the official 'cifar-100-python.tar.gz' at .*data.archive"):
        fetch_cifar100(tmp_path / "a.tar.gz", "http://127.0.0.1:9/none.tar.gz", None)
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

"""Damaged files: a truncated checkpoint, prediction file, prepared dataset, resume state or raw
archive is reported by name, with what is wrong and how to fix it; a damaged resume state is set
aside and its run starts over."""

import re

import numpy as np
import pytest
from test_train import AUG, CFG, SETTINGS, quiet, tiny_dataset, train_run, weights_checksum

from tinyscale import datasets
from tinyscale.datasets import load_dataset, prepare, save_dataset
from tinyscale.engine.checkpoint import load_checkpoint, save_checkpoint
from tinyscale.engine.loop import train
from tinyscale.engine.signals import Interrupted
from tinyscale.families import build_model
from tinyscale.io import CorruptFile, check_zips, load_predictions, save_predictions
from tinyscale.runs import Run


def truncate(path, keep=0.5):
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


def damage(path, offset=200):
    """Flip bytes in the middle of the file (its length and zip directory stay as they were)."""
    data = bytearray(path.read_bytes())
    mid = len(data) // 2
    data[mid : mid + offset] = bytes(255 - b for b in data[mid : mid + offset])
    path.write_bytes(bytes(data))


def checkpoint(tmp_path):
    path = tmp_path / "model.pt"
    model = build_model("scalecnn", 2, 4, 1)
    data = {"name": "tiny", "num_classes": 4, "in_channels": 1, "mean": [0.5], "std": [0.3]}
    save_checkpoint(path, model, Run("scalecnn", 2, "cosine", 0).as_dict(), CFG.as_dict(), data, {}, [])
    return path


@pytest.mark.parametrize("keep", [0.0, 0.5, 0.99])
def test_truncated_checkpoint_names_the_file(tmp_path, keep):
    path = checkpoint(tmp_path)
    load_checkpoint(path)  # whole: loads
    check_zips([path], "checkpoint", "fix")
    truncate(path, keep)
    with pytest.raises(CorruptFile, match=re.escape(str(path)) + r": not a readable checkpoint.*delete it and train the run again") as err:
        load_checkpoint(path)
    assert err.value.paths == [path]
    with pytest.raises(CorruptFile, match=re.escape(str(path))):
        check_zips([path], "checkpoint", "delete it")


def test_damaged_bytes_in_a_checkpoint_fail_the_crc_check(tmp_path):
    path, whole = checkpoint(tmp_path), tmp_path / "whole.pt"
    whole.write_bytes(path.read_bytes())
    damage(path)
    with pytest.raises(CorruptFile, match="fails its CRC check") as err:
        check_zips([whole, path], "checkpoint", "delete it")
    assert err.value.paths == [path]  # every damaged file of the list, and only those


@pytest.mark.parametrize("keep", [0.0, 0.3, 0.9])
def test_truncated_predictions_name_the_file(tmp_path, keep):
    path = tmp_path / "predictions.npz"
    probs = np.random.default_rng(0).dirichlet(np.ones(10), size=200).astype(np.float32)
    save_predictions(path, probs, np.zeros(200, dtype=np.int64))
    back = load_predictions(path)
    assert back["probs"].dtype == np.float32 and np.array_equal(back["probs"], probs)  # stored as computed
    truncate(path, keep)
    with pytest.raises(CorruptFile, match=re.escape(str(path)) + r": not a readable prediction file, truncated"):
        load_predictions(path)


def test_a_missing_file_is_not_called_corrupt(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_predictions(tmp_path / "none.npz")


def test_truncated_dataset_names_the_file(tmp_path):
    path = tmp_path / "dataset.npz"
    save_dataset(tiny_dataset(), path)
    assert load_dataset(path).num_classes == 4
    truncate(path, 0.6)
    with pytest.raises(CorruptFile, match=re.escape(str(path)) + r": not a readable prepared dataset"):
        load_dataset(path)


def test_corrupt_archive_fails_its_md5_or_its_read(cifar_archive):
    path, _ = cifar_archive
    cfg = {"dataset": "cifar100", "mean": [0.5] * 3, "std": [0.25] * 3}
    spec = datasets.get("cifar100")
    # the official md5 (this small archive is not the official one, as a damaged download is not)
    with pytest.raises(CorruptFile, match=re.escape(str(path)) + r": md5 \w+ does not match.*delete it to download it again") as err:
        prepare({**cfg, "verify_md5": True}, {spec.files[0].name: path})
    assert err.value.paths == [path]
    truncate(path, 0.7)
    with pytest.raises(CorruptFile, match=re.escape(str(path)) + r": not a readable CIFAR python archive.*delete it to download it again"):
        prepare({**cfg, "verify_md5": False}, {spec.files[0].name: path})


@pytest.mark.parametrize("packed", [False, True])
def test_truncated_resume_state_is_set_aside_and_the_run_starts_over(tmp_path, packed):
    ds = tiny_dataset()
    runs = [Run("scalecnn", 2, "cosine", s) for s in ((0, 1) if packed else (0,))]
    full = train(runs, ds, CFG, SETTINGS, progress=quiet)
    states = [tmp_path / f"{r.id}.pt" for r in runs]
    with pytest.raises(Interrupted):
        train(runs, ds, CFG, SETTINGS, state_paths=states, progress=quiet, stop_after_steps=4)
    truncate(states[-1])
    lines = []
    resumed = train(runs, ds, CFG, SETTINGS, state_paths=states, progress=lines.append)
    assert re.match(rf"warning: not a readable resume state.*: the resume state {re.escape(str(states[-1]))} is moved to "
                    rf"{re.escape(str(states[-1]))}\.corrupt; training th(is run|ese runs) from the start", lines[0])
    assert not any("resuming" in line for line in lines)
    assert states[-1].with_name(states[-1].name + ".corrupt").exists()
    assert resumed[0].resumed_from is None
    for a, b in zip(full, resumed):  # a fresh start trains what an uninterrupted run trains
        assert weights_checksum(a.model) == weights_checksum(b.model)


def test_a_state_from_another_config_is_still_refused_not_set_aside(tmp_path):
    import dataclasses

    from tinyscale.engine.checkpoint import StateMismatch

    ds, run, state = tiny_dataset(), Run("scalecnn", 2, "cosine", 0), tmp_path / "state.pt"
    with pytest.raises(Interrupted):
        train_run(run, ds, CFG, AUG, state_path=state, stop_after_steps=2)
    with pytest.raises(StateMismatch):
        train_run(run, ds, dataclasses.replace(CFG, lr=0.01), AUG, state_path=state)
    assert state.exists()

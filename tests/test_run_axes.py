"""The scale–time study's further axes: training-set size, label noise and dataset in run ids;
Adam as a recipe's optimiser (resumable bit-identically); the study's arms from its config."""

import dataclasses

import pytest
import torch
from test_train import CFG, SETTINGS, quiet, tiny_dataset, train_run, weights_checksum

from tinyscale.config import ConfigError, validate_config
from tinyscale.engine.loop import train
from tinyscale.engine.recipes import Recipe
from tinyscale.engine.signals import Interrupted
from tinyscale.runs import Run, parse_run_id
from tinyscale.studies import scale_time


@pytest.mark.parametrize("run,run_id", [
    (Run("scalecnn", 4, "cosine", 0), "scalecnn-c4-cosine-s0"),  # the defaults keep today's ids
    (Run("scalecnn", 4, "st_lr0.1_mse_e30", 1, 1000), "scalecnn-c4-st_lr0.1_mse_e30-n1000-s1"),
    (Run("scalecnn", 4, "st_lr0.1_mse_e30", 1, 0, 0.2), "scalecnn-c4-st_lr0.1_mse_e30-noise0.2-s1"),
    (Run("mobilenetv2", 0.5, "st_adam_lr0.001_mse_e9", 2, 500, 0.05, "digits"),
     "mobilenetv2-w0.50-st_adam_lr0.001_mse_e9-n500-noise0.05-on_digits-s2"),
])
def test_run_ids_carry_the_training_set_and_parse_back(run, run_id):
    assert run.id == run_id
    assert parse_run_id(run_id) == run


def test_default_axes_leave_the_record_as_it_was():
    assert Run("scalecnn", 4, "cosine", 0).as_dict() == {
        "run_id": "scalecnn-c4-cosine-s0", "arch": "scalecnn", "width": 4, "recipe": "cosine", "seed": 0}
    assert Run("scalecnn", 4, "cosine", 0, 100, 0.1).as_dict()["noise"] == 0.1


@pytest.mark.parametrize("bad", ["scalecnn-c4-cosine-noise1.5-s0", "scalecnn-c4-cosine-noise0.20-s0",
                                 "scalecnn-c4-cosine-n0100-s0"])
def test_non_canonical_axes_are_refused(bad):
    with pytest.raises(ValueError, match="run id"):
        parse_run_id(bad)


def test_noise_fraction_must_read_back():
    with pytest.raises(ValueError, match="at most 3 decimals"):
        _ = Run("scalecnn", 4, "cosine", 0, noise=0.12345).id


def test_sgd_recipes_keep_their_params_and_adam_is_recorded():
    d = CFG.as_dict()
    assert "optimizer" not in d  # the training rules' params of existing builds are unchanged
    assert Recipe.from_dict(d) == CFG
    adam = dataclasses.replace(CFG, optimizer="adam")
    assert adam.as_dict()["optimizer"] == "adam" and Recipe.from_dict(adam.as_dict()) == adam


def test_adam_trains_and_resumes_bit_identically(tmp_path):
    adam = dataclasses.replace(CFG, optimizer="adam", lr=0.01, schedule="constant")
    run, ds = Run("scalecnn", 2, "adam", 0), tiny_dataset()
    whole = train_run(run, ds, adam)
    state = tmp_path / "state.pt"
    with pytest.raises(Interrupted):
        train_run(run, ds, adam, state_path=state, stop_after_steps=4)
    resumed = train_run(run, ds, adam, state_path=state)
    assert weights_checksum(resumed.model) == weights_checksum(whole.model)
    sgd = train_run(run, ds, dataclasses.replace(adam, optimizer="sgd"))
    assert weights_checksum(sgd.model) != weights_checksum(whole.model)


def test_packed_adam_matches_single_runs():
    # In float64: vmapped convolutions sum in another order, and Adam divides each gradient by its
    # own running scale, so a parameter whose gradient is tiny turns last-bit noise into a full step
    # (float32: 1e-3 apart; float64: one BatchNorm bias 3e-6 apart, the rest within 1e-9).
    adam = dataclasses.replace(CFG, optimizer="adam", lr=0.01, schedule="constant", augment=CFG.augment)
    runs, ds = [Run("scalecnn", 2, "adam", s) for s in (0, 1)], tiny_dataset()
    packed = train(runs, ds, adam, SETTINGS, progress=quiet, dtype=torch.float64)
    for run, result in zip(runs, packed):
        alone = train_run(run, ds, adam, dtype=torch.float64).model.state_dict()
        for name, value in result.model.state_dict().items():
            torch.testing.assert_close(value, alone[name], rtol=1e-4, atol=1e-5)


def st_config(**st):
    return {"name": "t", "data": {"dataset": "digits"}, "models": {"scalecnn": [2]}, "seeds": [0],
            "studies": {"width_sweep": {"enabled": False},
                        "scale_time": {"enabled": True, "widths": [2, 4], "seeds": [0, 1], "lrs": [0.1],
                                       "losses": ["mse"], "train_subset": 200,
                                       "epoch_caps": [{"max_params": None, "epochs": 3}], **st}}}


def test_the_unified_law_arms_are_the_primary_arm_on_subsets_and_noisy_labels():
    config = validate_config(st_config(data_sizes=[None, 300], label_noise=[0.0, 0.2], optimisers=["sgd", "adam"],
                                       adam_lrs=[0.001]))
    ids = {r.id for r in scale_time.runs(config)}
    assert {"scalecnn-c2-st_lr0.1_mse_e3-s0", "scalecnn-c2-st_lr0.1_mse_e3-n300-s1",
            "scalecnn-c4-st_lr0.1_mse_e3-noise0.2-s0", "scalecnn-c4-st_adam_lr0.001_mse_e3-s1"} <= ids
    assert len(ids) == 2 * 2 * 4  # widths × seeds × (primary, subset, noise, Adam)
    assert scale_time.recipes(config)["st_adam_lr0.001_mse_e3"].optimizer == "adam"
    assert {a["arm"] for a in scale_time.arms(config).values()} == {"lr0.1-mse", "adam-lr0.001-mse"}


def test_default_scale_time_config_has_no_further_arms():
    st = validate_config(st_config())["studies"]["scale_time"]
    assert (st["data_sizes"], st["label_noise"], st["optimisers"]) == ([None], [0.0], ["sgd"])


@pytest.mark.parametrize("st,message", [
    ({"data_sizes": [2000]}, r"'studies.scale_time.data_sizes' is \[2000\]: 2000 is more than the 1347 training"),
    ({"train_subset": 5000}, r"'studies.scale_time.train_subset' is 5000: more than the 1347 training images"),
    ({"data_sizes": [None, 50], "batch_size": 64}, r"batch_size' is 64: larger than the 50 training images"),
])
def test_training_set_sizes_are_checked_against_the_data(st, message):
    with pytest.raises(ConfigError, match=message):
        validate_config(st_config(**st))


def test_a_runs_training_set_is_its_nested_subset_with_its_noisy_labels():
    import numpy as np

    from tinyscale.engine.trainset import training_set

    ds = tiny_dataset(n_train=96)
    same, record = training_set(ds, Run("scalecnn", 2, "x", 0), split_seed=1)
    assert same is ds and record == {}
    view, record = training_set(ds, Run("scalecnn", 2, "x", 0, data_size=40, noise=0.25), split_seed=1)
    assert len(view.train_y) == record["train_images"] == 40 and view.test_x is ds.test_x
    full, full_record = training_set(ds, Run("scalecnn", 2, "x", 5, noise=0.25), split_seed=1)
    assert len(full_record["changed_labels"]) == 24  # round(0.25 · 96), on the whole set
    # the subset's noisy labels are the whole set's: the same images, changed to the same classes
    kept = [i for i in range(96) if any(np.array_equal(ds.train_x[i], x) for x in view.train_x)]
    assert set(record["changed_labels"]) == set(full_record["changed_labels"]) & set(kept)
    for i in record["changed_labels"]:
        assert full.train_y[i] != ds.train_y[i]


@pytest.mark.parametrize("primary,adam,breaks", [
    ("supported in the paper's form", "not supported", True),
    ("supported in weak form", "supported in weak form", False),
    ("supported in weak form", "inconclusive", None),
    ("not supported", "not supported", None),
    ("inconclusive", "not supported", None),
])
def test_the_adam_control_breaks_the_equivalence_only_against_a_supported_sgd_arm(primary, adam, breaks):
    from tinyscale.analysis.scale_time import optimiser_control

    arms = {"lr0.1-mse": {"verdict": primary}, "adam-lr0.001-mse": {"verdict": adam}}
    out = optimiser_control(arms, "lr0.1-mse", ["adam-lr0.001-mse"])
    assert out["breaks"] is breaks and out["arms"] == {"adam-lr0.001-mse": adam} and out["reason"]

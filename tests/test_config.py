import copy

import pytest
import yaml
from conftest import ROOT

from tinyscale.config import ConfigError, load_config, science, validate_config
from tinyscale.runs import parse_run_id
from tinyscale.studies import run_table

# digits' 8×8 images and 10 classes need a smaller cutout and bottom-k than the CIFAR defaults
MINIMAL = {"name": "t", "data": {"dataset": "digits"}, "models": {"scalecnn": [2]}, "seeds": [0],
           "augment": {"cutout": 2}, "analysis": {"bottom_k": [3, 5]}}


def test_paper_config_is_the_protocol():
    cfg = load_config(ROOT / "config" / "config.yaml")
    assert cfg["models"]["scalecnn"] == [4, 8, 12, 16, 24, 32, 48, 64]
    assert cfg["models"]["mobilenetv2"] == [0.10, 0.15, 0.25, 0.35, 0.50, 0.75, 1.00, 1.50, 2.00, 3.00]
    assert cfg["seeds"] == [0, 1, 2, 3, 4] and len(run_table(cfg)) == 90
    t = cfg["train"]
    assert (t["epochs"], t["batch_size"], t["drop_last"], t["lr"], t["lr_min"]) == (200, 128, True, 0.1, 1e-5)
    assert (t["momentum"], t["weight_decay"], t["nesterov"], t["label_smoothing"]) == (0.9, 5e-4, False, 0.0)
    assert cfg["augment"] == {"crop_padding": 4, "flip": True, "cutout": 8}
    assert cfg["data"]["mean"] == [0.5071, 0.4867, 0.4408] and cfg["data"]["std"] == [0.2675, 0.2565, 0.2761]
    assert cfg["device"] == "auto" and cfg["analysis"]["ece_bins"] == 15


def test_quick_config_is_small_and_valid():
    cfg = load_config(ROOT / "config" / "quick.yaml")
    assert cfg["name"] == "quick" and cfg["data"]["dataset"] == "digits" and len(cfg["seeds"]) == 3
    assert cfg["data"]["test_fraction"] == 0.25 and cfg["data"]["split_seed"] == 0


def test_defaults_come_from_the_schema():
    cfg = validate_config({"name": "t", "data": {"dataset": "cifar100"}, "models": {"scalecnn": [2]}, "seeds": [0]})
    assert cfg["train"]["epochs"] == 200 and cfg["augment"]["cutout"] == 8 and cfg["device"] == "auto"
    assert cfg["data"]["dir"] == "resources" and cfg["data"]["verify_md5"] is True
    assert cfg["studies"]["width_sweep"]["enabled"] is True


def test_operational_keys_are_not_science():
    cfg = validate_config(copy.deepcopy(MINIMAL))
    train = science(cfg["train"], ("train",))
    assert "checkpoint_every" not in train and "eval_every" not in train and "compile_cache" not in train
    assert {"lr", "epochs", "bf16", "pack_seeds"} <= set(train)
    assert science(cfg, ())["name"] == "t" and "title" not in science(cfg, ()) and "device" not in science(cfg, ())


@pytest.mark.parametrize(
    "patch,message",
    [
        ({"device": "tpu"}, r"config key 'device' is 'tpu'; allowed values: 'auto', 'cpu', 'cuda'"),
        ({"data": {"dataset": "imagenet"}}, r"config key 'data.dataset' is 'imagenet'; allowed values: 'cifar100', 'cifar10', 'digits'"),
        ({"models": {"resnet": [1]}}, r"unknown family 'resnet'; registered families: 'scalecnn', 'mobilenetv2'"),
        ({"models": {"scalecnn": [2.5]}}, r"'models.scalecnn': ScaleCNN width must be a positive integer, got 2.5"),
        ({"models": {"mobilenetv2": [0.125]}}, r"MobileNetV2 width 0.125 cannot be written exactly with 2 decimals"),
        ({"studies": {"nope": {}}}, r"unknown config key\(s\) \['nope'\] under 'studies'"),
        ({"train": {"epoch": 3}}, r"unknown config key\(s\) \['epoch'\] under 'train'; allowed keys: .*epochs"),
        ({"seeds": []}, r"config key 'seeds'"),
        ({"train": {"lr": -1}}, r"config key 'train.lr'"),
        ({"models": {"scalecnn": []}}, r"at least one width"),
        ({"name": ".."}, r"config key 'name' is '..': '..' does not match"),
    ],
)
def test_errors_name_the_key_and_the_allowed_values(patch, message):
    cfg = {**copy.deepcopy(MINIMAL), **patch}
    with pytest.raises(ConfigError, match=message):
        validate_config(cfg)


def test_run_ids_are_readable_and_parse_back():
    cfg = validate_config({**MINIMAL, "models": {"scalecnn": [16], "mobilenetv2": [0.75, 0.1]}, "seeds": [3, 0]})
    ids = [r.id for r in run_table(cfg)]
    assert ids == ["scalecnn-c16-cosine-s0", "scalecnn-c16-cosine-s3", "mobilenetv2-w0.10-cosine-s0",
                   "mobilenetv2-w0.10-cosine-s3", "mobilenetv2-w0.75-cosine-s0", "mobilenetv2-w0.75-cosine-s3"]
    for run in run_table(cfg):
        assert parse_run_id(run.id) == run
    for bad in ("resnet-18", "scalecnn-w16-cosine-s0", "scalecnn-c016-cosine-s0", "mobilenetv2-w0.1-cosine-s0"):
        with pytest.raises(ValueError, match="run id"):
            parse_run_id(bad)


@pytest.mark.parametrize("path", sorted((ROOT / "config").glob("*.yaml")), ids=lambda p: p.name)
def test_config_files_are_yaml_with_no_unknown_keys_and_plan_their_runs(path):
    from tinyscale.studies import run_table

    config = validate_config(yaml.safe_load(path.read_text()))
    assert run_table(config)


def test_runtime_estimate_grows_with_size_epochs_and_attempt():
    from tinyscale.runs import Run, runtime_minutes

    small, large = Run("scalecnn", 4, "cosine", 0), Run("scalecnn", 64, "cosine", 0)
    assert runtime_minutes(small, 200, "cifar100") < runtime_minutes(large, 200, "cifar100")
    assert runtime_minutes(large, 100, "cifar100") < runtime_minutes(large, 200, "cifar100")
    assert runtime_minutes(large, 200, "cifar100", attempt=2) > runtime_minutes(large, 200, "cifar100")
    # above the original's slowest run: MobileNetV2 w=3 took 2.6 h (76.6 s per epoch at most)
    assert runtime_minutes(Run("mobilenetv2", 3.0, "cosine", 0), 200, "cifar100") > 200 * 76.6 / 60

    # the dataset's size scales it: the 8×8 digits cost far less than CIFAR-100, CIFAR-10 the same
    assert runtime_minutes(large, 200, "digits") < runtime_minutes(large, 200, "cifar100") / 10
    assert runtime_minutes(large, 200, "cifar10") == runtime_minutes(large, 200, "cifar100")
    # rounded to a ladder, so that runs of about one size share a job array
    assert runtime_minutes(small, 200, "cifar100") == runtime_minutes(Run("scalecnn", 8, "cosine", 0), 200, "cifar100")


def test_memory_and_cpus_come_from_dataset_and_model():
    from tinyscale.runs import Run, cpus, memory_mb

    small, large = Run("scalecnn", 4, "cosine", 0), Run("mobilenetv2", 3.0, "cosine", 0)
    # on a CPU the model's steps live in host memory: larger models ask more, and more threads
    assert memory_mb(small, "cifar100", 128, gpu=False) < memory_mb(large, "cifar100", 128, gpu=False)
    assert cpus(small, "cifar100", 128, gpu=False) < cpus(large, "cifar100", 128, gpu=False)
    # on a GPU, host memory holds the data and the CUDA context; CPUs only drive the device
    assert memory_mb(small, "cifar100", 128, gpu=True) == memory_mb(large, "cifar100", 128, gpu=True)
    assert cpus(large, "cifar100", 128, gpu=True) <= 4
    # packed seeds share the data, not their steps
    assert memory_mb(large, "cifar100", 128, gpu=False, runs=5) > memory_mb(large, "cifar100", 128, gpu=False)
    # the quick config's runs fit a small node: 1 CPU, 2.5 GB
    for run in (Run("scalecnn", 8, "cosine", 0), Run("mobilenetv2", 0.5, "cosine", 0)):
        assert (cpus(run, "digits", 64, gpu=False), memory_mb(run, "digits", 64, gpu=False)) == (1, 2500)

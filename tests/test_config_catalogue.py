"""The catalogue of bad configs: each is refused when the config is loaded, before any job, with a
message that names the key. Kinds the old code accepted with nonsense output (crop padding or
cutout as large as the image, lr_min above lr, momentum 5, bottom-k of more classes than there
are) or refused only once jobs ran (a batch larger than the training set, mean/std of the wrong
length, seeds past the stream seeds' range, an archive that is a folder or a text page, a split
with too few test images, kaplan_alpha 0, a title pdflatex cannot typeset, device cuda without a
GPU) sit beside the plain ones (wrong type, out of range, unknown key or name)."""

import copy
import os
import re
import shutil
import subprocess

import pytest
import yaml
from conftest import ROOT

import tinyscale.config
from tinyscale.config import ConfigError, apply_overrides, validate_config

# A valid config on the bundled digits (8×8 images, 10 classes, 1,347 training images).
BASE = {"name": "t", "data": {"dataset": "digits"}, "models": {"scalecnn": [2]}, "seeds": [0],
        "augment": {"crop_padding": 1, "cutout": 2}, "analysis": {"bottom_k": [3, 5]}}
PRECISION = {"enabled": True, "budget_widths": [4], "bits": [32, 4]}
SCALE_TIME = {"enabled": True, "widths": [2, 4], "lrs": [0.1], "losses": ["mse"], "batch_size": 64, "train_subset": 100}


def merged(base: dict, patch: dict) -> dict:
    """`base` with `patch` merged in, section by section; an empty mapping replaces."""
    out = copy.deepcopy(base)
    for key, value in patch.items():
        nested = isinstance(value, dict) and value and isinstance(out.get(key), dict)
        out[key] = merged(out[key], value) if nested else value
    return out


# (id, patch onto BASE, the key the message must name, a fragment of what is allowed or why)
CATALOGUE = [
    # names
    ("name-dotdot", {"name": ".."}, "name", "does not match"),
    ("name-dot", {"name": "."}, "name", "does not match"),
    ("name-slash", {"name": "a/b"}, "name", "does not match"),
    ("name-empty", {"name": ""}, "name", "does not match"),
    ("name-not-text", {"name": 3}, "name", "not of type 'string'"),
    # top level
    ("unknown-top-key", {"epochs": 3}, "(top level)", "allowed keys"),
    ("device-unknown", {"device": "tpu"}, "device", "allowed values: 'auto', 'cpu', 'cuda'"),
    ("jobs-per-gpu-zero", {"jobs_per_gpu": 0}, "jobs_per_gpu", "minimum"),
    ("title-greek", {"title": "α-scaling of tiny nets"}, "title", "U+03B1"),
    ("authors-cjk", {"authors": "李雷"}, "authors", "U+674E"),
    ("title-emoji", {"title": "Tiny 🙂"}, "title", "U+1F642"),
    ("title-not-text", {"title": ["a"]}, "title", "not of type 'string'"),
    ("plugin-missing", {"plugins": ["no_such_plugin.py"]}, "plugins", "no file"),
    ("reference-not-text", {"reference": 3}, "reference", "not of type"),
    # data
    ("dataset-unknown", {"data": {"dataset": "imagenet"}}, "data.dataset", "allowed values"),
    ("data-unknown-key", {"data": {"path": "x"}}, "data", "allowed keys"),
    ("mean-two-channels", {"data": {"mean": [0.5, 0.5]}}, "data.mean", "1 channel"),
    ("std-three-channels", {"data": {"std": [0.2, 0.2, 0.2]}}, "data.std", "1 channel"),
    ("std-zero", {"data": {"std": [0.0]}}, "data.std.0", "minimum"),
    ("mean-pixel-units", {"data": {"mean": [128.0]}}, "data.mean.0", "maximum"),
    ("test-fraction-too-small", {"data": {"test_fraction": 0.001}}, "data.test_fraction", "one per class"),
    ("test-fraction-too-large", {"data": {"test_fraction": 0.999}}, "data.test_fraction", "one per class"),
    ("test-fraction-one", {"data": {"test_fraction": 1.0}}, "data.test_fraction", "maximum"),
    ("split-seed-negative", {"data": {"split_seed": -1}}, "data.split_seed", "minimum"),
    ("verify-md5-text", {"data": {"verify_md5": "yes"}}, "data.verify_md5", "not of type 'boolean'"),
    # models and widths
    ("family-unknown", {"models": {"resnet": [1]}}, "models", "registered families"),
    ("width-fraction", {"models": {"scalecnn": [2.5]}}, "models.scalecnn", "positive integer"),
    ("width-inexact", {"models": {"mobilenetv2": [0.125]}}, "models.mobilenetv2", "cannot be written exactly"),
    ("widths-empty", {"models": {"scalecnn": []}}, "models", "at least one width"),
    ("width-zero", {"models": {"scalecnn": [0]}}, "models.scalecnn.0", "minimum"),
    ("widths-repeated", {"models": {"scalecnn": [2, 2]}}, "models.scalecnn", "non-unique"),
    ("models-empty", {"models": {}}, "models", "should be non-empty"),
    ("widths-not-list", {"models": {"scalecnn": 2}}, "models.scalecnn", "not of type 'array'"),
    # seeds
    ("seeds-empty", {"seeds": []}, "seeds", "should be non-empty"),
    ("seed-negative", {"seeds": [-1]}, "seeds.0", "minimum"),
    ("seed-overflows-streams", {"seeds": [10**13]}, "seeds.0", "maximum"),
    ("seeds-repeated", {"seeds": [0, 0]}, "seeds", "non-unique"),
    ("seed-fraction", {"seeds": [0.5]}, "seeds.0", "not of type 'integer'"),
    # training
    ("epochs-zero", {"train": {"epochs": 0}}, "train.epochs", "minimum"),
    ("batch-zero", {"train": {"batch_size": 0}}, "train.batch_size", "minimum"),
    ("batch-above-train-set", {"train": {"batch_size": 5000}}, "train.batch_size", "1347 training images"),
    ("lr-zero", {"train": {"lr": 0}}, "train.lr", "less than or equal to the minimum"),
    ("lr-text", {"train": {"lr": "fast"}}, "train.lr", "not of type 'number'"),
    ("lr-min-above-lr", {"train": {"lr": 0.1, "lr_min": 0.5}}, "train.lr_min", "above train.lr"),
    ("momentum-five", {"train": {"momentum": 5}}, "train.momentum", "maximum"),
    ("momentum-one", {"train": {"momentum": 1}}, "train.momentum", "maximum"),
    ("weight-decay-negative", {"train": {"weight_decay": -1e-4}}, "train.weight_decay", "minimum"),
    ("label-smoothing-one", {"train": {"label_smoothing": 1.0}}, "train.label_smoothing", "maximum"),
    ("train-unknown-key", {"train": {"epoch": 3}}, "train", "allowed keys"),
    ("channels-last-text", {"train": {"channels_last": "yes"}}, "train.channels_last", "allowed values"),
    ("eval-every-zero", {"train": {"eval_every": 0}}, "train.eval_every", "minimum"),
    # augmentation against the 8×8 images
    ("crop-padding-image-side", {"augment": {"crop_padding": 8}}, "augment.crop_padding", "allowed: 0 to 7"),
    ("cutout-image-side", {"augment": {"cutout": 8}}, "augment.cutout", "allowed: 0 to 7"),
    ("crop-padding-negative", {"augment": {"crop_padding": -1}}, "augment.crop_padding", "minimum"),
    # analysis
    ("bottom-k-above-classes", {"analysis": {"bottom_k": [5, 50]}}, "analysis.bottom_k", "10 classes"),
    ("bottom-k-without-5", {"analysis": {"bottom_k": [3]}}, "analysis.bottom_k", "including 5"),
    ("kaplan-alpha-zero", {"analysis": {"kaplan_alpha": 0}}, "analysis.kaplan_alpha", "minimum"),
    ("ece-bins-zero", {"analysis": {"ece_bins": 0}}, "analysis.ece_bins", "minimum"),
    ("bootstrap-samples-few", {"analysis": {"bootstrap_samples": 5}}, "analysis.bootstrap_samples", "minimum"),
    ("bootstrap-seed-negative", {"analysis": {"bootstrap_seed": -1}}, "analysis.bootstrap_seed", "minimum"),
    # studies
    ("study-unknown", {"studies": {"nope": {}}}, "studies", "allowed keys"),
    ("width-sweep-enabled-text", {"studies": {"width_sweep": {"enabled": "yes"}}}, "studies.width_sweep.enabled", "boolean"),
    ("precision-family-unknown", {"studies": {"precision": {**PRECISION, "family": "resnet"}}},
     "studies.precision.family", "registered families"),
    ("precision-bits-unknown", {"studies": {"precision": {**PRECISION, "bits": [32, 7]}}}, "studies.precision.bits.1", "allowed values"),
    ("precision-one-bit-width", {"studies": {"precision": {**PRECISION, "bits": [32]}}}, "studies.precision.bits", "too short"),
    ("precision-act-bits-one", {"studies": {"precision": {**PRECISION, "act_bits": 1}}}, "studies.precision.act_bits", "minimum"),
    ("precision-budget-fraction", {"studies": {"precision": {**PRECISION, "budget_widths": [4.5]}}},
     "studies.precision.budget_widths", "positive integer"),
    ("finetune-lr-min-above-lr", {"studies": {"precision": {**PRECISION, "finetune": {"lr": 0.01, "lr_min": 0.1}}}},
     "studies.precision.finetune.lr_min", "above studies.precision.finetune.lr"),
    ("scale-time-family-unknown", {"studies": {"scale_time": {**SCALE_TIME, "family": "resnet"}}},
     "studies.scale_time.family", "registered families"),
    ("scale-time-width-fraction", {"studies": {"scale_time": {**SCALE_TIME, "widths": [2.5]}}},
     "studies.scale_time.widths", "positive integer"),
    ("scale-time-batch-above-train-set", {"studies": {"scale_time": {**SCALE_TIME, "batch_size": 2000}}},
     "studies.scale_time.batch_size", "1347 training images"),
    ("scale-time-primary-loss-absent", {"studies": {"scale_time": {**SCALE_TIME, "primary_loss": "cross_entropy"}}},
     "studies.scale_time.primary_loss", "allowed: 'mse'"),
    ("scale-time-epoch-caps-open", {"studies": {"scale_time": {**SCALE_TIME, "epoch_caps": [{"max_params": 1000, "epochs": 3}]}}},
     "studies.scale_time.epoch_caps", "max_params: null"),
    ("scale-time-gamma-range-empty", {"studies": {"scale_time": {**SCALE_TIME, "analysis": {"collapse": {"gamma_min": 2.0}}}}},
     "studies.scale_time.analysis.collapse.gamma_min", "less than gamma_max"),
    ("scale-time-momentum-one", {"studies": {"scale_time": {**SCALE_TIME, "momentum": 1.0}}}, "studies.scale_time.momentum", "maximum"),
    ("scale-time-no-lrs", {"studies": {"scale_time": {**SCALE_TIME, "lrs": []}}}, "studies.scale_time.lrs", "non-empty"),
    ("scale-time-loss-unknown", {"studies": {"scale_time": {**SCALE_TIME, "losses": ["hinge"]}}},
     "studies.scale_time.losses.0", "allowed values"),
]


def test_the_catalogue_is_large_and_its_kinds_distinct():
    ids = [case[0] for case in CATALOGUE]
    assert len(ids) >= 60 and len(set(ids)) == len(ids)
    patches = [yaml.safe_dump(case[1], sort_keys=True) for case in CATALOGUE]
    assert len(set(patches)) == len(patches)


def test_the_base_config_is_valid():
    validate_config(copy.deepcopy(BASE))
    validate_config(merged(BASE, {"studies": {"precision": PRECISION, "scale_time": SCALE_TIME}}))


@pytest.mark.parametrize("patch,key,allowed", [c[1:] for c in CATALOGUE], ids=[c[0] for c in CATALOGUE])
def test_bad_config_is_refused_naming_the_key(patch, key, allowed):
    with pytest.raises(ConfigError) as err:
        validate_config(merged(BASE, patch))
    message = str(err.value)
    assert f"'{key}'" in message and allowed in message, message


def test_device_cuda_needs_a_gpu_here(monkeypatch):
    monkeypatch.setattr(tinyscale.config, "_cuda_here", lambda: False)
    with pytest.raises(ConfigError, match=r"config key 'device' is 'cuda', but PyTorch sees no CUDA GPU .*'auto'"):
        validate_config(merged(BASE, {"device": "cuda"}))
    monkeypatch.setattr(tinyscale.config, "_cuda_here", lambda: True)
    validate_config(merged(BASE, {"device": "cuda"}))


@pytest.mark.parametrize("make", ["folder", "text"])
def test_a_dataset_archive_that_is_no_archive_is_refused(tmp_path, make):
    path = tmp_path / "cifar-100-python.tar.gz"
    path.mkdir() if make == "folder" else path.write_text("<html>404 Not Found</html>")
    cfg = {"name": "t", "data": {"dataset": "cifar100", "dir": str(tmp_path)}, "models": {"scalecnn": [2]}, "seeds": [0]}
    with pytest.raises(ConfigError, match=r"config key 'data.dir' is .*(not a file|not a gzip archive)"):
        validate_config(cfg)


def test_a_real_archive_and_a_missing_one_pass(tmp_path, cifar_archive):
    cfg = {"name": "t", "data": {"dataset": "cifar100", "dir": str(cifar_archive[0].parent)}, "models": {"scalecnn": [2]}, "seeds": [0]}
    validate_config(copy.deepcopy(cfg))
    validate_config({**cfg, "data": {"dataset": "cifar100", "dir": str(tmp_path / "empty")}})  # downloaded later


def test_keys_are_checked_only_where_an_enabled_study_uses_them():
    # scale-time alone trains without augmentation and has no bottom-k: CIFAR's defaults do no harm on digits
    only_st = {"name": "t", "data": {"dataset": "digits"}, "models": {"scalecnn": [2]}, "seeds": [0],
               "studies": {"width_sweep": {"enabled": False}, "scale_time": SCALE_TIME}}
    validate_config(copy.deepcopy(only_st))
    with pytest.raises(ConfigError, match="'augment.cutout' is 8"):
        validate_config(merged(only_st, {"studies": {"precision": PRECISION}}))


@pytest.mark.skipif(shutil.which("latexmk") is None, reason="latexmk not installed (README setup installs TeX)")
def test_what_validation_lets_through_compiles_and_what_it_refuses_does_not(tmp_path):
    from tinyscale.paper.latex import TYPESETTABLE, compile_pdf
    from tinyscale.paper.render import TEMPLATES, tex_escape

    latin = "Über naïve café – “tiny” nets … Łódź, Zoë Ørsted"
    validate_config(merged(BASE, {"title": latin}))
    preamble = TEMPLATES.joinpath("paper.tex.j2").read_text().split("\\title")[0].split("\n", 1)[1]
    every = "".join(sorted(TYPESETTABLE - set("\t\n")))  # every character validation allows, at once
    for name, title in (("latin", latin), ("all", every), ("greek", "α-scaling")):
        (tmp_path / f"{name}.tex").write_text(preamble + f"\\title{{{tex_escape(title)}}}\\author{{A}}\\date{{}}\n"
                                              "\\begin{document}\\maketitle\\end{document}\n")
    compile_pdf(tmp_path / "latin.tex", tmp_path / "latin.pdf")
    compile_pdf(tmp_path / "all.tex", tmp_path / "all.pdf")
    with pytest.raises(RuntimeError, match="U\\+03B1"):
        compile_pdf(tmp_path / "greek.tex", tmp_path / "greek.pdf")


def test_split_sizes_match_scikit_learn():
    from tinyscale.datasets.digits import load_digits_split, split_sizes

    for fraction in (0.25, 0.0056, 0.9944):
        train_x, _, test_x, _, _ = load_digits_split(fraction, 0)
        assert split_sizes({"test_fraction": fraction}) == (len(train_x), len(test_x))
    for fraction in (0.005, 0.9945):  # one image short of a class on one side
        with pytest.raises(ValueError, match="test_size|train_size"):
            load_digits_split(fraction, 0)
        with pytest.raises(ValueError, match="data.test_fraction"):
            split_sizes({"test_fraction": fraction})


def test_command_line_values_are_typed_by_the_schema():
    # Snakemake parses --config train="{lr: 1e-3, nesterov: true}" seeds="[0, 1]" into strings
    cfg = apply_overrides(copy.deepcopy(BASE), {
        "train": {"lr": "1e-3", "nesterov": "true", "bf16": "false", "channels_last": "auto", "compile_cache": "null"},
        "seeds": ["0", "1"], "models": {"scalecnn": ["2", "4"]}, "title": "42",
        "studies": {"precision": {"bits": ["32", "4"], "enabled": "false"}},
    })
    assert cfg["train"] == {"lr": 1e-3, "nesterov": True, "bf16": False, "channels_last": "auto", "compile_cache": None}
    assert cfg["seeds"] == [0, 1] and cfg["models"] == {"scalecnn": [2, 4]} and cfg["title"] == "42"
    assert cfg["studies"]["precision"] == {"bits": [32, 4], "enabled": False}
    assert cfg["augment"] == BASE["augment"]  # sections merge, not replace
    validate_config(cfg)
    with pytest.raises(ConfigError, match=r"config key 'train.lr' is 'fast'"):
        validate_config(apply_overrides(copy.deepcopy(BASE), {"train": {"lr": "fast"}}))


# Through Snakemake: refused while the workflow is read, so no job is ever listed or run.
def dry_run(tmp_path, *args):
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.run(["snakemake", "-s", str(ROOT / "Snakefile"), "-d", str(tmp_path), "--dry-run", *args],
                          capture_output=True, text=True, env=env)


@pytest.mark.parametrize("patch,key", [
    ({"analysis": {"kaplan_alpha": 0}}, "analysis.kaplan_alpha"),
    ({"train": {"batch_size": 5000}}, "train.batch_size"),
    ({"title": "α-scaling"}, "title"),
])
def test_snakemake_refuses_before_any_job(tmp_path, patch, key):
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(merged(BASE, patch), allow_unicode=True))
    proc = dry_run(tmp_path, "--configfile", str(tmp_path / "bad.yaml"))
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and f"config key '{key}'" in out, out
    assert "Job stats" not in out and "rule train" not in out


def test_config_without_configfile_extends_the_default(tmp_path):
    # the paper's 90 runs, with a nested override typed (a string lr would be refused)
    proc = dry_run(tmp_path, "--config", "name=other", "train={lr: 0.05, epochs: 2}", "--quiet", "rules")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # training rules come one per resource class (train, train_r1, …)
    stats = proc.stdout.split("\ntotal")[0]  # the job-stats table, printed once more at the end
    counts = re.findall(r"^train(?:_r\d+)?\s+(\d+)$", stats, re.MULTILINE)
    assert sum(map(int, counts)) == 90, proc.stdout
    proc = dry_run(tmp_path, "--config", "train={momentum: 5}")
    assert proc.returncode != 0 and "config key 'train.momentum' is 5:" in proc.stdout + proc.stderr

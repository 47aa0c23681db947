"""The workbench takes a new family by one registry entry: a test registers a two-layer MLP in a
plugin file of its own and builds the paper with it end to end, touching no other file; the
workflow also runs from another working directory and as a Snakemake module."""

import json
import re
import subprocess
import textwrap

import pytest
import yaml
from conftest import TINY, assert_reads_cleanly, copy_project, pdf_text, snakemake

pytestmark = pytest.mark.workflow

MLP_PLUGIN = textwrap.dedent('''
    """A throwaway family for a test: a two-layer MLP whose hidden width is the width."""
    from torch import nn

    from tinyscale.families import Family, register


    def mlp(width, num_classes, in_channels):
        return nn.Sequential(nn.Flatten(), nn.LazyLinear(width), nn.ReLU(), nn.Linear(width, num_classes))


    register(Family(
        name="mlp", label="TinyMLP", width_letter="h", width_type=int, colour="#2ca02c", marker="^",
        build=mlp, epoch_seconds=lambda h: 1 + h / 100, description="TinyMLP($h$) is a two-layer perceptron.",
    ))
''')


def test_a_family_registered_in_a_plugin_builds_the_paper(tmp_path):
    project = copy_project(tmp_path)
    (project / "mlp_family.py").write_text(MLP_PLUGIN)
    config = {**TINY, "name": "mlp", "plugins": ["mlp_family.py"], "models": {"mlp": [8, 16, 32], "scalecnn": [2]},
              "seeds": [0], "train": {**TINY["train"], "epochs": 1}}
    (project / "mlp.yaml").write_text(yaml.safe_dump(config))
    snakemake(project, config="mlp.yaml")
    numbers = json.loads((project / "results/mlp/numbers.json").read_text())
    fam = numbers["width_sweep"]["families"]["mlp"]
    assert fam["label"] == "TinyMLP" and fam["n_sizes"] == 3 and fam["fit"] is not None
    assert (project / "results/mlp/runs/mlp-h16-cosine-s0/model.pt").exists()
    text = pdf_text(project / "results/mlp/paper/paper.pdf")
    assert "TinyMLP" in text and "h=16" in text and "two-layer perceptron" in text
    assert f"{fam['fit']['alpha']:.3f}" in text
    assert_reads_cleanly(project / "results/mlp/paper/paper.pdf")


def test_the_workflow_runs_from_another_directory_and_as_a_module(tmp_path):
    (tmp_path / "tinyscale").mkdir()
    project = copy_project(tmp_path / "tinyscale")
    work = tmp_path / "analysis"
    work.mkdir()
    (work / "tiny.yaml").write_text(yaml.safe_dump(TINY))
    proc = subprocess.run(["snakemake", "-n", "-s", str(project / "Snakefile"), "-d", str(work), "--configfile", "tiny.yaml"],
                          cwd=work, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert "compile_paper" in proc.stdout and "train" in proc.stdout
    (work / "Snakefile").write_text(textwrap.dedent(f'''
        configfile: "tiny.yaml"

        module tinyscale:
            snakefile: "{project / 'Snakefile'}"
            config: config

        use rule * from tinyscale as tinyscale_*

        rule all:
            input: rules.tinyscale_all.input
            default_target: True
    '''))
    proc = subprocess.run(["snakemake", "-n", "--cores", "1"], cwd=work, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert "tinyscale_compile_paper" in proc.stdout and "tinyscale_train" in proc.stdout


def test_pack_seeds_trains_each_configuration_in_one_job(tmp_path):
    """With train.pack_seeds a job owns all seeds of one configuration and writes each run's files."""
    project = copy_project(tmp_path)
    config = {**TINY, "name": "packed", "models": {"scalecnn": [2, 3]}, "train": {**TINY["train"], "pack_seeds": True}}
    (project / "packed.yaml").write_text(yaml.safe_dump(config))
    dry = snakemake(project, "--dry-run", config="packed.yaml").stdout
    assert re.search(r"^train_packed_0\s+2$", dry, re.MULTILINE) and not re.search(r"^train\s", dry, re.MULTILINE)
    snakemake(project, "results/packed/runs/scalecnn-c2-cosine-s1/model.pt", config="packed.yaml")
    for seed in (0, 1):
        record = json.loads((project / f"results/packed/runs/scalecnn-c2-cosine-s{seed}/run.json").read_text())
        assert record["packed_with"] == ["scalecnn-c2-cosine-s0", "scalecnn-c2-cosine-s1"]
        assert record["epochs_done"] == 2
    log = (project / "results/packed/logs/train/scalecnn-c2-cosine.log").read_text()
    assert "[scalecnn-c2-cosine ×2] epoch 2/2" in log

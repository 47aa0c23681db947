"""The workflow end to end on a tiny config: a PDF that states the computed α, minimal rebuilds, lint."""

import json
import re
import subprocess
import sys
import time

import pytest
import yaml

from conftest import TINY, copy_project, snakemake

pytestmark = pytest.mark.workflow



def planned_jobs(project, config="tiny.yaml"):
    """{rule: count} of what a dry run would execute."""
    out = snakemake(project, "--dry-run", config=config).stdout
    if "Nothing to be done" in out:
        return {}
    table = out.split("Job stats:")[1].split("total")[0]
    return {m[0]: int(m[1]) for m in re.findall(r"^(\w+)\s+(\d+)$", table, re.MULTILINE)}


def write_config(project, name, **changes):
    (project / name).write_text(yaml.safe_dump({**TINY, **changes}))


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A copy of the project with the tiny config, built once to the PDF."""
    project = copy_project(tmp_path_factory.mktemp("project"))
    write_config(project, "tiny.yaml")
    snakemake(project)
    return project


def test_pdf_states_the_alpha_of_numbers_json(project):
    pdf = project / "results/tiny/paper/paper.pdf"
    assert pdf.stat().st_size > 10_000
    numbers = json.loads((project / "results/tiny/numbers.json").read_text())
    ws = numbers["width_sweep"]
    alpha = ws["families"]["scalecnn"]["fit"]["alpha"]
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    text = " ".join(text.split())
    assert f"{alpha:.3f}" in text
    assert ws["families"]["mobilenetv2"]["fit"] is None
    assert "not fitted: 1 size(s) in the sweep" in text
    assert not re.search(r"\bnan\b", text, re.IGNORECASE)
    assert ws["n_runs"] == 8 and numbers["compute"]["n_runs"] == 8 and numbers["studies"] == ["width_sweep"]


def test_run_outputs_and_provenance(project):
    run = project / "results/tiny/runs/scalecnn-c2-cosine-s1"
    record = json.loads((run / "run.json").read_text())
    assert record["epochs_done"] == 2 and record["num_params"] > 0 and record["wall_time_s"] > 0
    assert record["run_id"] == "scalecnn-c2-cosine-s1" and record["recipe"] == "cosine"
    assert {"code_version", "torch", "torchvision", "numpy", "device", "python"} <= set(record)
    log = (run / "train_log.csv").read_text().splitlines()
    assert log[0] == "epoch,lr,train_loss,test_acc,epoch_time_s" and len(log) == 3
    assert not (project / "results/tiny/state/scalecnn-c2-cosine-s1.pt").exists()  # removed once complete
    import numpy as np

    with np.load(run / "predictions.npz") as z:
        assert z["probs"].dtype == np.float32 and z["probs"].shape == (450, 10) and z["preds"].shape == (450,)
    progress = (project / "results/tiny/logs/train/scalecnn-c2-cosine-s1.log").read_text()
    assert "epoch 2/2" in progress and "ETA" in progress


def test_nothing_to_do_after_a_build(project):
    assert planned_jobs(project) == {}


def edit(path):
    """A real edit (Snakemake compares checksums, so touching alone would not count)."""
    with open(path, "a") as fh:
        fh.write("\n# edited by a test\n" if path.suffix == ".py" else "\n%# edited by a test\n")


TEMPLATES = "src/tinyscale/paper/templates"
FIGURES = "src/tinyscale/paper/figures"


def test_editing_a_template_reruns_only_render_and_compile(project):
    edit(project / TEMPLATES / "width_sweep/results.tex.j2")
    assert planned_jobs(project) == {"render_paper": 1, "compile_paper": 1, "all": 1}
    snakemake(project)
    assert planned_jobs(project) == {}


def test_editing_a_figures_code_reruns_only_that_figure_and_the_paper(project):
    edit(project / FIGURES / "ece.py")
    assert planned_jobs(project) == {"figure_ece": 1, "compile_paper": 1, "all": 1}
    snakemake(project)
    assert planned_jobs(project) == {}


def test_adding_a_seed_or_a_width_trains_only_the_new_runs(project):
    write_config(project, "more_seeds.yaml", seeds=[0, 1, 2])
    jobs = planned_jobs(project, "more_seeds.yaml")
    assert jobs["train"] == 4 and "predict" not in jobs  # three ScaleCNN sizes + one MobileNetV2, seed 2; training predicts
    write_config(project, "more_widths.yaml", models={"scalecnn": [2, 3, 4, 5], "mobilenetv2": [0.1]})
    jobs = planned_jobs(project, "more_widths.yaml")
    assert jobs["train"] == 2 and "prepare_data" not in jobs


# Settings that cannot change a run's weights, each changed on the built project.
OPERATIONAL = [
    ("device", {"device": "auto"}),
    ("jobs_per_gpu", {"jobs_per_gpu": 2}),
    ("checkpoint_every", {"train": {**TINY["train"], "checkpoint_every": 2}}),
    ("eval_every", {"train": {**TINY["train"], "eval_every": 2}}),
    ("keep_resume_state", {"train": {**TINY["train"], "keep_resume_state": True}}),
    ("compile_cache", {"train": {**TINY["train"], "compile_cache": "/tmp/elsewhere"}}),
]


@pytest.mark.parametrize("key,change", OPERATIONAL, ids=[k for k, _ in OPERATIONAL])
def test_operational_settings_retrain_nothing(project, key, change):
    write_config(project, f"op_{key}.yaml", **change)
    assert planned_jobs(project, f"op_{key}.yaml") == {}


def test_title_and_authors_rebuild_only_the_paper(project):
    write_config(project, "retitled.yaml", title="Another title", authors="Someone Else")
    assert planned_jobs(project, "retitled.yaml") == {"render_paper": 1, "compile_paper": 1, "all": 1}


def test_a_weight_changing_setting_retrains(project):
    write_config(project, "lr.yaml", train={**TINY["train"], "lr": 0.04})
    assert planned_jobs(project, "lr.yaml")["train"] == 8


def test_scripts_run_outside_snakemake(project):
    """A workflow script runs as a plain Python program through the mock snakemake object."""
    pdf = project / "results/tiny/figures/ece.pdf"
    pdf.unlink()
    code = (
        "import sys; sys.path.insert(0, 'workflow/scripts')\n"
        "from _helpers import mock_snakemake\n"
        "snakemake = mock_snakemake('figure_ece', configfile='tiny.yaml')\n"
        "exec(open('workflow/scripts/figure.py').read())\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=project, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert pdf.stat().st_size > 1000


def test_a_deleted_checkpoint_is_rebuilt(project):
    (project / "results/tiny/runs/scalecnn-c3-cosine-s0/model.pt").unlink()
    assert planned_jobs(project)["train"] == 1
    snakemake(project)
    assert planned_jobs(project) == {}  # the retrained run is bit-identical: its tables did not change


def test_deleted_predictions_logs_and_tables_are_rebuilt(project):
    """Files nothing downstream reads (a training log, tables the paper does not print) are rebuilt too."""
    root = project / "results/tiny"
    for path in ("runs/scalecnn-c3-cosine-s1/predictions.npz", "runs/scalecnn-c4-cosine-s0/train_log.csv",
                 "tables/runs.csv", "tables/per_class.csv", "tables/reliability.csv", "tables/calibration.csv",
                 "tables/summary.csv", "reference/runs.csv"):
        (root / path).unlink()
    jobs = planned_jobs(project)
    assert jobs["train"] == 2 and jobs["aggregate"] == 1 and jobs["analyse_width_sweep"] == 1 and jobs["reference"] == 1
    snakemake(project)
    assert planned_jobs(project) == {}


def truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


# (damaged file, the rule that rebuilds it): each is found by the first job that reads it
# (aggregate, environment, a train job), which sets it aside and names it.
TRUNCATED = [
    ("runs/scalecnn-c3-cosine-s1/predictions.npz", "train"),
    ("runs/scalecnn-c2-cosine-s0/model.pt", "train"),
    ("data/dataset.npz", "prepare_data"),
]


@pytest.mark.parametrize("file,rule", TRUNCATED, ids=[f.split("/")[-1] for f, _ in TRUNCATED])
def test_a_truncated_file_is_named_and_the_same_command_rebuilds_it(project, file, rule):
    path = project / "results/tiny" / file
    truncate(path)
    failed = snakemake(project, check=False)
    assert failed.returncode != 0
    out = failed.stdout + failed.stderr
    assert f"results/tiny/{file}: not a readable" in out, out[-3000:]
    assert f"Moved it to results/tiny/{file}.corrupt; run the same command again and Snakemake rebuilds it (rule {rule})" in out
    assert not path.exists() and path.with_name(path.name + ".corrupt").exists()
    snakemake(project)  # the same command
    assert path.exists() and planned_jobs(project) == {}

def test_figures_are_byte_stable(project):
    fig = project / "results/tiny/figures/error_vs_params.pdf"
    before = fig.read_bytes()
    time.sleep(1)
    snakemake(project, "--forcerun", "figure_error_vs_params", "--until", "figure_error_vs_params")
    assert fig.read_bytes() == before


def test_lint_is_clean(project):
    proc = snakemake(project, "--lint", check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_bad_config_fails_before_any_job(project):
    write_config(project, "bad.yaml", device="tpu")
    proc = snakemake(project, "--dry-run", config="bad.yaml", check=False)
    assert proc.returncode != 0
    assert "config key 'device' is 'tpu'; allowed values: 'auto', 'cpu', 'cuda'" in proc.stdout + proc.stderr

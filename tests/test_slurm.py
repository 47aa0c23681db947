"""The workflow on a real (one-node, local) SLURM cluster through the executor plugin.

`.ci/run` starts the cluster with tests/slurm/start-cluster.sh; elsewhere these tests skip.
"""

import json
import re
import shutil
import subprocess
import time

import pytest
import torch
import yaml

from conftest import ROOT, TINY, assert_reads_cleanly, copy_project, snakemake

pytestmark = pytest.mark.workflow


def _cluster_problem() -> str | None:
    if shutil.which("sinfo") is None:
        return "SLURM is not installed"
    try:
        import snakemake_executor_plugin_slurm  # noqa: F401
    except ImportError:
        return "the SLURM executor plugin is not installed (./setup.sh --test installs it)"
    proc = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True)
    if proc.returncode != 0 or not re.search(r"idle|mixed|allocated", proc.stdout):
        return f"no SLURM node is up ({(proc.stdout + proc.stderr).strip() or 'sinfo printed nothing'})"
    return None


PROBLEM = _cluster_problem()
if PROBLEM:
    pytestmark = [pytestmark, pytest.mark.skip(reason=f"{PROBLEM}; start one with `sudo tests/slurm/start-cluster.sh`")]


def slurm_profile(project):
    """profiles/slurm, plus what this one-node cluster without accounting needs."""
    profile = yaml.safe_load((ROOT / "profiles/slurm/config.yaml").read_text())
    for rule in ("train", "train_curve"):
        profile["set-resources"][rule].update(cpus_per_gpu=1, mem_mb=1000)
        profile["set-threads"][rule] = 1
    profile.update({
        "jobs": 4,
        "latency-wait": 5,
        "default-resources": ["slurm_partition=debug", "mem_mb=1000"],
        "slurm-no-account": True,  # no accounting database here
        "slurm-status-command": "squeue",
        "slurm-init-seconds-before-status-checks": 2,
    })
    path = project / "profiles" / "slurm-local"
    path.mkdir(exist_ok=True)
    (path / "config.yaml").write_text(yaml.safe_dump(profile))
    return path


def slurm_jobs(workdir) -> list[dict]:
    """SLURM's own records of the jobs that ran in `workdir` (kept by MinJobAge)."""
    out = subprocess.run(["scontrol", "show", "job", "-o"], capture_output=True, text=True, check=True).stdout
    jobs = [dict(re.findall(r"(\w+)=(\S*)", line)) for line in out.splitlines() if line.strip()]
    return [j for j in jobs if j.get("WorkDir") == str(workdir)]


def weights(path):
    return torch.load(path, map_location="cpu", weights_only=False)["model"]


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    project = copy_project(tmp_path_factory.mktemp("slurm"))
    small = {**TINY, "models": {"scalecnn": [2, 3, 4]}, "seeds": [0]}  # 3 runs: SLURM jobs are slow to start
    (project / "local.yaml").write_text(yaml.safe_dump({**small, "name": "local"}))
    (project / "cluster.yaml").write_text(yaml.safe_dump({**small, "name": "cluster"}))
    slurm_profile(project)
    return project


def test_workflow_on_slurm_matches_a_local_run(project):
    snakemake(project, config="local.yaml")
    snakemake(project, "--workflow-profile", "profiles/slurm-local", config="cluster.yaml", cores=False)

    local = json.loads((project / "results/local/numbers.json").read_text())
    cluster = json.loads((project / "results/cluster/numbers.json").read_text())
    assert cluster["width_sweep"]["families"] == local["width_sweep"]["families"]
    assert (project / "results/cluster/paper/paper.pdf").stat().st_size > 10_000
    assert_reads_cleanly(project / "results/cluster/paper/paper.pdf")

    jobs = slurm_jobs(project)
    rules = [re.match(r"rule_(\w+?)_wildcards|rule_(\w+)", j.get("Comment", "")) for j in jobs]
    rules = [m.group(1) or m.group(2) for m in rules if m]
    n_runs = 3
    # every job of the DAG (but the local target rule `all`) ran as a SLURM job
    assert rules.count("train") == n_runs
    for rule in ("prepare_data", "aggregate", "analyse_width_sweep", "numbers", "render_paper",
                 "compile_paper", "figure_ece"):
        assert rules.count(rule) == 1, rule
    assert all(j["JobState"] == "COMPLETED" for j in jobs), [j["JobState"] for j in jobs]
    for job, rule in zip(jobs, rules):
        has_gpu = job.get("TresPerJob") == "gres:gpu:1"
        assert has_gpu == (rule == "train"), (rule, job.get("TresPerJob"))


def test_cancelled_training_job_resumes_and_ends_identical(project):
    config = {**TINY, "name": "cancel", "models": {"scalecnn": [2]}, "seeds": [0],
              "train": {**TINY["train"], "epochs": 60, "checkpoint_every": 5, "eval_every": 20}}
    (project / "cancel.yaml").write_text(yaml.safe_dump(config))
    (project / "uncut.yaml").write_text(yaml.safe_dump({**config, "name": "uncut"}))
    target = "results/{}/runs/scalecnn-c2-cosine-s0/model.pt"
    snakemake(project, target.format("uncut"), config="uncut.yaml")

    log = project / "results/cancel/logs/train/scalecnn-c2-cosine-s0.log"
    run = subprocess.Popen(
        ["snakemake", "--workflow-profile", "profiles/slurm-local", target.format("cancel"), "--configfile", "cancel.yaml"],
        cwd=project, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    deadline = time.time() + 300
    while not (log.exists() and "epoch 12/60" in log.read_text()):
        assert run.poll() is None and time.time() < deadline, "training never reached epoch 12"
        time.sleep(0.2)
    train = [j for j in slurm_jobs(project) if j.get("Comment", "").startswith("rule_train") and j["JobState"] == "RUNNING"]
    assert len(train) == 1
    subprocess.run(["scancel", train[0]["JobId"]], check=True)
    out, _ = run.communicate(timeout=600)
    assert run.returncode == 0, out[-4000:]

    states = {j["JobId"]: j["JobState"] for j in slurm_jobs(project) if j.get("Comment", "").startswith("rule_train")}
    assert states[train[0]["JobId"]] == "CANCELLED"
    resumed = re.search(r"resuming from epoch (\d+) step (\d+)", log.read_text())
    assert resumed and int(resumed[1]) >= 10, log.read_text()[:2000]
    record = json.loads((project / "results/cancel/runs/scalecnn-c2-cosine-s0/run.json").read_text())
    assert record["resumed_from"]["epoch"] == int(resumed[1])
    a, b = weights(project / target.format("cancel")), weights(project / target.format("uncut"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)

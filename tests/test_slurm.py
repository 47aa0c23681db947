"""The workflow on a real (one-node, local) SLURM cluster through the executor plugin.

`.ci/run` starts the cluster with tests/slurm/start-cluster.sh; elsewhere these tests skip.
"""

import json
import re
import shlex
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


# The test cluster's values for what README's command names as the user's own.
USER_VALUES = {"slurm_account=my_lab": "slurm_account=tinyscale_test", "slurm_partition=gpu": "slurm_partition=debug",
               "gpu_model=a100": "gpu_model=tinygpu"}
# Test-only settings that no profile key or README option sets: status checks soon and by
# squeue (no accounting database here), short waits, and the sbatch calls in the log (-verbose).
TEST_ONLY = ["--slurm-init-seconds-before-status-checks", "2", "--slurm-status-command", "squeue",
             "--latency-wait", "5", "--verbose"]


def readme_command() -> list[str]:
    """README's cluster command ("Run on SLURM", step 2), with the test cluster's account,
    partition and GPU model put where the user puts theirs."""
    section = (ROOT / "README.md").read_text().split("## Run on SLURM", 1)[1]
    block = re.search(r"```bash\n\s*(snakemake --workflow-profile.*?)\n\s*```", section, re.S)
    assert block, "README's 'Run on SLURM' has no snakemake --workflow-profile command"
    words = shlex.split(block[1].replace("\\\n", " "))
    for documented, test_value in USER_VALUES.items():
        assert documented in words, f"README's cluster command no longer gives {documented}"
        words[words.index(documented)] = test_value
    return words


def run_documented(project, *targets, config, extra=(), **popen):
    """README's command in `project`, for `targets` of `config`, with README's `extra` options
    (targets and options first: --config takes every word after it)."""
    words = readme_command()
    cmd = [words[0], *targets, *extra, *TEST_ONLY, *words[1:], "--configfile", config]
    return subprocess.Popen(cmd, cwd=project, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **popen)


def finish(proc) -> str:
    out, _ = proc.communicate(timeout=900)
    assert proc.returncode == 0, out[-6000:]
    return out


def slurm_jobs(workdir) -> list[dict]:
    """SLURM's own records of the jobs that ran in `workdir` (kept by MinJobAge)."""
    out = subprocess.run(["scontrol", "show", "job", "-o"], capture_output=True, text=True, check=True).stdout
    jobs = [dict(re.findall(r"([\w/:]+)=(\S*)", line)) for line in out.splitlines() if line.strip()]
    return [j for j in jobs if j.get("WorkDir") == str(workdir)]


def job_rule(job) -> str | None:
    m = re.match(r"rule_(\w+?)_wildcards_|rule_(\w+)$", job.get("Comment", ""))
    return m and (m.group(1) or m.group(2))


def sbatch_calls(log: str) -> dict[str, str]:
    """The plugin's sbatch call per job comment (Snakemake --verbose logs each)."""
    calls = re.findall(r"sbatch call: (sbatch .*)", log)
    return {re.search(r"--comment (\S+)", c)[1].strip("'"): c for c in calls}


def minutes(limit: str) -> int:
    days, _, hms = limit.rpartition("-")
    h, m, s = (int(x) for x in hms.split(":"))
    return (int(days or 0) * 24 + h) * 60 + m + (s > 0)


def weights(path):
    return torch.load(path, map_location="cpu", weights_only=False)["model"]


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    project = copy_project(tmp_path_factory.mktemp("slurm"))
    # 3 runs (SLURM jobs are slow to start); device auto, as the paper's config: the GPU model
    # makes training jobs ask for a GPU, and in the job, without CUDA, training runs on the CPU.
    small = {**TINY, "device": "auto", "models": {"scalecnn": [2, 3, 4]}, "seeds": [0]}
    (project / "local.yaml").write_text(yaml.safe_dump({**small, "name": "local"}))
    (project / "cluster.yaml").write_text(yaml.safe_dump({**small, "name": "cluster"}))
    return project


def test_documented_command_keeps_every_resource_and_matches_a_local_run(project):
    """README's command on the real cluster. SLURM's job records (scontrol; no accounting
    database here) show each training job's GPU request with the model, memory, CPUs, time
    limit, account and partition; SLURM 22.05 records no --signal, so that is read from the
    sbatch call Snakemake logged for the same job. Expected values come from tinyscale.runs."""
    from tinyscale.runs import Run, cpus, memory_mb, runtime_minutes

    snakemake(project, config="local.yaml")
    log = finish(run_documented(project, config="cluster.yaml"))

    local = json.loads((project / "results/local/numbers.json").read_text())
    cluster = json.loads((project / "results/cluster/numbers.json").read_text())
    assert cluster["width_sweep"]["families"] == local["width_sweep"]["families"]
    assert (project / "results/cluster/paper/paper.pdf").stat().st_size > 10_000
    assert_reads_cleanly(project / "results/cluster/paper/paper.pdf")

    jobs = slurm_jobs(project)
    rules = [job_rule(j) for j in jobs]
    # every job of the DAG (but the local target rule `all`) ran as a SLURM job
    assert rules.count("train") == 3
    for rule in ("prepare_data", "aggregate", "analyse_width_sweep", "numbers", "render_paper",
                 "compile_paper", "figure_ece"):
        assert rules.count(rule) == 1, rule
    assert all(j["JobState"] == "COMPLETED" for j in jobs), [j["JobState"] for j in jobs]
    assert {j["Account"] for j in jobs} == {"tinyscale_test"} and {j["Partition"] for j in jobs} == {"debug"}
    calls = sbatch_calls(log)
    for job, rule in zip(jobs, rules):
        if rule != "train":
            assert "gpu" not in job.get("TresPerJob", ""), (rule, job.get("TresPerJob"))
            assert "--signal" not in calls[job["Comment"]]
            continue
        run = Run("scalecnn", int(re.search(r"-c(\d+)-", job["Comment"])[1]), "cosine", 0)
        assert job["TresPerJob"] == "gres:gpu:tinygpu:1"
        assert job["MinMemoryNode"] == f"{memory_mb(run, 'digits', 128, gpu=True)}M"
        assert int(job["CPUs/Task"]) == cpus(run, "digits", 128, gpu=True)
        assert minutes(job["TimeLimit"]) == runtime_minutes(run, 2, "digits")
        assert "--signal=USR1@300" in calls[job["Comment"]]


def test_quick_config_runs_through_the_unchanged_profile(project):
    """The shipped profile and the quick config, nothing patched: its largest ScaleCNN run (and
    the data it needs) are accepted and run on this 2-CPU node."""
    from tinyscale.runs import Run, cpus, memory_mb

    target = "results/quick/runs/scalecnn-c8-cosine-s0/model.pt"
    finish(run_documented(project, target, config="config/quick.yaml"))
    assert (project / target).exists()
    train = [j for j in slurm_jobs(project) if j.get("Comment", "").endswith("scalecnn-c8-cosine-s0")]
    assert len(train) == 1 and train[0]["JobState"] == "COMPLETED"
    run = Run("scalecnn", 8, "cosine", 0)  # device: cpu in the quick config: no GPU
    assert train[0]["MinMemoryNode"] == f"{memory_mb(run, 'digits', 64, gpu=False)}M"
    assert int(train[0]["CPUs/Task"]) == cpus(run, "digits", 64, gpu=False)
    assert "gpu" not in train[0].get("TresPerJob", "")


def test_job_arrays_hold_runs_of_equal_resources(project):
    """README's command with --slurm-array-jobs=all (step 6): the three runs of one resource
    class go in one SLURM array, whose every task has their CPUs, memory and time limit (the
    plugin adds a few MB to an array's memory for the payload it carries)."""
    from tinyscale.runs import Run, cpus, memory_mb, runtime_minutes

    config = {**TINY, "name": "array", "device": "auto", "models": {"scalecnn": [2, 3, 4]}, "seeds": [0]}
    (project / "array.yaml").write_text(yaml.safe_dump(config))
    targets = [f"results/array/runs/scalecnn-c{c}-cosine-s0/model.pt" for c in (2, 3, 4)]
    finish(run_documented(project, *targets, config="array.yaml", extra=["--slurm-array-jobs=all"]))
    assert all((project / t).exists() for t in targets)

    tasks = [j for j in slurm_jobs(project) if job_rule(j) == "train" and j.get("ArrayTaskId")]  # only this test makes arrays
    assert len(tasks) == 3 and len({j["ArrayJobId"] for j in tasks}) == 1, tasks
    run = Run("scalecnn", 2, "cosine", 0)
    mem = memory_mb(run, "digits", 128, gpu=True)
    for task in tasks:
        assert task["JobState"] == "COMPLETED" and task["TresPerJob"] == "gres:gpu:tinygpu:1"
        assert mem <= int(task["MinMemoryNode"].rstrip("M")) <= mem + 16
        assert int(task["CPUs/Task"]) == cpus(run, "digits", 128, gpu=True)
        assert minutes(task["TimeLimit"]) == runtime_minutes(run, 2, "digits")


def test_cancelled_training_job_resumes_and_ends_identical(project):
    config = {**TINY, "name": "cancel", "models": {"scalecnn": [2]}, "seeds": [0],
              "train": {**TINY["train"], "epochs": 60, "checkpoint_every": 5, "eval_every": 20}}
    (project / "cancel.yaml").write_text(yaml.safe_dump(config))
    (project / "uncut.yaml").write_text(yaml.safe_dump({**config, "name": "uncut"}))
    target = "results/{}/runs/scalecnn-c2-cosine-s0/model.pt"
    snakemake(project, target.format("uncut"), config="uncut.yaml")

    log = project / "results/cancel/logs/train/scalecnn-c2-cosine-s0.log"
    run = run_documented(project, target.format("cancel"), config="cancel.yaml")
    deadline = time.time() + 300
    while not (log.exists() and "epoch 12/60" in log.read_text()):
        assert run.poll() is None and time.time() < deadline, "training never reached epoch 12"
        time.sleep(0.2)
    train = [j for j in slurm_jobs(project) if j.get("Comment", "").startswith("rule_train") and j["JobState"] == "RUNNING"]
    assert len(train) == 1
    subprocess.run(["scancel", train[0]["JobId"]], check=True)
    finish(run)

    states = {j["JobId"]: j["JobState"] for j in slurm_jobs(project) if j.get("Comment", "").startswith("rule_train")}
    assert states[train[0]["JobId"]] == "CANCELLED"
    resumed = re.search(r"resuming from epoch (\d+) step (\d+)", log.read_text())
    assert resumed and int(resumed[1]) >= 10, log.read_text()[:2000]
    record = json.loads((project / "results/cancel/runs/scalecnn-c2-cosine-s0/run.json").read_text())
    assert record["resumed_from"]["epoch"] == int(resumed[1])
    a, b = weights(project / target.format("cancel")), weights(project / target.format("uncut"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)

"""What training jobs ask of a cluster (dry runs; tests/test_slurm.py submits them): computed
from each run, equal within a rule so that a SLURM job array (whose tasks all get its first
job's resources) never mixes runs of different needs, and nothing in profiles/slurm that the
README's command-line options would replace."""

import re
import subprocess

import pytest
import yaml
from conftest import ROOT, copy_project

from tinyscale.runs import any_of

pytestmark = pytest.mark.workflow


def planned_jobs(project, *args) -> list[dict]:
    """Rule, wildcards, threads and resources of every job of a forced dry run."""
    out = subprocess.run(["snakemake", "-n", "-F", "--cores", "64", *args], cwd=project,
                         capture_output=True, text=True, check=True).stdout
    jobs = []
    for block in re.split(r"\n(?=rule \w+:)", out)[1:]:
        resources = re.search(r"resources: (.*)", block)
        jobs.append({
            "rule": re.match(r"rule (\w+):", block)[1],
            "run": (re.search(r"wildcards: run=(\S+)", block) or [None, None])[1],
            "threads": int((re.search(r"threads: (\d+)", block) or [None, 1])[1]),
            "resources": dict(re.findall(r"(\w+)=('[^']*'|[^,]+)", resources[1])) if resources else {},
        })
    return jobs


def test_train_rules_hold_runs_of_equal_resources_computed_from_each_run(tmp_path):
    from tinyscale.config import load_config
    from tinyscale.runs import cpus, memory_mb, parse_run_id, runtime_minutes

    project = copy_project(tmp_path)
    # the paper's config, as README's cluster command gives it (no --configfile)
    jobs = [j for j in planned_jobs(project, "--config", "gpu_model=a100") if j["rule"].startswith("train")]
    config = load_config(ROOT / "config" / "config.yaml")
    assert len(jobs) == 90

    asked = lambda j: (j["threads"], *(j["resources"].get(k) for k in ("mem_mb", "runtime", "gpu", "gpu_model", "slurm_extra")))  # noqa: E731
    by_rule = {}
    for job in jobs:
        by_rule.setdefault(job["rule"], set()).add(asked(job))
        run = parse_run_id(job["run"])
        assert asked(job) == (cpus(run, "cifar100", 128, gpu=True), str(memory_mb(run, "cifar100", 128, gpu=True)),
                              str(runtime_minutes(run, config["train"]["epochs"], "cifar100")),
                              "1", "a100", "'--signal=USR1@300'"), job
    assert all(len(v) == 1 for v in by_rule.values()), by_rule
    assert len(by_rule) >= 3 and len(set().union(*by_rule.values())) == len(by_rule)  # one rule per class
    assert "train" in by_rule and all(re.fullmatch(r"train(_r\d+)?", r) for r in by_rule)


def test_quick_config_on_cpu_asks_for_no_gpu_and_little_memory(tmp_path):
    project = copy_project(tmp_path)
    jobs = [j for j in planned_jobs(project, "--config", "gpu_model=a100", "--configfile", "config/quick.yaml")
            if j["rule"].startswith("train")]
    assert jobs and all(j["resources"]["gpu"] == "0" and "gpu_model" not in j["resources"] for j in jobs)
    assert {j["resources"]["mem_mb"] for j in jobs} == {"2500"}
    # the digits runs take one thread; the keyword-spotting arm's spectrograms are 60 times the
    # digits' area, so its widest models' steps are large enough for a few
    assert {j["threads"] for j in jobs if "-on_" not in j["run"]} == {1}
    assert {j["threads"] for j in jobs} <= {1, 4}


def test_slurm_profile_sets_nothing_the_documented_options_replace():
    # a command-line option replaces the whole top-level key of a profile (snakemake --help)
    profile = yaml.safe_load((ROOT / "profiles" / "slurm" / "config.yaml").read_text())
    assert not {"set-resources", "set-threads", "default-resources", "config"} & set(profile), profile


def test_any_of_matches_exactly_its_words():
    """The training rules' wildcard constraints: one regex per resource class, prefix-factored."""
    words = ["scalecnn-c16-cosine", "scalecnn-c1-cosine", "scalecnn-c16-cos", "mobilenetv2-w0.10-cosine", "a"]
    pattern = re.compile(any_of(words))
    assert all(pattern.fullmatch(w) for w in words)
    for other in ["scalecnn-c16-cosin", "scalecnn-c161-cosine", "scalecnn-c1", "scalecnn-c16-cosinex", "b", ""]:
        assert not pattern.fullmatch(other), other
    assert not re.compile(any_of([])).fullmatch("")  # no words: matches nothing

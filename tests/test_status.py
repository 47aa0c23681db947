"""`tinyscale status`: a partly built sweep, its files written by the real engine and writers — one
run done, one interrupted, one failed (diverged), one running, two pending — read back by state;
and the plan a real Snakemake build writes."""

import dataclasses
import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import ROOT, TINY, copy_project, snakemake

from tinyscale.config import defaults
from tinyscale.datasets import Dataset
from tinyscale.engine.heartbeat import heartbeat_path
from tinyscale.engine.loop import Diverged, run_to_completion, train
from tinyscale.engine.recipes import EngineSettings, cosine_recipe
from tinyscale.engine.signals import Interrupted
from tinyscale.io import log_to, read_json, write_json
from tinyscale.runs import Run
from tinyscale.status import format_status, plan_entry, sweep_status, write_plan

RECIPE = dataclasses.replace(cosine_recipe({"train": defaults("train"), "augment": defaults("augment")}),
                             epochs=3, batch_size=32, lr=0.05)  # 96 images: 3 steps per epoch
SETTINGS = EngineSettings(eval_every=1, checkpoint_every=1, keep_resume_state=False, compile_cache=None)
DONE, INTERRUPTED = Run("scalecnn", 2, "cosine", 0), Run("scalecnn", 2, "cosine", 1)
FAILED, RUNNING = Run("scalecnn", 3, "cosine", 0), Run("scalecnn", 3, "cosine", 1)
PENDING = [Run("scalecnn", 4, "cosine", 0), Run("scalecnn", 4, "cosine", 1)]


def dataset(n_train=96, n_test=32, classes=4):
    rng = np.random.default_rng(0)
    y, yt = rng.integers(0, classes, n_train), rng.integers(0, classes, n_test)
    x = rng.integers(0, 256, (n_train, 1, 8, 8), dtype=np.uint8)
    xt = rng.integers(0, 256, (n_test, 1, 8, 8), dtype=np.uint8)
    return Dataset(x, y, xt, yt, [str(i) for i in range(classes)], np.array([0.5]), np.array([0.3]), "tiny")


def paths(root, run):
    """Where the workflow puts a run's files (workflow/rules/train.smk, unpacked)."""
    return {"record": root / f"runs/{run.id}/run.json", "state": root / f"state/{run.id}.pt",
            "log": root / f"logs/train/{run.id}.log"}


def job(root, run, recipe=RECIPE, settings=SETTINGS, **kw):
    """One training job as workflow/scripts/train.py runs it: output and traceback in its log."""
    p = paths(root, run)
    with log_to(p["log"]):
        if kw:  # stopped before the end
            return train([run], dataset(), recipe, settings, state_paths=[p["state"]], **kw)
        out = {k: root / f"runs/{run.id}/{v}" for k, v in
               (("model", "model.pt"), ("csv", "train_log.csv"), ("pred", "predictions.npz"))}
        (result,) = run_to_completion([run], dataset(), recipe, settings, "cpu", [out["model"]], [out["csv"]],
                                      [p["state"]], prediction_paths=[out["pred"]])
        write_json(p["record"], {**run.as_dict(), **result.provenance})


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    root = tmp_path_factory.mktemp("project") / "results/tiny"
    runs = [DONE, INTERRUPTED, FAILED, RUNNING, *PENDING]
    write_plan(root, "tiny", [plan_entry(r, RECIPE.epochs, str(root), **{k: str(v) for k, v in paths(root, r).items()})
                              for r in runs])
    job(root, DONE)
    with pytest.raises(Interrupted):  # a signal after four steps: epoch 1 step 1, state saved
        job(root, INTERRUPTED, stop_after_steps=4)
    with pytest.raises(Diverged):
        job(root, FAILED, dataclasses.replace(RECIPE, lr=1e6), dataclasses.replace(SETTINGS, checkpoint_every=10))
    # A job that is still training: this test's own process wrote its heartbeat and log, no error.
    p = paths(root, RUNNING)
    with log_to(p["log"]), pytest.raises(Interrupted):
        train([RUNNING], dataset(), RECIPE, SETTINGS, state_paths=[p["state"]], stop_after_steps=4)
    return root


def by_run(status):
    return {r["run"]: r for c in status["configurations"] for r in c["runs"]}


def test_each_run_has_its_state(sweep):
    status = sweep_status(sweep)
    runs = by_run(status)
    assert {k: r["state"] for k, r in runs.items()} == {
        DONE.id: "done", INTERRUPTED.id: "interrupted", FAILED.id: "failed", RUNNING.id: "running",
        PENDING[0].id: "pending", PENDING[1].id: "pending"}
    assert not heartbeat_path(paths(sweep, DONE)["state"]).exists()  # a finished job leaves no heartbeat

    stopped = runs[INTERRUPTED.id]
    assert stopped["resume_from"] == {"epoch": 1, "step": 1}
    assert stopped["remaining_epochs"] == pytest.approx(3 - 1 - 1 / 3)
    assert stopped["error"].startswith("tinyscale.engine.signals.Interrupted:") and "stopped at epoch 1 step 1" in stopped["error"]

    failed = runs[FAILED.id]
    assert "Diverged" in failed["error"] and "not finite" in failed["error"]
    assert failed["resume_from"] is None and failed["remaining_epochs"] == 3  # no state was saved: from the start

    running = runs[RUNNING.id]
    assert (running["epoch"], running["step"], running["steps_per_epoch"]) == (1, 1, 3)
    assert running["sec_per_epoch"] > 0 and running["error"] is None
    assert running["eta_s"] == pytest.approx((3 - 1 - 1 / 3) * running["sec_per_epoch"])


def test_configurations_totals_and_eta(sweep):
    status = sweep_status(sweep)
    configs = {c["configuration"]: c for c in status["configurations"]}
    assert list(configs) == ["scalecnn-c2-cosine", "scalecnn-c3-cosine", "scalecnn-c4-cosine"]
    assert configs["scalecnn-c2-cosine"]["counts"] == {"done": 1, "running": 0, "interrupted": 1, "failed": 0, "pending": 0}
    assert configs["scalecnn-c3-cosine"]["counts"] == {"done": 0, "running": 1, "interrupted": 0, "failed": 1, "pending": 0}
    assert configs["scalecnn-c4-cosine"]["counts"]["pending"] == 2
    assert status["totals"] == {"runs": 6, "done": 1, "running": 1, "interrupted": 1, "failed": 1, "pending": 2}
    # never measured: the cost model, scaled by the measured configurations' median ratio
    c4 = configs["scalecnn-c4-cosine"]
    assert not c4["measured"] and c4["sec_per_epoch"] > 0 and c4["eta_s"] == pytest.approx(6 * c4["sec_per_epoch"])
    assert configs["scalecnn-c2-cosine"]["measured"]
    assert status["running_jobs"] == 1
    assert status["eta_s"] == pytest.approx(sum(c["eta_s"] for c in configs.values()))


def test_a_silent_job_is_no_longer_running(sweep):
    later = sweep_status(sweep, now=time.time() + 3600, stale=600)
    running = by_run(later)[RUNNING.id]
    assert running["state"] == "interrupted" and running["error"] is None
    assert running["resume_from"] == {"epoch": 1, "step": 1}
    assert later["running_jobs"] == 0


def test_a_dead_process_on_this_host_is_not_running(sweep, tmp_path):
    import shutil

    root = tmp_path / "tiny"
    shutil.copytree(sweep, root)
    beat_file = heartbeat_path(paths(root, RUNNING)["state"])
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    write_json(beat_file, {**read_json(beat_file), "pid": gone.pid, "time": time.time()})
    assert by_run(sweep_status(root))[RUNNING.id]["state"] == "interrupted"
    # a log written after the dead process's beat does not revive it: its host's process table decides
    time.sleep(0.05)
    paths(root, RUNNING)["log"].write_text("")
    assert by_run(sweep_status(root))[RUNNING.id]["state"] == "interrupted"
    # a restarted job writes its heartbeat as it starts, before torch: running again, at its old position
    from tinyscale.engine.heartbeat import beat_at_start

    before = read_json(beat_file)
    beat_at_start([paths(root, RUNNING)["state"]])
    after = read_json(beat_file)
    assert (after["pid"], after["epoch"], after["saved"]) == (os.getpid(), before["epoch"], before["saved"])
    assert by_run(sweep_status(root))[RUNNING.id]["state"] == "running"
    # a resume state without a heartbeat (written before heartbeats existed): resumable, position unknown
    heartbeat_path(paths(root, INTERRUPTED)["state"]).unlink()
    stopped = by_run(sweep_status(root))[INTERRUPTED.id]
    assert (stopped["state"], stopped["state_saved"], stopped["resume_from"]) == ("interrupted", True, None)
    assert "  s1 interrupted: resumes from its saved state; " in format_status(sweep_status(root))


def test_packed_seeds_share_one_job(tmp_path):
    """With train.pack_seeds one job (one log) trains a configuration's seeds: each run reads its own
    heartbeat, its share of the job's time per epoch, and they count as one running job."""
    root = tmp_path / "results/tiny"
    runs = [DONE, INTERRUPTED]
    log = root / "logs/train/scalecnn-c2-cosine.log"
    write_plan(root, "tiny", [plan_entry(r, RECIPE.epochs, str(root), str(paths(root, r)["record"]),
                                         str(paths(root, r)["state"]), str(log)) for r in runs])
    with log_to(log), pytest.raises(Interrupted):
        train(runs, dataset(), RECIPE, SETTINGS, state_paths=[paths(root, r)["state"] for r in runs], stop_after_steps=4)
    status = sweep_status(root)
    (config,) = status["configurations"]
    assert config["counts"]["running"] == 2 and status["running_jobs"] == 1
    beat = read_json(heartbeat_path(paths(root, DONE)["state"]))
    assert beat["packed"] == 2 and config["runs"][0]["sec_per_epoch"] == pytest.approx(beat["sec_per_epoch"] / 2)
    assert status["eta_s"] == pytest.approx(2 * (3 - 1 - 1 / 3) * beat["sec_per_epoch"] / 2)


def test_the_table_names_each_state(sweep):
    text = format_status(sweep_status(sweep))
    lines = text.splitlines()
    assert any(line.startswith("scalecnn-c2-cosine") and "1 done, 1 interrupted" in line for line in lines)
    assert any(line.startswith("scalecnn-c4-cosine") and "2 pending" in line and "~" in line for line in lines)
    assert "  s1 running: epoch 1/3 step 1/3, " in text
    assert "  s1 interrupted: resumes from epoch 1 step 1; tinyscale.engine.signals.Interrupted:" in text
    assert "  s0 failed: starts again from the beginning; tinyscale.engine.loop.Diverged:" in text
    assert lines[-1].startswith("total: 6 runs: 1 done, 1 running, 1 interrupted, 1 failed, 2 pending; ETA ")
    assert lines[-1].endswith("(1 training job running)")


def cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "tinyscale", "status", *map(str, args)],
                          cwd=cwd, capture_output=True, text=True, check=False)


def test_the_command_prints_the_table_and_json(sweep):
    table = cli(sweep)
    assert table.returncode == 0, table.stderr
    assert "total: 6 runs: 1 done, 1 running" in table.stdout
    as_json = cli(sweep, "--json")
    assert as_json.returncode == 0, as_json.stderr
    status = json.loads(as_json.stdout)
    assert status["totals"]["runs"] == 6 and status["name"] == "tiny"
    assert {c["configuration"] for c in status["configurations"]} == {"scalecnn-c2-cosine", "scalecnn-c3-cosine", "scalecnn-c4-cosine"}
    missing = cli(sweep.parent / "nothing")
    assert missing.returncode == 2 and "no plan.json" in missing.stderr


@pytest.mark.workflow
def test_a_build_writes_the_plan_it_is_read_by(tmp_path):
    """Real builds: the plan lists every run of the config that started the last build; dry runs
    leave it alone; it retrains nothing."""
    import yaml

    project = copy_project(tmp_path)
    (project / "tiny.yaml").write_text(yaml.safe_dump(TINY))
    (project / "three.yaml").write_text(yaml.safe_dump({**TINY, "seeds": [0, 1, 2]}))
    target = "results/tiny/runs/scalecnn-c2-cosine-s{}/model.pt"
    snakemake(project, target.format(0))
    plan = read_json(project / "results/tiny/plan.json")
    assert len(plan["runs"]) == 8 and plan["runs"][0]["log"] == "logs/train/scalecnn-c2-cosine-s0.log"
    status = json.loads(cli("results/tiny", "--json", cwd=project).stdout)
    assert status["totals"] == {"runs": 8, "done": 1, "running": 0, "interrupted": 0, "failed": 0, "pending": 7}
    assert "Nothing to be done" in snakemake(project, "--dry-run", target.format(0)).stdout

    snakemake(project, "--dry-run", target.format(2), config="three.yaml")
    assert len(read_json(project / "results/tiny/plan.json")["runs"]) == 8  # a dry run starts nothing
    snakemake(project, target.format(2), config="three.yaml")
    status = json.loads(cli("results/tiny", "--json", cwd=project).stdout)
    assert status["totals"] == {"runs": 12, "done": 2, "running": 0, "interrupted": 0, "failed": 0, "pending": 10}

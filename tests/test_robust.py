"""Nothing silently wrong: a resume state from other data or other start weights, a damaged table,
curve or JSON file, a plugin that replaces a built-in family, a reordered config, a full disk. Each
is named and set aside (then rebuilt or trained again), never used as if it were right."""

import dataclasses
import re

import pytest
from test_train import AUG, CFG, SETTINGS, tiny_dataset, train_run, weights_checksum

from tinyscale.engine.loop import train
from tinyscale.engine.signals import Interrupted
from tinyscale.runs import Run


def test_a_resume_state_from_other_data_is_set_aside_and_the_run_starts_over(tmp_path):
    run, state = Run("scalecnn", 2, "cosine", 0), tmp_path / "state.pt"
    old, new = tiny_dataset(seed=0), tiny_dataset(seed=1)  # e.g. another data.split_seed
    with pytest.raises(Interrupted):
        train_run(run, old, CFG, AUG, state_path=state, stop_after_steps=4)
    lines = []
    resumed = train_run(run, new, CFG, AUG, state_path=state, progress=lines.append)
    assert re.match(rf"warning: the resume state {re.escape(str(state))} was trained on other data \(the prepared "
                    rf"dataset's content differs.*\): it is moved to {re.escape(str(state))}\.stale; training this run from the start", lines[0])
    assert not any("resuming" in line for line in lines)
    assert resumed.resumed_from is None and state.with_name("state.pt.stale").exists()  # kept, not deleted
    assert weights_checksum(resumed.model) == weights_checksum(train_run(run, new, CFG, AUG).model)


def test_the_same_data_still_resumes(tmp_path):
    run, state, ds = Run("scalecnn", 2, "cosine", 0), tmp_path / "state.pt", tiny_dataset()
    with pytest.raises(Interrupted):
        train_run(run, ds, CFG, AUG, state_path=state, stop_after_steps=4)
    resumed = train_run(run, tiny_dataset(), CFG, AUG, state_path=state)  # equal content, another object
    assert resumed.resumed_from == {"epoch": 1, "step": 1}


@pytest.mark.parametrize("packed", [False, True])
def test_a_qat_state_from_other_start_weights_is_set_aside(tmp_path, packed):
    """The fp32 run a QAT run starts from was retrained (e.g. train.epochs changed): its interrupted
    QAT state fine-tuned the old weights, so it must not be continued."""
    ds = tiny_dataset()
    seeds = (0, 1) if packed else (0,)
    qat = dataclasses.replace(CFG, name="qat", epochs=2, lr=0.01, weight_bits=4, act_bits=8, init_from="cosine")
    fp32 = lambda cfg: [train_run(Run("scalecnn", 2, "cosine", s), ds, cfg, AUG).model.state_dict() for s in seeds]  # noqa: E731
    old, new = fp32(CFG), fp32(dataclasses.replace(CFG, epochs=2))
    runs = [Run("scalecnn", 2, "qat", s) for s in seeds]
    states = [tmp_path / f"{r.id}.pt" for r in runs]
    with pytest.raises(Interrupted):
        train(runs, ds, qat, SETTINGS, state_paths=states, progress=lambda _: None, init_states=old, stop_after_steps=4)
    lines = []
    resumed = train(runs, ds, qat, SETTINGS, state_paths=states, progress=lines.append, init_states=new)
    assert "was trained on other start weights (the init_from run's model.pt differs" in lines[0]
    assert not any("resuming" in line for line in lines)
    clean = train(runs, ds, qat, SETTINGS, progress=lambda _: None, init_states=new)
    for a, b in zip(clean, resumed):
        assert weights_checksum(a.model) == weights_checksum(b.model)


def test_a_state_saved_without_digests_starts_over(tmp_path):
    import torch

    run, state, ds = Run("scalecnn", 2, "cosine", 0), tmp_path / "state.pt", tiny_dataset()
    with pytest.raises(Interrupted):
        train_run(run, ds, CFG, AUG, state_path=state, stop_after_steps=4)
    saved = torch.load(state, weights_only=False)
    del saved["depends"]  # as an older tinyscale wrote it
    torch.save(saved, state)
    lines = []
    assert train_run(run, ds, CFG, AUG, state_path=state, progress=lines.append).resumed_from is None
    assert "records no digest of its data or start weights" in lines[0]


def _plan(root, run):
    from tinyscale.status import plan_entry, write_plan

    p = {"record": root / f"runs/{run.id}/run.json", "state": root / f"state/{run.id}.pt",
         "log": root / f"logs/train/{run.id}.log"}
    write_plan(root, "tiny", [plan_entry(run, CFG.epochs, str(root), **{k: str(v) for k, v in p.items()})])
    return p


def test_status_names_a_truncated_plan_and_the_command_says_how_to_rewrite_it(tmp_path, capsys):
    from tinyscale.__main__ import main
    from tinyscale.io import CorruptFile
    from tinyscale.status import sweep_status

    root = tmp_path / "results/tiny"
    _plan(root, Run("scalecnn", 2, "cosine", 0))
    plan = root / "plan.json"
    plan.write_bytes(plan.read_bytes()[:40])
    with pytest.raises(CorruptFile, match=re.escape(str(plan)) + r": not a readable JSON file.*run the build, or a dry run"):
        sweep_status(root)
    assert main(["status", str(root)]) == 2
    assert str(plan) in capsys.readouterr().err
    plan.write_text('{"name": "tiny"}')  # whole JSON, but no plan
    with pytest.raises(CorruptFile, match="not a build plan"):
        sweep_status(root)


@pytest.mark.parametrize("beat", ['{"epoch": 1}', '{"epoch": 1, "step": 2, "steps_per_epoch": 0, "time": 1.0}',
                                  '{"epoch": 1, "step": 2, "steps_per_epoch": 3, "time": 1.0, "saved": {"epoch": 1}}',
                                  '[1, 2]', '{"epoch'])
def test_status_reads_past_a_damaged_heartbeat(tmp_path, beat):
    from tinyscale.engine.heartbeat import heartbeat_path
    from tinyscale.status import format_status, sweep_status

    root, run = tmp_path / "results/tiny", Run("scalecnn", 2, "cosine", 0)
    p = _plan(root, run)
    p["state"].parent.mkdir(parents=True)
    p["state"].write_bytes(b"state")
    heartbeat_path(p["state"]).write_text(beat)
    status = sweep_status(root, now=1e10)
    (r,) = status["configurations"][0]["runs"]
    assert r["state"] == "interrupted" and r["resume_from"] is None
    assert "resumes from its saved state" in format_status(status)


def test_status_does_not_promise_to_resume_a_state_it_refuses(tmp_path):
    from tinyscale.engine.checkpoint import StateMismatch
    from tinyscale.io import log_to
    from tinyscale.status import format_status, sweep_status

    root, run, ds = tmp_path / "results/tiny", Run("scalecnn", 2, "cosine", 0), tiny_dataset()
    p = _plan(root, run)
    with log_to(p["log"]), pytest.raises(Interrupted):
        train_run(run, ds, CFG, AUG, state_path=p["state"], stop_after_steps=4)
    assert "resumes from epoch 1 step 1" in format_status(sweep_status(root, now=1e10))
    with pytest.raises(StateMismatch), log_to(p["log"]):  # the recipe changed: refused by name, traceback logged
        train_run(run, ds, dataclasses.replace(CFG, lr=0.01), AUG, state_path=p["state"])
    text = format_status(sweep_status(root, now=1e10))
    assert "resumes from epoch" not in text and "saved under another config and is refused" in text
    assert "recipe.lr" in text

"""A non-finite loss stops training at the step it appears, names the run, epoch, step and the last
finite loss, and leaves no weights, log or predictions behind (single and packed runs)."""

import dataclasses
import re

import pytest
import torch
from test_train import CFG, SETTINGS, quiet, tiny_dataset

from tinyscale.engine import members
from tinyscale.engine.loop import Diverged, run_to_completion, train
from tinyscale.engine.signals import Interrupted
from tinyscale.runs import Run

# tiny_dataset: 96 training images, batch 32 → 3 steps per epoch; CFG trains 3 epochs
RUN = Run("scalecnn", 2, "cosine", 0)


def record_losses(monkeypatch, cls, poison=None):
    """Wrap `cls.step` to record each step's losses; `poison(global_step, losses)` may replace them."""
    seen, original = [], cls.step

    def step(self, *args):
        losses = original(self, *args)
        if poison is not None:
            losses = poison(len(seen), losses)
        seen.append(losses.tolist())
        return losses

    monkeypatch.setattr(cls, step.__name__, step)
    return seen


def test_a_diverging_run_names_the_first_non_finite_step(monkeypatch):
    seen = record_losses(monkeypatch, members.Single)
    with pytest.raises(Diverged) as err:
        train([RUN], tiny_dataset(), dataclasses.replace(CFG, lr=1e6), SETTINGS, progress=quiet)
    flat = [v[0] for v in seen]
    first = next(i for i, v in enumerate(flat) if not torch.isfinite(torch.tensor(v)))
    epoch, step = divmod(first, 3)
    message = str(err.value)
    assert f"{RUN.id}: loss" in message and f"at epoch {epoch + 1} step {step + 1} of 3 (global step {first + 1})" in message
    assert f"last finite loss {flat[first - 1]:.6g}" in message and "lower the learning rate" in message


def test_the_last_finite_loss_may_come_from_the_previous_epoch(monkeypatch):
    nan_at = 3  # the first step of epoch 2
    seen = record_losses(monkeypatch, members.Single,
                         lambda i, losses: torch.full_like(losses, float("nan")) if i == nan_at else losses)
    with pytest.raises(Diverged, match=r"loss nan at epoch 2 step 1 of 3 \(global step 4\); last finite loss ") as err:
        train([RUN], tiny_dataset(), CFG, SETTINGS, progress=quiet)
    assert f"last finite loss {seen[2][0]:.6g}." in str(err.value)
    assert len(seen) == 6  # the epoch is finished (no sync per step), then nothing more


def test_a_packed_run_names_the_member_that_diverged(monkeypatch):
    runs = [Run("scalecnn", 2, "cosine", s) for s in (0, 1)]

    def poison(i, losses):  # the second seed only, at the second step of epoch 1
        return torch.stack([losses[0], torch.tensor(float("inf"), dtype=losses.dtype)]) if i == 1 else losses

    seen = record_losses(monkeypatch, members.Packed, poison)
    with pytest.raises(Diverged) as err:
        train(runs, tiny_dataset(), CFG, SETTINGS, progress=quiet)
    message = str(err.value)
    assert f"{runs[1].id}: loss inf at epoch 1 step 2 of 3 (global step 2); last finite loss {seen[0][1]:.6g}" in message
    assert runs[0].id not in message


def test_a_diverged_run_writes_nothing(tmp_path):
    paths = {k: [tmp_path / f"{k}.out"] for k in ("checkpoint", "log", "state", "curve", "prediction")}
    with pytest.raises(Diverged):
        run_to_completion([RUN], tiny_dataset(), dataclasses.replace(CFG, lr=1e6), SETTINGS, "cpu",
                          paths["checkpoint"], paths["log"], paths["state"], paths["curve"],
                          prediction_paths=paths["prediction"])
    # no checkpoint, log, predictions or resume state; only the heartbeat `tinyscale status` reads
    assert [p.name for p in tmp_path.iterdir()] == ["state.progress.json"]


def test_an_interruption_after_divergence_saves_no_state(tmp_path, monkeypatch):
    record_losses(monkeypatch, members.Single, lambda i, losses: losses * float("nan") if i == 0 else losses)
    state = tmp_path / "state.pt"
    with pytest.raises(Diverged, match=r"epoch 1 step 1 of 3 .*last finite loss none since this process started"):
        train([RUN], tiny_dataset(), CFG, SETTINGS, state_paths=[state], progress=quiet, stop_after_steps=2)
    assert not state.exists()
    with pytest.raises(Interrupted):  # a finite run still saves its state when stopped
        monkeypatch.undo()
        train([RUN], tiny_dataset(), CFG, SETTINGS, state_paths=[state], progress=quiet, stop_after_steps=2)
    assert state.exists()


def test_non_finite_final_weights_are_refused(monkeypatch):
    def poison(i, losses):  # the loss stays finite; a BatchNorm running variance overflows at the end
        if i == 8:
            bn = next(m for m in model_of[0].modules() if isinstance(m, torch.nn.BatchNorm2d))
            bn.running_var.fill_(float("inf"))
        return losses

    model_of, init = [], members.Single.__init__

    def capture(self, *args, **kw):
        init(self, *args, **kw)
        model_of.append(self.model)

    monkeypatch.setattr(members.Single, "__init__", capture)
    record_losses(monkeypatch, members.Single, poison)
    with pytest.raises(Diverged, match=re.escape(RUN.id) + r": training ended with non-finite values in .*running_var"):
        train([RUN], tiny_dataset(), CFG, SETTINGS, progress=quiet)

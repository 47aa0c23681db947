import dataclasses

import numpy as np
import pytest
import torch

from tinyscale.config import defaults
from tinyscale.datasets import Dataset
from tinyscale.engine.augment import AugmentConfig
from tinyscale.engine.checkpoint import StateMismatch
from tinyscale.engine.loop import train
from tinyscale.engine.members import make_optimizer
from tinyscale.engine.recipes import EngineSettings, cosine_recipe
from tinyscale.engine.signals import Interrupted
from tinyscale.runs import Run

# The paper's recipe and engine settings, from the schema's defaults (the one source).
PAPER = cosine_recipe({"train": defaults("train"), "augment": defaults("augment")})


def tiny_dataset(n_train=96, n_test=32, classes=4, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n_train)
    x = rng.integers(0, 256, (n_train, 1, 8, 8), dtype=np.uint8)
    x[np.arange(n_train), 0, y, y] = 255  # a learnable signal
    yt = rng.integers(0, classes, n_test)
    xt = rng.integers(0, 256, (n_test, 1, 8, 8), dtype=np.uint8)
    return Dataset(x, y.astype(np.int64), xt, yt.astype(np.int64), [str(i) for i in range(classes)],
                   np.array([0.5]), np.array([0.3]), "tiny")


AUG = AugmentConfig(crop_padding=1, flip=True, cutout=2)
CFG = dataclasses.replace(PAPER, epochs=3, batch_size=32, lr=0.05, lr_min=1e-4, augment=AUG)
SETTINGS = EngineSettings(eval_every=2, checkpoint_every=1, keep_resume_state=False, compile_cache=None)
quiet = lambda line: None  # noqa: E731


def train_run(run, ds, cfg, aug=None, state_path=None, progress=quiet, **kw):
    """One run through the engine (K = 1)."""
    cfg = dataclasses.replace(cfg, augment=aug or cfg.augment)
    (result,) = train([run], ds, cfg, SETTINGS, state_paths=[state_path] if state_path else None, progress=progress, **kw)
    return result


def test_cosine_schedule_matches_torch():
    cfg = PAPER
    model = torch.nn.Linear(1, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=200, eta_min=1e-5)
    for epoch in range(200):
        assert cfg.lr_at(epoch) == pytest.approx(opt.param_groups[0]["lr"], rel=1e-9, abs=1e-12)
        opt.step()
        sched.step()
    assert cfg.lr_at(0) == 0.1


def test_protocol_optimiser_and_steps():
    opt = make_optimizer(torch.nn.Linear(2, 2).parameters(), PAPER)
    group = opt.param_groups[0]
    assert (group["lr"], group["momentum"], group["weight_decay"], group["nesterov"]) == (0.1, 0.9, 5e-4, False)
    assert PAPER.steps_per_epoch(50_000) == 390
    assert dataclasses.replace(PAPER, drop_last=False).steps_per_epoch(50_000) == 391
    assert (PAPER.epochs, PAPER.batch_size, PAPER.augment) == (200, 128, AugmentConfig(4, True, 8))


def _weights(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def test_same_seed_gives_bit_identical_weights_and_log():
    ds = tiny_dataset()
    a = train_run(Run("scalecnn", 2, "cosine", 1), ds, CFG, AUG, progress=quiet)
    b = train_run(Run("scalecnn", 2, "cosine", 1), ds, CFG, AUG, progress=quiet)
    c = train_run(Run("scalecnn", 2, "cosine", 2), ds, CFG, AUG, progress=quiet)
    wa, wb, wc = _weights(a.model), _weights(b.model), _weights(c.model)
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    assert not all(torch.equal(wa[k], wc[k]) for k in wa)
    assert [r["train_loss"] for r in a.log] == [r["train_loss"] for r in b.log]
    assert [r["epoch"] for r in a.log] == [1, 2, 3]
    assert a.log[0]["test_acc"] is None and a.log[1]["test_acc"] is not None and a.log[2]["test_acc"] is not None
    assert a.provenance["epochs_done"] == 3 and a.provenance["num_params"] > 0


@pytest.mark.parametrize("arch,width,stop", [("scalecnn", 2, 4), ("mobilenetv2", 0.1, 5)])
def test_interrupted_run_resumes_to_identical_weights(tmp_path, arch, width, stop):
    """Stopped mid-epoch (3 steps per epoch), resumed from the state file: same weights as uninterrupted."""
    ds = tiny_dataset()
    run = Run(arch, width, "cosine", 0)
    full = train_run(run, ds, CFG, AUG, progress=quiet)
    state = tmp_path / "state.pt"
    with pytest.raises(Interrupted, match="state saved"):
        train_run(run, ds, CFG, AUG, state_path=state, progress=quiet, stop_after_steps=stop)
    assert state.exists()
    lines = []
    resumed = train_run(run, ds, CFG, AUG, state_path=state, progress=lines.append)
    assert lines[0].startswith(f"[{run.id}] resuming from epoch 1 step {stop - 3}")
    assert resumed.resumed_from == {"epoch": 1, "step": stop - 3}
    wf, wr = _weights(full.model), _weights(resumed.model)
    assert all(torch.equal(wf[k], wr[k]) for k in wf)
    assert [r["train_loss"] for r in full.log] == [r["train_loss"] for r in resumed.log]


def test_progress_line_has_eta():
    lines = []
    train_run(Run("scalecnn", 2, "cosine", 0), tiny_dataset(), CFG, AUG, progress=lines.append)
    assert len(lines) == 3 and "epoch 1/3" in lines[0] and "ETA 0:00:" in lines[0]
    assert "test_acc" in lines[2]


@pytest.mark.parametrize("signame", ["SIGTERM", "SIGUSR1", "SIGINT"])
def test_signal_saves_state_and_stops(tmp_path, signame):
    import os
    import signal

    signum = getattr(signal, signame)
    before = signal.getsignal(signum)
    ds = tiny_dataset()
    state = tmp_path / "state.pt"

    def progress(line):  # deliver the signal to ourselves after the first epoch
        if "epoch 1/3" in line:
            os.kill(os.getpid(), signum)

    with pytest.raises(Interrupted, match=f"signal {int(signum)}"):
        train_run(Run("scalecnn", 2, "cosine", 0), ds, CFG, AUG, state_path=state, progress=progress)
    saved = torch.load(state, weights_only=False)
    assert (saved["epoch"], saved["step"]) == (1, 1)
    assert signal.getsignal(signum) is before  # handler restored


def test_paper_config_is_fp32_with_deterministic_cudnn_by_default():
    """The schema's defaults (the paper's config) switch every speed switch off; on CUDA that means
    no autocast, cudnn.deterministic=True, benchmark=False and no TF32 (set without a GPU: these
    are plain process-wide flags), and each switch is one line away."""
    from tinyscale.engine.speed import set_backends

    assert (PAPER.bf16, PAPER.channels_last, PAPER.compile, PAPER.cudnn_benchmark, PAPER.tf32) == (False,) * 5
    def flags():
        return (torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark,
                torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32)

    before = flags()
    try:
        set_backends(PAPER, torch.device("cuda"))
        assert flags() == (True, False, False, False)
        set_backends(dataclasses.replace(PAPER, cudnn_benchmark=True, tf32="auto"), torch.device("cuda"))
        assert flags() == (False, True, True, True)
        set_backends(PAPER, torch.device("cuda"))
        before_cpu = flags()
        set_backends(dataclasses.replace(PAPER, cudnn_benchmark=True), torch.device("cpu"))  # nothing on the CPU
        assert flags() == before_cpu
    finally:
        (torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark,
         torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32) = before


def test_speed_switches_default_off_on_cpu_and_can_be_forced():
    import dataclasses

    from tinyscale.engine.speed import FastPath, switch_on

    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    assert not switch_on("auto", cpu) and switch_on("auto", cuda) and not switch_on(False, cuda)
    assert not FastPath(build_model_for_test(), PAPER, cuda).bf16  # the default: fp32 on CUDA too
    ds = tiny_dataset()
    # forced on, on the CPU: channels-last and bf16 autocast train and stay close to fp32
    fast = dataclasses.replace(CFG, channels_last=True, bf16=True, compile=False)
    a = train_run(Run("scalecnn", 2, "cosine", 0), ds, fast, AUG, progress=quiet)
    b = train_run(Run("scalecnn", 2, "cosine", 0), ds, CFG, AUG, progress=quiet)
    assert a.log[-1]["train_loss"] == pytest.approx(b.log[-1]["train_loss"], rel=0.05)
    assert a.model.blocks[0][0].weight.dtype == torch.float32  # parameters stay fp32
    path = FastPath(build_model_for_test(), fast, cpu)
    assert path.bf16 and path.channels_last
    assert path(torch.zeros(2, 1, 8, 8)).dtype == torch.float32


def build_model_for_test():
    from tinyscale.families import build_model

    return build_model("scalecnn", 2, 4, 1)


def test_resume_refuses_a_state_from_another_config(tmp_path):
    """A state saved under one recipe is not continued under another: the message names the keys."""
    ds, run, state = tiny_dataset(), Run("scalecnn", 2, "cosine", 0), tmp_path / "state.pt"
    with pytest.raises(Interrupted):
        train_run(run, ds, CFG, AUG, state_path=state, stop_after_steps=2)
    other = dataclasses.replace(CFG, lr=0.01)
    with pytest.raises(StateMismatch, match=r"recipe\.lr differ.*delete it"):
        train_run(run, ds, other, AUG, state_path=state)


def test_non_finite_loss_stops_the_run():
    from tinyscale.engine.loop import Diverged

    with pytest.raises(Diverged, match=r"not finite: scalecnn-c2-cosine-s0: loss \S+ at epoch 1 step \d of 3"):
        train_run(Run("scalecnn", 2, "cosine", 0), tiny_dataset(), dataclasses.replace(CFG, lr=1e6))


# Checksums of the final weights of short CPU runs: the loop must keep training the same bits for
# the same run. Re-pinned once, when the data-order, augmentation and dropout streams became
# seeded per configuration (family, width, seed; engine/streams.py): with the old per-seed
# streams patched back in, that code still trained the previous pins (b79403207d2c889c,
# ed024813e2c7db33), so the streams were the only numeric change. Pinned again when CI's machine
# began to train other bits (160062082c96e406, 1719f4df384ccea2 before): CI and the development
# machine (torch 2.15.0+cu132 from the registry, ATen's AVX2 and AVX-512 kernels alike) train
# these, and so does the code of 4c65ab0, which CI had passed with the old pins: the environment
# moved them, not the code.
PINNED = {("scalecnn", 2, 1): "b35556e9f52b839e", ("mobilenetv2", 0.1, 0): "27a6ae51c453a639"}


def weights_checksum(model) -> str:
    import hashlib

    h = hashlib.sha256()
    for k, v in sorted(model.state_dict().items()):
        h.update(k.encode())
        h.update(v.cpu().numpy().tobytes())
    return h.hexdigest()[:16]


@pytest.mark.parametrize("family,width,seed", PINNED)
def test_single_runs_train_the_pinned_weights(family, width, seed):
    result = train_run(Run(family, width, "cosine", seed), tiny_dataset(), CFG, AUG)
    assert weights_checksum(result.model) == PINNED[family, width, seed]


# --- Recipes of the further studies: constant lr, MSE, learning curves, QAT from fp32 weights.

CONST = dataclasses.replace(CFG, name="st", schedule="constant", loss="mse", lr=0.1, momentum=0.0, weight_decay=0.0,
                            augment=AugmentConfig(0, False, 0), curve=True, train_subset=40, epochs=3)


def test_constant_schedule_and_mse_on_one_hot_targets():
    import torch.nn.functional as F

    from tinyscale.engine.members import loss_of

    assert [CONST.lr_at(e) for e in (0, 1, 2)] == [0.1, 0.1, 0.1]
    logits, y = torch.tensor([[2.0, 0.0, -1.0], [0.5, 0.5, 0.0]]), torch.tensor([0, 2])
    # by hand: ((2-1)² + 0 + 1) / 3 = 2/3 and (0.25 + 0.25 + 1) / 3 = 0.5
    assert loss_of(logits, y, CONST, reduction="none").tolist() == pytest.approx([2 / 3, 0.5])
    assert loss_of(logits, y, CONST).item() == pytest.approx(F.mse_loss(logits, F.one_hot(y, 3).float()).item())


def test_curve_is_logged_at_powers_of_two_and_epoch_ends():
    result = train_run(Run("scalecnn", 2, "st", 0), tiny_dataset(), CONST, CONST.augment)
    steps = [p["step"] for p in result.curve]
    # 3 steps per epoch, 3 epochs: step 0, the powers of two inside epochs (1, 2, 4, 8), every epoch end (3, 6, 9)
    assert steps == [0, 1, 2, 3, 4, 6, 8, 9]
    assert all(0 <= p["test_error"] <= 1 and 0 <= p["train_error"] <= 1 and p["test_loss"] > 0 for p in result.curve)
    assert result.curve[-1]["epoch"] == 3


def test_curve_and_weights_survive_an_interruption(tmp_path):
    ds, run, state = tiny_dataset(), Run("scalecnn", 2, "st", 0), tmp_path / "state.pt"
    full = train_run(run, ds, CONST, CONST.augment)
    with pytest.raises(Interrupted):
        train_run(run, ds, CONST, CONST.augment, state_path=state, stop_after_steps=5)
    resumed = train_run(run, ds, CONST, CONST.augment, state_path=state)
    assert resumed.curve == full.curve
    assert weights_checksum(resumed.model) == weights_checksum(full.model)


def test_qat_starts_from_the_fp32_weights_and_checkpoints_reload(tmp_path):
    from tinyscale.engine.checkpoint import load_checkpoint, save_checkpoint
    from tinyscale.quant import LSQQuantizer

    ds = tiny_dataset()
    fp32 = train_run(Run("scalecnn", 2, "cosine", 0), ds, CFG, AUG)
    qat = dataclasses.replace(CFG, name="qat", epochs=1, lr=0.01, weight_bits=2, act_bits=8, init_from="cosine")
    with pytest.raises(ValueError, match="pass init_states"):
        train([Run("scalecnn", 2, "qat", 0)], ds, qat, SETTINGS, progress=quiet)
    (result,) = train([Run("scalecnn", 2, "qat", 0)], ds, qat, SETTINGS, progress=quiet,
                      init_states=[fp32.model.state_dict()])
    assert any(isinstance(m, LSQQuantizer) for m in result.model.modules())
    # one epoch at lr 0.01 moves the weights only a little from where the fp32 run left them
    w0, w1 = fp32.model.state_dict()["blocks.0.0.weight"], result.model.state_dict()["blocks.0.0.weight"]
    assert 0 < (w1 - w0).abs().max() < 0.1 * w0.abs().max()
    path = tmp_path / "model.pt"
    data = {"name": "tiny", "num_classes": 4, "in_channels": 1, "mean": [0.5], "std": [0.3]}
    save_checkpoint(path, result.model, Run("scalecnn", 2, "qat", 0).as_dict(), qat.as_dict(), data, {}, [])
    model, _ = load_checkpoint(path)
    x = torch.rand(5, 1, 8, 8)
    result.model.eval()
    assert torch.equal(model.eval()(x), result.model(x))


def test_packed_qat_starts_its_steps_where_single_runs_do_and_resumes_exactly(tmp_path):
    """Packed QAT: each model's LSQ steps start from the batch it sees first, as a single run's do;
    an interrupted packed QAT run resumes to the uninterrupted one's weights."""
    ds = tiny_dataset()
    qat = dataclasses.replace(CFG, name="qat", epochs=2, lr=0.01, weight_bits=4, act_bits=8, init_from="cosine")
    fp32 = [train_run(Run("scalecnn", 2, "cosine", s), ds, CFG, AUG).model.state_dict() for s in (0, 1)]
    runs = [Run("scalecnn", 2, "qat", s) for s in (0, 1)]
    one_step = dataclasses.replace(qat, epochs=1)
    packed = train(runs, ds, one_step, SETTINGS, progress=quiet, init_states=fp32, stop_after_steps=None)
    single = train([runs[1]], ds, one_step, SETTINGS, progress=quiet, init_states=fp32[1:])
    steps = lambda m: {k: v for k, v in m.state_dict().items() if k.endswith(".step")}  # noqa: E731
    for name, value in steps(single[0].model).items():  # max-pooling ties make packed and single drift apart slowly
        assert steps(packed[1].model)[name].item() == pytest.approx(value.item(), rel=0.05), name
    full = train(runs, ds, qat, SETTINGS, progress=quiet, init_states=fp32)
    states = [tmp_path / f"{r.id}.pt" for r in runs]
    with pytest.raises(Interrupted):
        train(runs, ds, qat, SETTINGS, state_paths=states, progress=quiet, init_states=fp32, stop_after_steps=4)
    resumed = train(runs, ds, qat, SETTINGS, state_paths=states, progress=quiet, init_states=fp32)
    for a, b in zip(full, resumed):
        assert weights_checksum(a.model) == weights_checksum(b.model)

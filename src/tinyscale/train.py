"""The training loop (PROTOCOL.md §2): SGD + cosine per epoch, on-device augmentation, resumable.

A resume state (model, optimiser, dropout generator, epoch, step, log) is written every
`checkpoint_every` epochs and when SIGTERM, SIGUSR1 or SIGINT arrives; starting a run with a
state file present continues from it. Fresh start and resume are the same code path: build, then load what is there.
"""

from __future__ import annotations

import math
import signal
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F

from . import provenance
from .augment import AugmentConfig, augment, draw_epoch, epoch_generator
from .data import Dataset
from .io import atomic_path
from .models import build_model, count_params, dropout_masks, set_dropout_masks
from .predict import predict_probs
from .runs import Run


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 200  # cosine schedule length; metrics come from the final epoch's weights
    batch_size: int = 128
    drop_last: bool = True  # 50,000 // 128 = 390 steps per epoch, as the original
    lr: float = 0.1
    lr_min: float = 1e-5  # cosine floor (eta_min)
    momentum: float = 0.9
    weight_decay: float = 5e-4  # on all parameters, BN and biases included
    nesterov: bool = False
    label_smoothing: float = 0.0
    eval_every: int = 10  # epochs between test-accuracy entries in the log
    checkpoint_every: int = 10  # epochs between resume states
    keep_resume_state: bool = False  # delete the resume state once the run is complete
    # Speed switches; "auto" = on for CUDA, off on the CPU (where they do not pay and where
    # runs must stay bit-reproducible). Each can be forced true or false.
    channels_last: bool | str = "auto"  # NHWC tensors: faster convolutions on tensor cores
    bf16: bool | str = "auto"  # bf16 autocast for convolutions and matmuls; BatchNorm stays fp32
    compile: bool | str = "auto"  # torch.compile the forward (static shapes: drop_last)
    compile_cache: str | None = None  # inductor cache folder shared by a machine's jobs


def switch_on(value: bool | str, device: torch.device) -> bool:
    """Resolve a speed switch: "auto" means on for CUDA only."""
    return device.type == "cuda" if value == "auto" else bool(value)


class FastPath:
    """The model as the training step calls it, with the configured speed switches applied."""

    def __init__(self, model: torch.nn.Module, cfg: "TrainConfig", device: torch.device):
        import os

        self.channels_last = switch_on(cfg.channels_last, device)
        self.bf16 = switch_on(cfg.bf16, device)
        self.device_type = device.type
        if self.channels_last:
            model.to(memory_format=torch.channels_last)
        self.forward = model
        if switch_on(cfg.compile, device):
            if cfg.compile_cache:  # one on-disk cache for every job of the machine
                os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", os.path.expanduser(cfg.compile_cache))
                os.environ.setdefault("TORCHINDUCTOR_FX_GRAPH_CACHE", "1")
            self.forward = torch.compile(model, dynamic=False)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        if not self.bf16:
            return self.forward(x)
        # BatchNorm runs in fp32 under autocast (its parameters and statistics stay fp32).
        with torch.autocast(self.device_type, dtype=torch.bfloat16):
            return self.forward(x).float()  # the loss in fp32


class Interrupted(RuntimeError):
    """Raised after a signal asked training to stop; the resume state has been saved."""


def cosine_lr(epoch: int, cfg: TrainConfig) -> float:
    """Learning rate during 0-based `epoch`: torch's CosineAnnealingLR(T_max=epochs, eta_min=lr_min)."""
    return cfg.lr_min + (cfg.lr - cfg.lr_min) * (1 + math.cos(math.pi * epoch / cfg.epochs)) / 2


def to_device(ds: Dataset, device, dtype=torch.float32):
    """The dataset on the training device, once: uint8 images, labels, normalisation."""
    return (
        torch.as_tensor(ds.train_x, device=device), torch.as_tensor(ds.train_y, device=device),
        torch.as_tensor(ds.test_x, device=device), torch.as_tensor(ds.test_y, device=device),
        torch.as_tensor(ds.mean, dtype=dtype, device=device), torch.as_tensor(ds.std, dtype=dtype, device=device),
    )


def dropout_generator(seed: int, device) -> torch.Generator:
    """The run's own stream for dropout masks, apart from initialisation and augmentation."""
    return torch.Generator(device=device).manual_seed(seed + 7_919_000_000)


def steps_per_epoch(n: int, cfg: TrainConfig) -> int:
    return n // cfg.batch_size if cfg.drop_last else math.ceil(n / cfg.batch_size)


def make_optimizer(params, cfg: TrainConfig) -> torch.optim.SGD:
    """The protocol's SGD over `params` (a module's parameters, or packed stacked ones)."""
    return torch.optim.SGD(
        params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay, nesterov=cfg.nesterov,
    )


def train_step(model, opt, train_x, train_y, draws, step, cfg, aug, mean, std, dropout_gen, dtype=torch.float32, forward=None):
    """One SGD step on batch `step` of the epoch's draws; returns the loss (on device, no sync).

    `forward` is the model as a FastPath (switches applied); the plain module when None.
    """
    idx = draws.order[step * cfg.batch_size : (step + 1) * cfg.batch_size]
    x = augment(train_x[idx], draws, idx, aug, mean, std).to(dtype)
    set_dropout_masks(model, {k: m.to(dtype) for k, m in dropout_masks(model, len(idx), dropout_gen).items()})
    loss = F.cross_entropy((forward or model)(x), train_y[idx], label_smoothing=cfg.label_smoothing)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return loss


class _StopFlag:
    """Turns SIGTERM/SIGUSR1/SIGINT (scancel, time-limit warning, preemption, Ctrl-C) into a
    flag the loop polls after each step, so the state is saved before the process ends."""

    SIGNALS = (signal.SIGTERM, signal.SIGUSR1, signal.SIGINT)

    def __init__(self):
        self.signum = None
        self._previous = {}

    def __enter__(self):
        for s in self.SIGNALS:
            try:
                self._previous[s] = signal.signal(s, self._handle)
            except ValueError:  # not the main thread: signals cannot be caught here
                pass
        return self

    def _handle(self, signum, frame):
        self.signum = signum

    def __exit__(self, *exc):
        for s, handler in self._previous.items():
            signal.signal(s, handler)


def _format_eta(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _print_progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


@dataclass
class TrainResult:
    model: torch.nn.Module
    log: list[dict]
    provenance: dict
    resumed_from: dict | None = field(default=None)


def train_run(
    run: Run,
    ds: Dataset,
    cfg: TrainConfig,
    aug: AugmentConfig,
    device: str | torch.device = "cpu",
    state_path: str | Path | None = None,
    progress: Callable[[str], None] = _print_progress,
    stop_after_steps: int | None = None,
    dtype: torch.dtype = torch.float32,
) -> TrainResult:
    """Train one run to completion (or resume it); `stop_after_steps` simulates an interruption."""
    device = torch.device(device)
    state_path = Path(state_path) if state_path else None

    torch.manual_seed(run.seed)  # initialisation comes from the seed alone
    model = build_model(run.arch, run.width, ds.num_classes, ds.in_channels).to(device, dtype)
    opt = make_optimizer(model.parameters(), cfg)
    dropout_gen = dropout_generator(run.seed, device)
    fast = FastPath(model, cfg, device)
    epoch, step, log, wall, loss_sum = 0, 0, [], 0.0, 0.0
    resumed_from = None
    if state_path and state_path.exists():
        state = torch.load(state_path, map_location=device, weights_only=False)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        dropout_gen.set_state(state["dropout_rng"].cpu())
        epoch, step, log, wall, loss_sum = state["epoch"], state["step"], state["log"], state["wall"], state["loss_sum"]
        resumed_from = {"epoch": epoch, "step": step}
        progress(f"[{run.id}] resuming from epoch {epoch} step {step} ({state_path})")

    train_x, train_y, test_x, test_y, mean, std = to_device(ds, device, dtype)
    n, _, h, w = train_x.shape
    n_steps = steps_per_epoch(n, cfg)
    if n_steps == 0:
        raise ValueError(f"batch_size {cfg.batch_size} exceeds the {n} training images with drop_last")

    def save_state(path: Path) -> None:
        state = {
            "model": model.state_dict(), "optimizer": opt.state_dict(), "dropout_rng": dropout_gen.get_state(),
            "epoch": epoch, "step": step, "log": log, "wall": wall, "loss_sum": loss_sum,
            "run": run.as_dict(), "train": asdict(cfg), "augment": asdict(aug),
        }
        with atomic_path(path) as tmp:
            torch.save(state, tmp)

    model.train()
    steps_done = 0
    with _StopFlag() as stop:
        while epoch < cfg.epochs:
            t0 = time.perf_counter()
            lr = cosine_lr(epoch, cfg)
            for group in opt.param_groups:
                group["lr"] = lr
            loss_acc = torch.tensor(loss_sum, dtype=torch.float64, device=device)
            draws = draw_epoch(n, h, w, aug, epoch_generator(run.seed, epoch, device))
            while step < n_steps:
                loss = train_step(model, opt, train_x, train_y, draws, step, cfg, aug, mean, std, dropout_gen, dtype, fast)
                loss_acc += loss.detach().double()  # no host sync inside the epoch
                step += 1
                steps_done += 1
                if stop.signum is not None or steps_done == stop_after_steps:
                    wall += time.perf_counter() - t0
                    loss_sum = loss_acc.item()
                    if state_path:
                        save_state(state_path)
                    why = f"signal {stop.signum}" if stop.signum is not None else "requested stop"
                    raise Interrupted(f"[{run.id}] stopped at epoch {epoch} step {step} ({why}); state saved to {state_path}")
            row = {"epoch": epoch + 1, "lr": lr, "train_loss": loss_acc.item() / n_steps, "test_acc": None}
            if (epoch + 1) % cfg.eval_every == 0 or epoch + 1 == cfg.epochs:
                probs = predict_probs(model, test_x, mean, std)
                row["test_acc"] = (probs.argmax(1) == test_y).float().mean().item()
            epoch_time = time.perf_counter() - t0
            wall += epoch_time
            row["epoch_time_s"] = epoch_time
            log.append(row)
            epoch, step, loss_sum = epoch + 1, 0, 0.0
            eta = wall / len(log) * (cfg.epochs - epoch)
            acc = f" test_acc {row['test_acc']:.4f}" if row["test_acc"] is not None else ""
            progress(
                f"[{run.id}] epoch {epoch}/{cfg.epochs} loss {row['train_loss']:.4f} lr {lr:.5f}"
                f"{acc} {epoch_time:.2f}s/epoch ETA {_format_eta(eta)}"
            )
            if state_path and (epoch % cfg.checkpoint_every == 0) and epoch < cfg.epochs:
                save_state(state_path)

    prov = provenance.collect(device)
    prov.update(wall_time_s=wall, epochs_done=epoch, num_params=count_params(model), resumed_from=resumed_from)
    return TrainResult(model, log, prov, resumed_from)


def save_checkpoint(path: str | Path, result: TrainResult, run: Run, ds: Dataset, cfg: TrainConfig, aug: AugmentConfig) -> None:
    """The run's declared output: final weights with everything needed to rebuild and describe it."""
    ckpt = {
        "model": result.model.state_dict(),
        "run": run.as_dict(),
        "train": asdict(cfg),
        "augment": asdict(aug),
        "data": {"name": ds.name, "num_classes": ds.num_classes, "in_channels": ds.in_channels,
                 "mean": [float(v) for v in ds.mean], "std": [float(v) for v in ds.std]},
        "provenance": result.provenance,
        "log": result.log,
    }
    with atomic_path(path) as tmp:
        torch.save(ckpt, tmp)


def load_checkpoint(path: str | Path, device: str | torch.device = "cpu"):
    """Rebuild the model from a checkpoint; returns (model, checkpoint dict)."""
    ckpt = torch.load(path, map_location=device, weights_only=False)
    r, d = ckpt["run"], ckpt["data"]
    model = build_model(r["arch"], r["width"], d["num_classes"], d["in_channels"]).to(device)
    model.load_state_dict(ckpt["model"])
    return model, ckpt


def write_log_csv(path: str | Path, log: list[dict]) -> None:
    import pandas as pd

    from .io import write_csv

    write_csv(path, pd.DataFrame(log, columns=["epoch", "lr", "train_loss", "test_acc", "epoch_time_s"]))


def run_to_completion(
    run: Run, ds: Dataset, cfg: TrainConfig, aug: AugmentConfig, device, checkpoint_path, log_path, state_path,
) -> TrainResult:
    """Train (or resume) `run`, write its checkpoint and log, then drop the resume state unless kept."""
    result = train_run(run, ds, cfg, aug, device, state_path)
    save_checkpoint(checkpoint_path, result, run, ds, cfg, aug)
    write_log_csv(log_path, result.log)
    if not cfg.keep_resume_state:
        Path(state_path).unlink(missing_ok=True)
    return result

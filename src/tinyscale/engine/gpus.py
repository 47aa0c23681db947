"""Which GPU a training job on a local multi-GPU machine uses.

Snakemake counts `gpu` resources but never assigns GPU ids, so concurrent jobs would all land
on GPU 0. A job that already has its devices — SLURM sets CUDA_VISIBLE_DEVICES for its
allocation, and so may the user — keeps them. Otherwise the job takes a free slot: one lock
file per (GPU, slot) under a directory the jobs of a machine share, `jobs_per_gpu` slots per
GPU, locked with flock so a crashed job frees its slot with its last file descriptor.
"""

from __future__ import annotations

import fcntl
import os
import time
from dataclasses import dataclass
from pathlib import Path

DEFAULT_LOCK_DIR = Path(os.environ.get("TMPDIR", "/tmp")) / "tinyscale-gpu-slots"


@dataclass
class GpuSlot:
    gpu: str  # the id to expose as CUDA_VISIBLE_DEVICES
    slot: int | None  # None when the environment assigned the GPU
    _fd: int | None = None

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # drops the flock
            self._fd = None


def assigned_gpus(env=os.environ) -> list[str] | None:
    """GPUs the environment already assigned (CUDA_VISIBLE_DEVICES, e.g. from SLURM), else None."""
    value = env.get("CUDA_VISIBLE_DEVICES")
    if value is None or value.strip() == "":
        return None
    return [v.strip() for v in value.split(",") if v.strip()]


def acquire_gpu(device_count: int, jobs_per_gpu: int = 1, lock_dir: str | Path = DEFAULT_LOCK_DIR,
                env=os.environ, timeout_s: float | None = None, poll_s: float = 1.0) -> GpuSlot:
    """A GPU for this process: the environment's assignment, or the first free lock slot.

    Slots fill GPU by GPU before any GPU gets a second job. Waits for a free slot (at most
    `timeout_s`, forever when None); raises TimeoutError naming the lock folder otherwise.
    """
    assigned = assigned_gpus(env)
    if assigned:
        return GpuSlot(gpu=assigned[0], slot=None)
    if device_count < 1:
        raise RuntimeError("no CUDA GPU found: set device: cpu in the config, or run where a GPU is visible")
    lock_dir = Path(lock_dir)
    lock_dir.mkdir(parents=True, exist_ok=True)
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    while True:
        for slot in range(jobs_per_gpu):
            for gpu in range(device_count):
                fd = os.open(lock_dir / f"gpu{gpu}-slot{slot}.lock", os.O_RDWR | os.O_CREAT, 0o666)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    os.close(fd)
                    continue
                os.ftruncate(fd, 0)
                os.write(fd, f"{os.getpid()}\n".encode())
                return GpuSlot(gpu=str(gpu), slot=slot, _fd=fd)
        if deadline is not None and time.monotonic() >= deadline:
            raise TimeoutError(
                f"all {device_count * jobs_per_gpu} GPU slots in {lock_dir} are taken "
                f"({device_count} GPU(s) × {jobs_per_gpu} job(s) each); lower Snakemake's --resources gpu=..."
            )
        time.sleep(poll_s)


def use_gpu(slot: GpuSlot, env=os.environ) -> None:
    """Expose only the slot's GPU to this process (before CUDA initialises)."""
    env["CUDA_VISIBLE_DEVICES"] = slot.gpu

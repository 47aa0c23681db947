"""A training job's heartbeat: where each of its runs is and how fast it goes, for `tinyscale status`.

One small JSON file beside each run's resume state, rewritten atomically at every epoch end, when
a resume state is saved, and at most every `interval` seconds in between. It only reads Python
integers the loop already holds (no device sync) and never touches the training numerics. The
host and process id let a status on the same machine tell a live job from a dead one at once;
elsewhere (a SLURM build read from the login node) the write time says whether it is fresh.
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

from ..io import write_json

INTERVAL_S = 30.0


def heartbeat_path(state_path: str | Path) -> Path:
    """state/<run>.pt → state/<run>.progress.json."""
    state_path = Path(state_path)
    return state_path.with_name(state_path.stem + ".progress.json")


class Heartbeat:
    def __init__(self, state_paths, epochs: int, steps_per_epoch: int, packed: int = 1, saved: dict | None = None,
                 interval: float = INTERVAL_S):
        self.paths = [heartbeat_path(p) for p in state_paths or []]
        self.fixed = {"epochs": epochs, "steps_per_epoch": steps_per_epoch, "packed": packed,
                      "host": socket.gethostname(), "pid": os.getpid()}
        self.interval = interval
        self.sec_per_epoch = None  # the job's mean over finished epochs (all packed runs together)
        self.saved = saved  # where the resume states were last saved: where a restart continues
        self._next = 0.0

    def beat(self, epoch: int, step: int, epoch_elapsed: float = 0.0, sec_per_epoch: float | None = None,
             force: bool = False) -> None:
        """Record position `epoch` (finished epochs) and `step` (within the next); writes only when
        forced or `interval` seconds after the last write."""
        if sec_per_epoch is not None:
            self.sec_per_epoch = sec_per_epoch
        now = time.monotonic()
        if not self.paths or not (force or now >= self._next):
            return
        self._next = now + self.interval
        speed = self.sec_per_epoch
        if speed is None and step and epoch_elapsed:  # within the first epoch: extrapolate the steps done so far
            speed = epoch_elapsed / step * self.fixed["steps_per_epoch"]
        body = {**self.fixed, "epoch": epoch, "step": step, "sec_per_epoch": speed, "saved": self.saved, "time": time.time()}
        for path in self.paths:
            write_json(path, body)

    def saved_at(self, epoch: int, step: int) -> None:
        self.saved = {"epoch": epoch, "step": step}
        self.beat(epoch, step, force=True)


def beat_at_start(state_paths) -> None:
    """A job's first heartbeat, written before it imports torch or reads data: a job that dies that
    early (killed, out of memory) is then seen dead by a status on its host at once, not after the
    stale time. It keeps the position and resume point of a previous beat (a restart continues from
    there), and says 1 step per epoch until the loop's first beat knows the real number."""
    import json

    for state in state_paths:
        path = heartbeat_path(state)
        try:
            old = json.loads(path.read_text())
            old = old if isinstance(old, dict) else {}
        except (OSError, ValueError):
            old = {}
        keep = {k: old[k] for k in ("epochs", "steps_per_epoch", "epoch", "step", "saved", "sec_per_epoch") if k in old}
        body = {"epochs": 0, "steps_per_epoch": 1, "packed": 1, "epoch": 0, "step": 0, "sec_per_epoch": None,
                "saved": None, **keep, "host": socket.gethostname(), "pid": os.getpid(), "time": time.time(),
                "starting": True}
        write_json(path, body)

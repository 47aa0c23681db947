"""Stop requests: SIGTERM, SIGUSR1, SIGINT (scancel, SLURM's time-limit warning, preemption, Ctrl-C)."""

from __future__ import annotations

import signal


class Interrupted(RuntimeError):
    """Raised after a signal asked training to stop; the resume state has been saved."""


class StopFlag:
    """Turns the stop signals into a flag the loop polls after each step, so the state is saved
    before the process ends."""

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

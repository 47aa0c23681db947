"""The run table: which runs a config asks for, their readable ids, and their paths.

A run id reads like `scalecnn-c16-s3` or `mobilenetv2-w0.75-s0` and parses back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ARCHS = ("scalecnn", "mobilenetv2")
_WIDTH_LETTER = {"scalecnn": "c", "mobilenetv2": "w"}
RUN_ID_PATTERN = r"(scalecnn-c\d+|mobilenetv2-w\d+\.\d+)-s\d+"
_RUN_ID = re.compile(r"^(?P<arch>scalecnn|mobilenetv2)-(?:c(?P<c>\d+)|w(?P<w>\d+\.\d+))-s(?P<seed>\d+)$")


@dataclass(frozen=True, order=True)
class Run:
    arch: str
    width: float
    seed: int

    @property
    def config_id(self) -> str:
        """The configuration (architecture and width) without the seed."""
        if self.arch == "scalecnn":
            return f"scalecnn-c{int(self.width)}"
        return f"mobilenetv2-w{self.width:.2f}"

    @property
    def id(self) -> str:
        return f"{self.config_id}-s{self.seed}"

    def as_dict(self) -> dict:
        return {"run_id": self.id, "arch": self.arch, "width": self.width, "seed": self.seed}


def parse_run_id(run_id: str) -> Run:
    m = _RUN_ID.match(run_id)
    if not m:
        raise ValueError(
            f"not a run id: {run_id!r}; expected e.g. 'scalecnn-c16-s3' or 'mobilenetv2-w0.75-s0'"
        )
    width = int(m["c"]) if m["c"] else float(m["w"])
    return Run(m["arch"], width, int(m["seed"]))


def run_table(config: dict) -> list[Run]:
    """Every run of the sweep, ordered by architecture, width, seed."""
    runs = []
    for arch in ARCHS:
        for width in config["models"].get(arch) or []:
            width = int(width) if arch == "scalecnn" else float(width)
            runs.extend(Run(arch, width, int(seed)) for seed in config["seeds"])
    ids = [r.id for r in runs]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ValueError(f"widths that format to the same run id: {dupes}; use distinct widths")
    return sorted(runs, key=lambda r: (ARCHS.index(r.arch), r.width, r.seed))


def runtime_minutes(run: Run, epochs: int, dataset: str, attempt: int = 1) -> int:
    """A generous wall-time estimate for one training job, for cluster time limits.

    Per-epoch cost grows with width squared (convolution FLOPs); the constants are upper-end
    CIFAR-100 epoch times of the original runs on one GPU (11-77 s per epoch). Each retry
    gets proportionally more time, so a job killed at its limit is not killed again.
    """
    if run.arch == "scalecnn":
        per_epoch_s = 10 + 0.012 * run.width**2  # c=4: 10 s, c=64: 59 s
    else:
        per_epoch_s = 25 + 6 * run.width**2  # w=0.1: 25 s, w=3: 79 s
    if dataset != "cifar100":  # the bundled 8×8 digits: far smaller
        per_epoch_s /= 5
    return int(10 + attempt * 1.5 * epochs * per_epoch_s / 60)

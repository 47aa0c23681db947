"""The run table: which runs a config asks for, their readable ids, and their cost.

A run is family × width × recipe × seed, on a training set: by default the config's dataset in
full, with its own labels; a study may train on another registered dataset, a fixed nested subset
of the training images, or with a fraction of the training labels corrupted. Its id reads like
`scalecnn-c16-cosine-s3`, `mobilenetv2-w0.75-cosine-s0` or
`mlp-h20-st_lr0.1_mse_e30-n10000-noise0.2-s1` (10,000 training images, 20 % noisy labels) and
parses back; the family registry says how each family writes its width. Every study contributes
runs; a run two studies ask for is one target.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from . import datasets, families

RECIPE_NAME = r"[a-z][a-z0-9_.]*"


@dataclass(frozen=True, order=True)
class Run:
    family: str
    width: float
    recipe: str
    seed: int
    data_size: int = 0  # training images of the fixed nested subset; 0: the whole training set
    noise: float = 0.0  # fraction of training labels corrupted (symmetric); 0: clean labels
    dataset: str = ""  # a registered dataset; "": the config's data.dataset

    @property
    def config_id(self) -> str:
        """The configuration (family, width, recipe, training set) without the seed: what packed seeds share."""
        fam = families.get(self.family)
        return f"{self.family}-{fam.width_letter}{fam.format_width(self.width)}-{self.recipe}{self.data_suffix}"

    @property
    def data_suffix(self) -> str:
        """`-n10000-noise0.2-on_mnist`: the training set when it is not the config's whole, clean one."""
        size = f"-n{self.data_size}" if self.data_size else ""
        noise = f"-noise{format_fraction(self.noise)}" if self.noise else ""
        return size + noise + (f"-on_{self.dataset}" if self.dataset else "")

    @property
    def id(self) -> str:
        return f"{self.config_id}-s{self.seed}"

    def as_dict(self) -> dict:
        """The record's run fields; the training-set axes appear only where they are not the default,
        so the records (and resume states) of existing builds stay as they were."""
        d = {"run_id": self.id, "arch": self.family, "width": self.width, "recipe": self.recipe, "seed": self.seed}
        extra = {"data_size": self.data_size, "noise": self.noise, "dataset": self.dataset}
        return d | {k: v for k, v in extra.items() if v}


def format_fraction(value: float) -> str:
    """A label-noise fraction as an id writes it (`0.2`, `0.05`); refuses one outside [0, 1) or
    with more than three decimals, which would not read back exactly."""
    text = f"{float(value):.3f}".rstrip("0").rstrip(".")
    if not 0 <= value < 1 or float(text) != float(value):
        raise ValueError(f"label-noise fraction {value!r} must be in [0, 1) with at most 3 decimals")
    return text


def run_id_pattern(recipes=None) -> str:
    """A regex for run ids of the registered families (Snakemake's wildcard constraint); with
    `recipes`, only of runs under one of those recipes (each train rule takes its own)."""
    names = "|".join(sorted(families.FAMILIES))
    recipe = RECIPE_NAME if recipes is None else "(?:" + ("|".join(re.escape(r) for r in recipes) or "(?!)") + ")"
    return rf"(?:{names})-[a-z][0-9.]+-{recipe}{DATA_SUFFIX}-s[0-9]+"


# The training-set segments of an id, each optional, in this order.
DATA_SUFFIX = r"(?:-n[0-9]+)?(?:-noise[0-9.]+)?(?:-on_[a-z][a-z0-9_]*)?"


def any_of(words) -> str:
    """A regex matching exactly one of `words`, factored by common prefixes (a trie): Python's re
    tries a flat alternation's branches one by one, so matching one id against the thousands of
    a large sweep's configurations would cost each Snakemake file lookup thousands of tries."""
    trie: dict = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict) -> str:
        branches = [re.escape(ch) + emit(child) for ch, child in sorted(node.items()) if ch]
        if "" in node:
            return "(?:" + "|".join(branches) + ")?" if branches else ""
        return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"

    return "(?:" + emit(trie) + ")" if trie else "(?!)"


def config_id_pattern() -> str:
    names = "|".join(sorted(families.FAMILIES))
    return rf"(?:{names})-[a-z][0-9.]+-{RECIPE_NAME}{DATA_SUFFIX}"


def parse_run_id(run_id: str) -> Run:
    m = re.fullmatch(
        rf"(?P<family>[a-z][a-z0-9]*)-(?P<letter>[a-z])(?P<width>[0-9.]+)-(?P<recipe>{RECIPE_NAME})"
        r"(?:-n(?P<size>[0-9]+))?(?:-noise(?P<noise>[0-9.]+))?(?:-on_(?P<dataset>[a-z][a-z0-9_]*))?-s(?P<seed>[0-9]+)",
        run_id,
    )
    if not m or m["family"] not in families.FAMILIES:
        raise ValueError(
            f"not a run id: {run_id!r}; expected e.g. 'scalecnn-c16-cosine-s3' or 'mobilenetv2-w0.75-cosine-s0'"
            f" (families: {', '.join(families.FAMILIES)})"
        )
    fam = families.get(m["family"])
    if m["letter"] != fam.width_letter:
        raise ValueError(f"not a run id: {run_id!r}; {fam.label} widths are written '{fam.width_letter}…'")
    try:
        run = Run(fam.name, fam.cast_width(m["width"]), m["recipe"], int(m["seed"]), int(m["size"] or 0),
                  float(m["noise"] or 0), m["dataset"] or "")
        run.id  # noqa: B018  (formats, so validates, the width and noise)
    except ValueError:
        run = None
    if run is None or run.id != run_id:
        raise ValueError(f"not a canonical run id: {run_id!r}" + (f" (the canonical form is {run.id!r})" if run else ""))
    return run


def family_order(name: str) -> int:
    return list(families.FAMILIES).index(name)


def sort_runs(runs) -> list[Run]:
    """Unique runs, ordered by family (registry order), recipe, training set, width, seed."""
    return sorted(set(runs), key=lambda r: (family_order(r.family), r.recipe, r.dataset, r.data_size, r.noise,
                                            r.width, r.seed))


def sweep(models: dict, recipe: str, seeds) -> list[Run]:
    """Every (family, width) of a `models:` mapping × seeds, under one recipe; ids checked distinct."""
    runs = []
    for name, widths in models.items():
        fam = families.get(name)
        runs.extend(Run(name, fam.cast_width(w), recipe, int(s)) for w in widths or [] for s in seeds)
    seen: dict[str, Run] = {}
    for r in runs:
        if seen.setdefault(r.id, r) != r:
            raise ValueError(f"widths {seen[r.id].width} and {r.width} format to the same run id {r.id}; use distinct widths")
    return runs


def runtime_minutes(run: Run, epochs: int, dataset: str, attempt: int = 1) -> int:
    """A generous wall-time estimate for one training job, for cluster time limits.

    The family's cost model gives upper-end seconds per epoch of 50,000 32×32 images on one
    GPU; the dataset's training-set size and image area scale it. Each retry gets
    proportionally more time, so a job killed at its limit is not killed again. Rounded up to
    a step of 10·√2^k minutes (10, 15, 20, 29, 40, …), so runs of about one size ask for the
    same time and can share a job array.
    """
    spec = datasets.get(dataset)
    scale = spec.train_size / 50_000 * datasets.example_area(spec.image_shape) / (32 * 32)
    per_epoch_s = families.get(run.family).epoch_seconds(run.width) * scale
    minutes = 10 + attempt * 1.5 * epochs * per_epoch_s / 60
    return math.ceil(round(10 * math.sqrt(2) ** math.ceil(2 * math.log2(minutes / 10) - 1e-9), 6))


# Host memory of a training job before its data and model: the job's own Snakemake process and
# the script's Python with torch (about 0.8 GB each, measured), and on a GPU the CUDA context,
# its libraries and the compile workers.
BASE_MB = {"cpu": 2000, "gpu": 5000}


def step_mb(run: Run, dataset: str, batch_size: int) -> float:
    """Upper-end MB of one training step of `run` (weights, activations, gradients): the family's
    cost model at batch 128 of 32×32 images, scaled by the batch size and the image area."""
    area = datasets.example_area(datasets.get(dataset).image_shape)
    return families.get(run.family).step_mb(run.width) * batch_size / 128 * area / (32 * 32)


def memory_mb(run: Run, dataset: str, batch_size: int, *, gpu: bool, runs: int = 1) -> int:
    """Host memory (MB) for a job that trains `runs` runs like `run` together, for cluster requests.

    The prepared uint8 dataset is read once and copied a few times while it is loaded (train
    and test, ×4); on a CPU each run's training steps live in host memory too, on a GPU in the
    device's. Rounded up to 500 MB, so runs of about one size ask for the same.
    """
    spec = datasets.get(dataset)
    data_mb = 4 * 1.25 * spec.train_size * math.prod(spec.image_shape) / 1e6
    steps = 0 if gpu else runs * step_mb(run, dataset, batch_size)
    return 500 * math.ceil((BASE_MB["gpu" if gpu else "cpu"] + data_mb + steps) / 500)


def cpus(run: Run, dataset: str, batch_size: int, *, gpu: bool) -> int:
    """CPUs (and torch threads) for one training job, from the size of its steps: threads pay off
    only for large steps, and a run's threads come from its size, never the machine, since they
    change the float summation order on a CPU. On a GPU the data and its augmentation stay on the
    device and the CPUs only drive it and compile: at most 4."""
    mb = step_mb(run, dataset, batch_size)
    n = 1 if mb < 250 else 4 if mb < 1000 else 8
    return min(n, 4) if gpu else n


def torch_threads(run: Run, dataset: str, batch_size: int, *, gpu: bool, given: int) -> tuple[int, str | None]:
    """(threads, a note or None) for a training job that Snakemake gave `given` threads. On a CPU
    the run's own count (cpus), even where `--cores` gave the job fewer: its weights then match
    any machine's, at some speed. On a GPU the threads only drive the device: those given."""
    if gpu:
        return given, None
    own = cpus(run, dataset, batch_size, gpu=False)
    if given >= own:
        return own, None
    return own, (f"{run.id}: its steps take {own} threads and this job was given {given} (--cores {given} or "
                 f"fewer); training with {own}, since threads change a CPU run's float summation order and so "
                 f"its weights: it runs slower here than on {own} cores")

"""The original's released per-run results (Alnemari et al. 2026) as tinyscale tables,
and the "this build vs the original" comparison.

Source: data/reference/alnemari2026_cifar100_runs.jsonl (see data/reference/README.md).
The original trained them under the paper's cosine recipe, so their run ids carry it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from .aggregate import RUN_COLUMNS

# CIFAR-100 fine label names in label-index order (the archive's meta file); the released runs
# index per-class accuracy by label, so names are needed to report hardest/easiest classes.
CIFAR100_CLASSES = (
    "apple aquarium_fish baby bear beaver bed bee beetle bicycle bottle bowl boy bridge bus butterfly "
    "camel can castle caterpillar cattle chair chimpanzee clock cloud cockroach couch crab crocodile cup "
    "dinosaur dolphin elephant flatfish forest fox girl hamster house kangaroo keyboard lamp lawn_mower "
    "leopard lion lizard lobster man maple_tree motorcycle mountain mouse mushroom oak_tree orange orchid "
    "otter palm_tree pear pickup_truck pine_tree plain plate poppy porcupine possum rabbit raccoon ray "
    "road rocket rose sea seal shark shrew skunk skyscraper snail snake spider squirrel streetcar "
    "sunflower sweet_pepper table tank telephone television tiger tractor train trout tulip turtle "
    "wardrobe whale willow_tree wolf woman worm"
).split()

_ARCH = {"scalecnn": "scalecnn", "mobilenet": "mobilenetv2"}
RECIPE = "cosine"
COMPARISON_COLUMNS = ["family", "quantity", "build", "build_std", "original", "original_std", "diff", "diff_in_std"]


# What each released run's line holds that the build reads.
REQUIRED_KEYS = frozenset({"arch", "size_param", "seed", "num_params", "top1_acc", "top5_acc", "ece", "per_class_acc",
                           "avg_confidence_correct", "avg_confidence_incorrect", "total_time_s", "epochs"})


def load_reference(path: str | Path) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """(runs table, per-class table, class names) in the same format as this build's tables."""
    from ..runs import Run

    path, runs, per_class = Path(path), [], []
    hint = "`reference:` must name the released runs, one JSON object per line (data/reference/*.jsonl), or null"
    if not path.is_file():
        raise ValueError(f"reference {path} is {'a directory' if path.is_dir() else 'missing'}; {hint}")
    try:
        lines = path.read_text().splitlines()
    except UnicodeDecodeError as e:
        raise ValueError(f"reference {path} is not text ({e}); {hint}") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            r = json.loads(line)
            missing = sorted(REQUIRED_KEYS - set(r)) if isinstance(r, dict) else ["(not an object)"]
        except json.JSONDecodeError as e:
            raise ValueError(f"line {number} of reference {path} is not JSON ({e}); {hint}") from None
        if missing:
            raise ValueError(f"line {number} of reference {path} lacks {', '.join(missing)}; {hint}")
        arch = _ARCH[r["arch"]]
        width = int(r["size_param"]) if arch == "scalecnn" else float(r["size_param"])
        run_id = Run(arch, width, RECIPE, int(r["seed"])).id
        runs.append({
            "run_id": run_id, "arch": arch, "width": width, "recipe": RECIPE, "seed": int(r["seed"]),
            "params": int(r["num_params"]),
            "top1": r["top1_acc"], "top5": r["top5_acc"], "error": 1.0 - r["top1_acc"], "ece": r["ece"],
            "nll": np.nan,  # not released
            "conf_correct": r["avg_confidence_correct"], "conf_incorrect": r["avg_confidence_incorrect"],
            "wall_time_s": r["total_time_s"], "epochs": int(r["epochs"]), "device": "authors' GPU (unstated)",
        })
        per_class.append(pd.DataFrame({
            "run_id": run_id, "arch": arch, "width": width, "seed": int(r["seed"]),
            "class_index": np.arange(len(r["per_class_acc"])), "class_name": CIFAR100_CLASSES,
            "accuracy": r["per_class_acc"],
        }))
    return pd.DataFrame(runs, columns=RUN_COLUMNS), pd.concat(per_class, ignore_index=True), list(CIFAR100_CLASSES)


def _row(family, quantity, build, build_std, orig, orig_std):
    diff = None if build is None or orig is None else build - orig
    spread = [s for s in (build_std, orig_std) if s is not None]
    pooled = float(np.sqrt(np.mean(np.square(spread)))) if spread else None
    in_std = diff / pooled if diff is not None and pooled else None
    return {"family": family, "quantity": quantity, "build": build, "build_std": build_std,
            "original": orig, "original_std": orig_std, "diff": diff, "diff_in_std": in_std}


def compare(numbers: dict, ref_numbers: dict, summary: pd.DataFrame, ref_summary: pd.DataFrame) -> pd.DataFrame:
    """Every headline number side by side, with the difference also in units of the seed std.

    The seed std is pooled over the two sides: sqrt(mean of the available variances).
    """
    rows = []
    for arch, ref in ref_numbers["families"].items():
        mine = numbers["families"].get(arch)
        if mine is None:
            continue
        label = ref["label"]
        mf, rf = mine.get("fit") or {}, ref.get("fit") or {}
        rows.append(_row(label, "alpha", mf.get("alpha"), mf.get("alpha_seed_std"), rf.get("alpha"), rf.get("alpha_seed_std")))
        rows.append(_row(label, "R2", mf.get("r2"), None, rf.get("r2"), None))
        ml, rl = mine.get("local_last") or {}, ref.get("local_last") or {}
        rows.append(_row(label, "local exponent, two largest sizes", ml.get("exponent"), None, rl.get("exponent"), None))
        for end in ("smallest", "largest"):
            rows.append(_row(label, f"Gini, {end}", mine[f"gini_{end}"], None, ref[f"gini_{end}"], None))
            mb, rb = mine["bottom"].get("5") or {}, ref["bottom"].get("5") or {}  # absent with ≤ 5 classes
            rows.append(_row(label, f"bottom-5 accuracy, {end}", mb.get(end), None, rb.get(end), None))
        rows.append(_row(label, "ECE, smallest", mine["ece_smallest"], mine["ece_smallest_std"], ref["ece_smallest"], ref["ece_smallest_std"]))
        rows.append(_row(label, "ECE, peak", mine["ece_peak"], mine["ece_peak_std"], ref["ece_peak"], ref["ece_peak_std"]))
    by_size = summary.merge(ref_summary, on=["arch", "width"], suffixes=("", "_ref"))
    for r in by_size.itertuples():
        label = ref_numbers["families"][r.arch]["label"]
        std = lambda v: None if pd.isna(v) else float(v)  # noqa: E731
        rows.append(_row(label, f"accuracy at width {r.width:g}", r.top1_mean, std(r.top1_std), r.top1_mean_ref, std(r.top1_std_ref)))
    return pd.DataFrame(rows, columns=COMPARISON_COLUMNS)

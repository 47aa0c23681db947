"""Per-run predictions → tables: one row per run, per-class accuracy, reliability bins, error overlap."""

from __future__ import annotations

from itertools import product

import numpy as np
import pandas as pd

from . import metrics

RUN_COLUMNS = [
    "run_id", "arch", "width", "recipe", "seed", "params", "top1", "top5", "error", "ece", "nll",
    "conf_correct", "conf_incorrect", "wall_time_s", "epochs", "device",
]


def run_row(record: dict, pred: dict, ece_bins: int = 15) -> dict:
    """One runs-table row from a run's record (run.json) and its predictions."""
    probs, labels, preds = pred["probs"], pred["labels"], pred["preds"]
    top1 = float((preds == labels).mean())
    conf_ok, conf_bad = metrics.confidence_split(probs, labels, preds)
    return {
        "run_id": record["run_id"], "arch": record["arch"], "width": record["width"], "recipe": record["recipe"],
        "seed": record["seed"], "params": record["num_params"], "top1": top1, "top5": metrics.topk_accuracy(probs, labels, 5),
        "error": 1.0 - top1, "ece": metrics.ece(probs, labels, ece_bins, preds), "nll": metrics.nll(probs, labels),
        "conf_correct": conf_ok, "conf_incorrect": conf_bad, "wall_time_s": record["wall_time_s"],
        "epochs": record["epochs_done"], "device": record["device"],
    }


def per_class_rows(record: dict, pred: dict, classes: list[str]) -> pd.DataFrame:
    acc = metrics.per_class_accuracy(pred["preds"], pred["labels"], len(classes))
    return pd.DataFrame({
        "run_id": record["run_id"], "arch": record["arch"], "width": record["width"], "seed": record["seed"],
        "class_index": np.arange(len(classes)), "class_name": classes, "accuracy": acc,
    })


def reliability_rows(record: dict, pred: dict, n_bins: int) -> pd.DataFrame:
    bins = metrics.reliability_bins(pred["probs"], pred["labels"], n_bins, pred["preds"])
    return bins.assign(run_id=record["run_id"], arch=record["arch"], width=record["width"], seed=record["seed"])


def jaccard_table(runs: pd.DataFrame, errors: dict[str, np.ndarray]) -> pd.DataFrame:
    """Error-set overlap for every ordered pair of sizes in a family.

    For each (width_a, width_b): the mean and population std over all seed pairs (distinct seeds
    when a = b, since a run always overlaps itself fully), and the seed-0 vs seed-0 value.
    """
    rows = []
    for arch, fam in runs.groupby("arch", sort=False):
        widths = sorted(fam["width"].unique())
        seeds = {w: sorted(fam.loc[fam["width"] == w, "seed"]) for w in widths}
        ids = {(r.width, r.seed): r.run_id for r in fam.itertuples()}
        for wa, wb in product(widths, widths):
            pairs = [(sa, sb) for sa in seeds[wa] for sb in seeds[wb] if wa != wb or sa != sb]
            values = [metrics.jaccard(errors[ids[wa, sa]], errors[ids[wb, sb]]) for sa, sb in pairs]
            s0 = min(seeds[wa]), min(seeds[wb])
            first = metrics.jaccard(errors[ids[wa, s0[0]]], errors[ids[wb, s0[1]]]) if wa != wb else np.nan
            rows.append({
                "arch": arch, "width_a": wa, "width_b": wb, "n_pairs": len(values),
                "mean": float(np.mean(values)) if values else np.nan,
                "std": float(np.std(values)) if len(values) > 1 else np.nan,
                "first_seeds": first,
            })
    return pd.DataFrame(rows)


def environment_summary(records: list[dict]) -> dict:
    """What the runs ran on, for the reproducibility appendix: distinct versions, devices, compute."""
    distinct = lambda key: sorted({str(r.get(key)) for r in records})  # noqa: E731
    wall = [float(r["wall_time_s"]) for r in records]
    return {
        "n_runs": len(records), "code_version": distinct("code_version"), "python": distinct("python"),
        "torch": distinct("torch"), "torchvision": distinct("torchvision"), "numpy": distinct("numpy"),
        "device": distinct("device"), "platform": distinct("platform"),
        "total_wall_time_s": sum(wall), "max_wall_time_s": max(wall) if wall else 0.0,
        "resumed_runs": sum(1 for r in records if r.get("resumed_from")),
        "gpu_setups": gpu_setups(records),
    }


def gpu_setups(records: list[dict]) -> list[dict]:
    """Each distinct (GPU model, CUDA, cuDNN, driver) the CUDA runs trained on, with its run count."""
    keys = ("gpu", "cuda", "cudnn", "driver")
    counts: dict[tuple, int] = {}
    for r in records:
        if "cuda" in r:
            setup = tuple(str(r.get(k)) for k in keys)
            counts[setup] = counts.get(setup, 0) + 1
    return [dict(zip(keys, s), n_runs=n) for s, n in sorted(counts.items())]

"""The width sweep's analyses (PROTOCOL.md §3) from the runs and per-class tables, to tables and numbers.

Every function takes plain DataFrames, so the same code runs on this build's runs and on the
original's released runs (`tinyscale.reference`). Small sweeps degrade: a fit needs three sizes,
a spread needs two seeds, and a fit needs errors strictly between 0 and chance; otherwise the
value is None and a reason is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import families
from . import metrics, scaling


def _none_if_nan(x):
    if x is None:
        return None
    x = float(x)
    return None if np.isnan(x) else x


def size_summary(runs: pd.DataFrame) -> pd.DataFrame:
    """Per (arch, width): params, seed count, and mean / population std (ddof=0) of each metric."""
    metrics_ = ["top1", "top5", "error", "ece", "nll", "conf_correct", "conf_incorrect"]
    rows = []
    for (arch, width), g in runs.groupby(["arch", "width"], sort=False):
        row = {"arch": arch, "width": width, "params": int(g["params"].iloc[0]), "n_seeds": len(g)}
        for m in metrics_:
            v = g[m].astype(float)
            row[f"{m}_mean"] = v.mean()
            row[f"{m}_std"] = v.std(ddof=0) if len(g) > 1 else np.nan
        rows.append(row)
    return pd.DataFrame(rows).sort_values(["arch", "params"], key=_arch_order).reset_index(drop=True)


def _arch_order(col: pd.Series) -> pd.Series:
    if col.name == "arch":
        return col.map({a: i for i, a in enumerate(families.FAMILIES)}).fillna(len(families.FAMILIES))
    return col


def error_matrix(runs: pd.DataFrame, arch: str) -> tuple[np.ndarray, np.ndarray]:
    """(params per size, errors sizes × seeds) for the seeds every size of the family has."""
    fam = runs[runs["arch"] == arch]
    table = fam.pivot_table(index="params", columns="seed", values="error").dropna(axis=1)
    return table.index.to_numpy(dtype=float), table.to_numpy()


@dataclass
class FamilyFit:
    arch: str
    n_sizes: int
    n_seeds: int
    fit: scaling.PowerLawFit | None = None
    alpha_seed_mean: float | None = None
    alpha_seed_std: float | None = None
    ci: tuple[float, float] | None = None
    skipped: str | None = None
    params: np.ndarray = field(default_factory=lambda: np.zeros(0))


def fit_family(runs: pd.DataFrame, summary: pd.DataFrame, arch: str, num_classes: int, bootstrap_samples: int = 2000,
               bootstrap_seed: int = 0) -> FamilyFit:
    fam = summary[summary["arch"] == arch]
    n_sizes = len(fam)
    params, errs = error_matrix(runs, arch)
    out = FamilyFit(arch, n_sizes, errs.shape[1] if errs.size else 0, params=fam["params"].to_numpy(float))
    out.skipped = scaling.fit_refusal(fam["params"], fam["error_mean"], num_classes)
    if out.skipped:
        return out
    out.fit = scaling.fit_power_law(fam["params"], fam["error_mean"])
    # the per-seed spread only where every seed's own errors could be fitted
    if out.n_seeds >= 2 and all(scaling.fit_refusal(params, errs[:, j], num_classes) is None for j in range(errs.shape[1])):
        alphas = scaling.per_seed_alphas(params, errs)
        out.alpha_seed_mean, out.alpha_seed_std = float(alphas.mean()), float(alphas.std(ddof=1))
        out.ci = scaling.bootstrap_alpha_ci(params, errs, bootstrap_samples, bootstrap_seed)
    return out


def fit_table(fits: list[FamilyFit], kaplan_alpha: float) -> pd.DataFrame:
    rows = []
    for f in fits:
        row = {"arch": f.arch, "n_sizes": f.n_sizes, "n_seeds": f.n_seeds, "skipped": f.skipped or ""}
        if f.fit:
            row.update(alpha=f.fit.alpha, coef=f.fit.coef, r2=f.fit.r2, ratio_to_kaplan=f.fit.alpha / kaplan_alpha,
                       alpha_seed_mean=f.alpha_seed_mean, alpha_seed_std=f.alpha_seed_std,
                       alpha_ci_lo=f.ci[0] if f.ci else None, alpha_ci_hi=f.ci[1] if f.ci else None)
        rows.append(row)
    return pd.DataFrame(rows)


def local_exponent_table(summary: pd.DataFrame) -> pd.DataFrame:
    parts = []
    for arch, fam in summary.groupby("arch", sort=False):
        if len(fam) < 2:
            continue
        le = scaling.local_exponents(fam["params"].to_numpy(float), fam["error_mean"].to_numpy(float))
        widths = fam.sort_values("params")["width"].to_numpy()
        parts.append(le.assign(arch=arch, width_lo=widths[:-1], width_hi=widths[1:]))
    cols = ["arch", "width_lo", "width_hi", "n_lo", "n_hi", "n_mid", "exponent"]
    return pd.concat(parts, ignore_index=True)[cols] if parts else pd.DataFrame(columns=cols)


def class_means(per_class: pd.DataFrame) -> pd.DataFrame:
    """Seed-averaged per-class accuracy: rows (arch, width), columns class index."""
    return per_class.pivot_table(index=["arch", "width"], columns="class_index", values="accuracy", aggfunc="mean")


def defined_bottom_k(bottom_k, n_classes: int) -> list[int]:
    """The k whose bottom-k mean says something: with k ≥ the number of classes it is the mean class
    accuracy (and every larger k repeats it), so only k < n_classes are reported."""
    return sorted({int(k) for k in bottom_k if int(k) < n_classes})


def interior_peak(values) -> int | None:
    """The position of the maximum when it lies strictly inside the sequence (sizes ascending); None
    when it is an end point, where "peaks at" would only name the smallest or the largest size."""
    v = np.asarray(values, dtype=float)
    if len(v) < 3 or not np.isfinite(v).any():
        return None
    i = int(np.nanargmax(v))
    return i if 0 < i < len(v) - 1 else None


def specialisation_table(per_class: pd.DataFrame, classes: list[str], bottom_k=(5, 10, 20), n_named: int = 5) -> pd.DataFrame:
    bottom_k = defined_bottom_k(bottom_k, len(classes))
    rows = []
    for (arch, width), acc in class_means(per_class).iterrows():
        v = acc.to_numpy(float)
        order = np.argsort(v, kind="stable")
        row = {"arch": arch, "width": width, "gini": metrics.gini(v), "mean_class_acc": float(v.mean())}
        row.update({f"bottom{k}": metrics.bottom_k_mean(v, k) for k in bottom_k})
        row["hardest"] = "; ".join(classes[i] for i in order[:n_named])
        row["easiest"] = "; ".join(classes[i] for i in order[::-1][:n_named])
        rows.append(row)
    return pd.DataFrame(rows)


def calibration_table(summary: pd.DataFrame) -> pd.DataFrame:
    cols = ["arch", "width", "params", "n_seeds", "ece_mean", "ece_std", "conf_correct_mean", "conf_incorrect_mean", "top1_mean"]
    return summary[cols].copy()


@dataclass
class Analysis:
    summary: pd.DataFrame
    fits: pd.DataFrame
    local: pd.DataFrame
    specialisation: pd.DataFrame
    calibration: pd.DataFrame
    numbers: dict

    def tables(self) -> dict[str, pd.DataFrame]:
        return {"summary": self.summary, "fits": self.fits, "local_exponents": self.local,
                "specialisation": self.specialisation, "calibration": self.calibration}


def _family_numbers(arch, summary, fit: FamilyFit, local, spec, jacc, bottom_k, kaplan_alpha) -> dict:
    fam = summary[summary["arch"] == arch].sort_values("params")
    small, large = fam.iloc[0], fam.iloc[-1]
    at = interior_peak(fam["ece_mean"])
    peak = fam.iloc[at] if at is not None else None
    sp = spec[spec["arch"] == arch].set_index("width")
    out = {
        "label": families.get(arch).label, "n_sizes": len(fam), "n_seeds": int(fam["n_seeds"].min()),
        "width_smallest": small["width"], "width_largest": large["width"],
        "params_smallest": int(small["params"]), "params_largest": int(large["params"]),
        "acc_smallest": small["top1_mean"], "acc_largest": large["top1_mean"],
        "acc_smallest_std": _none_if_nan(small["top1_std"]), "acc_largest_std": _none_if_nan(large["top1_std"]),
        "ece_smallest": small["ece_mean"], "ece_smallest_std": _none_if_nan(small["ece_std"]),
        "ece_largest": large["ece_mean"],
        # None when ECE is highest at the smallest or the largest size: then there is no peak to report
        "ece_peak": None if peak is None else peak["ece_mean"],
        "ece_peak_std": None if peak is None else _none_if_nan(peak["ece_std"]),
        "ece_peak_width": None if peak is None else peak["width"],
        "ece_peak_params": None if peak is None else int(peak["params"]),
        "ece_highest_at": "inside" if peak is not None else "smallest" if np.argmax(fam["ece_mean"].to_numpy()) == 0 else "largest",
        "conf_correct_smallest": _none_if_nan(small["conf_correct_mean"]),
        "conf_incorrect_smallest": _none_if_nan(small["conf_incorrect_mean"]),
        "gini_smallest": sp.loc[small["width"], "gini"], "gini_largest": sp.loc[large["width"], "gini"],
        "hardest_smallest": sp.loc[small["width"], "hardest"], "easiest_smallest": sp.loc[small["width"], "easiest"],
        "hardest_largest": sp.loc[large["width"], "hardest"], "easiest_largest": sp.loc[large["width"], "easiest"],
        "bottom": {str(k): {"smallest": sp.loc[small["width"], f"bottom{k}"], "largest": sp.loc[large["width"], f"bottom{k}"]} for k in bottom_k},
        "fit": None, "fit_skipped": fit.skipped,
    }
    if fit.fit:
        out["fit"] = {
            "alpha": fit.fit.alpha, "coef": fit.fit.coef, "r2": fit.fit.r2,
            "ratio_to_kaplan": fit.fit.alpha / kaplan_alpha,
            "alpha_seed_mean": fit.alpha_seed_mean, "alpha_seed_std": fit.alpha_seed_std,
            "alpha_ci_lo": fit.ci[0] if fit.ci else None, "alpha_ci_hi": fit.ci[1] if fit.ci else None,
            "max_abs_residual": float(np.abs(fit.fit.residuals).max()),
        }
    le = local[local["arch"] == arch]
    if len(le):
        last = le.iloc[-1]
        out["local_last"] = {"exponent": last["exponent"], "width_lo": last["width_lo"], "width_hi": last["width_hi"]}
        out["local_max"] = float(le["exponent"].max())
        out["local_min"] = float(le["exponent"].min())
    else:
        out["local_last"] = None
    out["jaccard"] = None
    if jacc is not None:
        j = jacc[(jacc["arch"] == arch) & (jacc["width_a"] == small["width"]) & (jacc["width_b"] == large["width"])]
        if len(j) and small["width"] != large["width"]:
            r = j.iloc[0]
            out["jaccard"] = {"mean": r["mean"], "std": _none_if_nan(r["std"]), "first_seeds": r["first_seeds"], "n_pairs": int(r["n_pairs"])}
    return out


def _clean(obj):
    """JSON-ready: numpy scalars to Python, NaN to None (numbers.json never holds a NaN)."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return _none_if_nan(obj)
    return obj


def analyse(runs: pd.DataFrame, per_class: pd.DataFrame, classes: list[str], cfg: dict, jaccard: pd.DataFrame | None = None) -> Analysis:
    """All analyses; `cfg` is the config's `analysis` section (defaults filled in)."""
    summary = size_summary(runs)
    archs = [a for a in families.FAMILIES if a in set(summary["arch"])]
    fits = [fit_family(runs, summary, a, len(classes), cfg["bootstrap_samples"], cfg["bootstrap_seed"]) for a in archs]
    local = local_exponent_table(summary)
    bottom_k = defined_bottom_k(cfg["bottom_k"], len(classes))
    spec = specialisation_table(per_class, classes, bottom_k)
    by_family = {
        f.arch: _family_numbers(f.arch, summary, f, local, spec, jaccard, bottom_k, cfg["kaplan_alpha"])
        for f in fits
    }
    ratios = [f["fit"]["ratio_to_kaplan"] for f in by_family.values() if f["fit"]]
    numbers = {
        "n_runs": len(runs), "n_configs": len(summary), "seeds": sorted(int(s) for s in runs["seed"].unique()),
        "n_seeds": int(runs["seed"].nunique()), "n_classes": len(classes), "bottom_k": bottom_k,
        "kaplan_alpha": cfg["kaplan_alpha"], "ece_bins": cfg["ece_bins"],
        "ratio_to_kaplan_min": min(ratios) if ratios else None, "ratio_to_kaplan_max": max(ratios) if ratios else None,
        "families": by_family,
    }
    return Analysis(summary, fit_table(fits, cfg["kaplan_alpha"]), local, spec, calibration_table(summary), _clean(numbers))

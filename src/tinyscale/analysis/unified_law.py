"""The unified law's claims (Boopathy & Fiete, arXiv 2409.05782; PROTOCOL.md §5.1) from the scale–time
study's data, noise and clean arms: epoch-wise double-descent peaks against size, noise sensitivity
against size, and the data a size needs. Each claim gets numbers and a verdict ("supported",
"refuted", "inconclusive" with its reason) by rules whose level is the config's.

Input: the long curves table (arm, n_params, seed, data_size, noise, step, test_error); data_size 0
is the whole training set, noise 0 clean labels. Only the primary arm's runs are read.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

SUPPORTED, REFUTED, INCONCLUSIVE = "supported", "refuted", "inconclusive"


def peak_time(steps, err) -> float:
    """The step of the epoch-wise double-descent peak: the highest interior maximum after the first
    local minimum of the curve; NaN when the curve has none (it only falls, or only rises)."""
    s, e = np.asarray(steps, dtype=np.float64), np.asarray(err, dtype=np.float64)
    order = np.argsort(s)
    s, e = s[order], e[order]
    if len(e) < 3:
        return math.nan
    interior = np.arange(1, len(e) - 1)
    minima = interior[(e[interior] < e[interior - 1]) & (e[interior] <= e[interior + 1])]
    if not len(minima):
        return math.nan
    maxima = interior[(e[interior] > e[interior - 1]) & (e[interior] >= e[interior + 1]) & (interior > minima[0])]
    return float(s[maxima[np.argmax(e[maxima])]]) if len(maxima) else math.nan


def _final_errors(df: pd.DataFrame) -> pd.DataFrame:
    """Each run's test error at its last logged step: columns n_params, seed, data_size, noise, error."""
    last = df.sort_values("step").groupby(["n_params", "seed", "data_size", "noise"], sort=True).tail(1)
    return last.rename(columns={"test_error": "error"})[["n_params", "seed", "data_size", "noise", "error"]]


def _slope_interval(x, per_seed: list[np.ndarray], level: float) -> tuple[float, float, float, int]:
    """Mean over seeds of each seed's OLS slope of y on x, and its Student-t interval over seeds."""
    slopes = np.array([np.polyfit(x, y, 1)[0] for y in per_seed if np.all(np.isfinite(y))])
    n = len(slopes)
    if n < 2:
        return (float(slopes[0]) if n else math.nan), math.nan, math.nan, n
    half = stats.t.ppf(0.5 + level / 2, n - 1) * slopes.std(ddof=1) / math.sqrt(n)
    return float(slopes.mean()), float(slopes.mean() - half), float(slopes.mean() + half), n


def noise_sensitivity(final: pd.DataFrame, level: float, min_sizes: int) -> dict:
    """Δ(N) = E(noise) − E(clean) at the end of training, per noise level, paired by seed; claim 2
    ("overparameterised models are more sensitive to label noise") is supported when the slope of Δ
    on log10 N has an interval above 0 at every noise level, refuted when below 0 at any."""
    clean = final[(final["noise"] == 0) & (final["data_size"] == 0)].set_index(["n_params", "seed"])["error"]
    out = {"levels": {}, "verdict": INCONCLUSIVE, "reason": "no noisy runs"}
    outcomes = []
    for f in sorted(set(final["noise"]) - {0}):
        noisy = final[(final["noise"] == f) & (final["data_size"] == 0)].set_index(["n_params", "seed"])["error"]
        delta = (noisy - clean).dropna().rename("delta").reset_index()
        sizes = sorted(delta["n_params"].unique())
        per_size = delta.groupby("n_params")["delta"].mean()
        row = {"n_params": [int(n) for n in sizes], "delta": [float(per_size[n]) for n in sizes]}
        if len(sizes) < min_sizes:
            row.update(slope=None, lo=None, hi=None, outcome=INCONCLUSIVE, reason=f"{len(sizes)} sizes, fewer than {min_sizes}")
        else:
            x = np.log10(np.array(sizes, dtype=float))
            per_seed = [delta[delta["seed"] == s].set_index("n_params")["delta"].reindex(sizes).to_numpy()
                        for s in sorted(delta["seed"].unique())]
            slope, lo, hi, n = _slope_interval(x, per_seed, level)
            outcome = (INCONCLUSIVE if not np.isfinite(lo) else SUPPORTED if lo > 0 else REFUTED if hi < 0 else INCONCLUSIVE)
            reason = (f"{n} seed(s): no interval" if not np.isfinite(lo) else
                      f"slope of the noise gap on log10 N {slope:.3g}, {100 * level:g}% interval [{lo:.3g}, {hi:.3g}]")
            row.update(slope=slope, lo=_none(lo), hi=_none(hi), outcome=outcome, reason=reason)
        out["levels"][f"{f:g}"] = row
        outcomes.append(row["outcome"])
    if outcomes:
        out["verdict"] = (REFUTED if REFUTED in outcomes else SUPPORTED if set(outcomes) == {SUPPORTED} else INCONCLUSIVE)
        out["reason"] = "; ".join(f"noise {k}: {v['reason']}" for k, v in out["levels"].items())
    return out


def data_requirement(final: pd.DataFrame, n_train: int) -> dict:
    """The smallest training-set size at which each model reaches the threshold ε = the smallest
    model's error on the whole set (clean labels, seed means); claim 1 ("larger models need less
    data") is supported when that size falls with N (Spearman ρ < 0 and the largest model needs less
    than the smallest), refuted when it rises, inconclusive when the data grid cannot tell them apart."""
    clean = final[final["noise"] == 0].assign(data_size=lambda d: d["data_size"].replace(0, n_train))
    means = clean.groupby(["n_params", "data_size"])["error"].mean().unstack("data_size").sort_index()
    out = {"threshold": None, "n_params": [], "min_data": [], "data_sizes": [int(c) for c in means.columns],
           "verdict": INCONCLUSIVE, "reason": "fewer than two data sizes"}
    if means.shape[1] < 2 or means.shape[0] < 2:
        return out
    eps = float(means.iloc[0][n_train]) if n_train in means.columns else float(means.iloc[0].min())
    need = [next((int(n) for n in means.columns if row[n] <= eps), None) for _, row in means.iterrows()]
    out.update(threshold=eps, n_params=[int(n) for n in means.index], min_data=need)
    known = [(n, d) for n, d in zip(means.index, need) if d is not None]
    if len(known) < 3:
        out["reason"] = f"{len(known)} sizes reach the threshold; three are needed"
        return out
    sizes, needs = [k[0] for k in known], [k[1] for k in known]
    rho = stats.spearmanr(sizes, needs).statistic if len(set(needs)) > 1 else math.nan
    first, last = known[0][1], known[-1][1]
    out["rho"] = _none(rho)
    if np.isfinite(rho) and rho < 0 and last < first:
        out.update(verdict=SUPPORTED, reason=f"Spearman rho {rho:.2f}; the largest model needs {last:,} images, the smallest {first:,}")
    elif np.isfinite(rho) and rho > 0 and last > first:
        out.update(verdict=REFUTED, reason=f"Spearman rho {rho:.2f}; the largest model needs {last:,} images, the smallest {first:,}")
    else:
        out["reason"] = "the minimum data size does not change monotonically with N on this data grid"
    return out


def peak_scaling(df: pd.DataFrame, k_hat: float | None, level: float, min_sizes: int) -> dict:
    """t_peak(N) of each size's seed-mean curve (the noisiest arm's, where double descent shows) and its
    power-law exponent in N with a t-interval. If error depends on N^k·t, every feature of a curve,
    its peak too, sits at N^k·t = const, so t_peak ∝ N^(−k): the claim that double descent in time and
    in scale share a cause is supported when the interval holds −k̂ (and not 0), refuted when it
    excludes both, inconclusive when it holds 0."""
    noisiest = df["noise"].max()
    arm = df[(df["noise"] == noisiest) & (df["data_size"] == 0)]
    curves = arm.groupby(["n_params", "step"])["test_error"].mean().reset_index()
    peaks = {int(n): peak_time(g["step"], g["test_error"]) for n, g in curves.groupby("n_params")}
    found = {n: t for n, t in peaks.items() if np.isfinite(t)}
    out = {"noise": float(noisiest), "peaks": {str(n): _none(t) for n, t in peaks.items()}, "exponent": None,
           "lo": None, "hi": None, "predicted": None if k_hat is None else -k_hat}
    if len(found) < min_sizes:
        out.update(verdict=INCONCLUSIVE, reason=f"{len(found)} sizes have an epoch-wise peak; {min_sizes} are needed")
        return out
    x, y = np.log10(list(found)), np.log10(list(found.values()))
    fit = stats.linregress(x, y)
    half = stats.t.ppf(0.5 + level / 2, len(x) - 2) * fit.stderr
    out.update(exponent=float(fit.slope), lo=float(fit.slope - half), hi=float(fit.slope + half))
    if k_hat is None:
        out.update(verdict=INCONCLUSIVE, reason="no trade-off exponent to compare with")
    elif out["lo"] <= 0 <= out["hi"]:  # a peak that may not move with N says nothing either way
        out.update(verdict=INCONCLUSIVE, reason=f"the interval [{out['lo']:.3g}, {out['hi']:.3g}] holds 0")
    elif out["lo"] <= -k_hat <= out["hi"]:
        out.update(verdict=SUPPORTED, reason=f"the interval [{out['lo']:.3g}, {out['hi']:.3g}] holds -k = {-k_hat:.3g}")
    else:
        out.update(verdict=REFUTED, reason=f"the interval [{out['lo']:.3g}, {out['hi']:.3g}] excludes -k = {-k_hat:.3g}")
    return out


def modelwise_bump(df: pd.DataFrame, k_hat: float | None, level: float, min_steps: int = 3) -> dict:
    """The model-wise double-descent bump: at each logged step t, the interior size N*(t) whose
    seed-mean error exceeds both neighbours' (the highest such, on the noisiest arm's curves).
    Under the equivalence the bump sits at N*(t)^k·t = const, so log N* falls with log t at slope
    −1/k: the claim is supported when the slope's t-interval holds −1/k̂, refuted when it holds
    neither it nor 0 (a bump that moves at another rate), inconclusive with fewer than `min_steps`
    steps that show a bump or an interval that holds 0."""
    noisiest = df["noise"].max()
    arm = df[(df["noise"] == noisiest) & (df["data_size"] == 0) & (df["step"] > 0)]
    means = arm.groupby(["step", "n_params"])["test_error"].mean().unstack("n_params").dropna().sort_index(axis=1)
    sizes = means.columns.to_numpy(dtype=float)
    bumps = {}
    for step, row in means.iterrows():
        e = row.to_numpy(dtype=float)
        inner = [i for i in range(1, len(e) - 1) if e[i] > e[i - 1] and e[i] > e[i + 1]]
        if inner:
            bumps[float(step)] = float(sizes[max(inner, key=lambda i: e[i])])
    out = {"noise": float(noisiest), "bumps": {f"{t:g}": n for t, n in bumps.items()}, "slope": None, "lo": None,
           "hi": None, "predicted": None if not k_hat else -1 / k_hat}
    if len(bumps) < min_steps or len(set(bumps.values())) < 2:
        out.update(verdict=INCONCLUSIVE, reason=f"{len(bumps)} logged steps show a model-wise bump"
                   + ("" if len(bumps) < min_steps else ", all at one size") + f"; {min_steps} steps at two sizes are needed")
        return out
    fit = stats.linregress(np.log10(list(bumps)), np.log10(list(bumps.values())))
    half = stats.t.ppf(0.5 + level / 2, len(bumps) - 2) * fit.stderr
    out.update(slope=float(fit.slope), lo=float(fit.slope - half), hi=float(fit.slope + half))
    if not k_hat:
        out.update(verdict=INCONCLUSIVE, reason="no trade-off exponent to compare with")
    elif out["lo"] <= 0 <= out["hi"]:
        out.update(verdict=INCONCLUSIVE, reason=f"the slope of log N* on log t has the interval [{out['lo']:.3g}, {out['hi']:.3g}], which holds 0")
    elif out["lo"] <= -1 / k_hat <= out["hi"]:
        out.update(verdict=SUPPORTED, reason=f"the slope's interval [{out['lo']:.3g}, {out['hi']:.3g}] holds -1/k = {-1 / k_hat:.3g}")
    else:
        out.update(verdict=REFUTED, reason=f"the slope's interval [{out['lo']:.3g}, {out['hi']:.3g}] excludes -1/k = {-1 / k_hat:.3g}")
    return out


def analyse_unified_law(long: pd.DataFrame, primary_arm: str, n_train: int, k_hat: float | None,
                        level: float = 0.95, min_sizes: int = 3) -> dict:
    """Every claim's numbers and verdict from the primary arm's runs (JSON-ready)."""
    df = long[long["arm"] == primary_arm]
    final = _final_errors(df)
    return {"noise_sensitivity": noise_sensitivity(final, level, min_sizes),
            "data_requirement": data_requirement(final, n_train),
            "double_descent": peak_scaling(df, k_hat, level, min_sizes),
            "modelwise_bump": modelwise_bump(df, k_hat, level), "level": level}


def _none(x):
    return None if x is None or not np.isfinite(x) else float(x)


UNIFIED_COLUMNS = ["panel", "series", "n_params", "value"]


def unified_table(long: pd.DataFrame, primary_arm: str, numbers: dict, n_times: int = 4) -> pd.DataFrame:
    """The figure's points, one row each: panel "peak" (t_peak against N), "error_at_t" (the clean
    whole-set error against N at a few log-spaced steps every size logged: the model-wise curve at
    fixed time), "noise_gap" (E(noise) − E(clean) against N, per noise level) and "min_data" (the
    smallest training set that reaches the threshold, against N)."""
    rows = []
    for n, t in (numbers["double_descent"]["peaks"] or {}).items():
        if t is not None:
            rows.append(("peak", f"noise {numbers['double_descent']['noise']:g}", float(n), t))
    df = long[(long["arm"] == primary_arm) & (long["data_size"] == 0) & (long["noise"] == 0) & (long["step"] > 0)]
    means = df.groupby(["n_params", "step"])["test_error"].mean().unstack("n_params").dropna()
    if len(means):
        picks = np.unique(np.geomspace(1, len(means), min(n_times, len(means))).round().astype(int) - 1)
        for step in means.index[picks]:
            rows += [("error_at_t", f"t = {int(step)}", float(n), float(e)) for n, e in means.loc[step].items()]
    for f, level in numbers["noise_sensitivity"]["levels"].items():
        rows += [("noise_gap", f"noise {f}", float(n), d) for n, d in zip(level["n_params"], level["delta"])]
    dr = numbers["data_requirement"]
    rows += [("min_data", "threshold", float(n), float(d)) for n, d in zip(dr["n_params"], dr["min_data"]) if d is not None]
    return pd.DataFrame(rows, columns=UNIFIED_COLUMNS)

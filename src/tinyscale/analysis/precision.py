"""Statistics of the parameters-vs-precision study (PROTOCOL §5.2).

At equal weight-storage budgets B, ScaleCNN models at weight bit-widths b ∈ {32, 8, 4, 2}
(each at the width whose storage is closest to B) are fine-tuned with QAT over a few seeds, in
two arms (primary W_b A8, secondary W_b A_b). This module turns their runs table into

- a per-budget table (width, storage, MACs, peak activations, error mean ± population std),
- paired-seed differences err(b) − err(reference) with t-intervals,
- the winner b* per budget,
- capacity per bit κ(b) = N_eq/N_b from the fp32 power law err = C·N^−α,
- the pre-registered verdict, and
- Pareto fronts (error against storage or MACs) for the figure.

Input: one row per run with columns
[budget, budget_bits, bits, act_bits, arm, width, seed, params, storage_bits, macs,
 peak_act_bytes, error]; `budget` is an id (e.g. the reference width 4, 8, 16, 32).

The verdict's cut-offs come from a `rule` dict that the config holds (never constants here):

    reference_bits  int        the bit-width the claim is about (2)
    compared_bits   list[int]  bit-widths the reference must beat significantly at every
                               budget: err(b) − err(ref) > 0 with the interval excluding 0 ([32, 8])
    tie_bits        list[int]  bit-widths whose tie with the reference (interval of
                               err(b) − err(ref) contains 0) counts as "2-bit not worse" ([4])
    fail_bits       list[int]  bit-widths whose significant win (interval of err(b) − err(ref)
                               entirely below 0) at any budget fails the claim ([4, 8])
    level           float      two-sided confidence level of the t-intervals (0.95)

Results are returned (DataFrames, JSON-ready dicts with NaN → None), never printed.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

RUN_COLUMNS = ["budget", "budget_bits", "bits", "act_bits", "arm", "width", "seed", "params",
               "storage_bits", "macs", "peak_act_bytes", "error"]
RULE_KEYS = ["reference_bits", "compared_bits", "tie_bits", "fail_bits", "level"]

BUDGET_COLUMNS = ["arm", "budget", "budget_bits", "bits", "act_bits", "width", "params", "storage_bits",
                  "storage_ratio", "macs", "peak_act_bytes", "error_mean", "error_std", "n_seeds"]
DIFF_COLUMNS = ["arm", "budget", "bits", "reference_bits", "seeds", "differences", "n", "mean", "std",
                "level", "lo", "hi", "note"]
WINNER_COLUMNS = ["arm", "budget", "bits", "error_mean"]
KAPPA_COLUMNS = ["arm", "budget", "bits", "params", "error_mean", "n_eq", "kappa", "kappa_per_bit",
                 "extrapolated"]
CHECK_COLUMNS = ["arm", "budget", "reference_bits", "reference_kappa_per_bit", "best_other_bits",
                 "best_other_kappa_per_bit", "reference_optimal"]

# Per-budget outcomes and the overall verdicts they add up to.
HOLDS, NOT_WORSE, FAILS, INCONCLUSIVE = "holds", "not worse", "fails", "inconclusive"
VERDICT_HOLDS, VERDICT_NOT_WORSE = "claim holds", "2-bit not worse"
VERDICT_FAILS, VERDICT_INCONCLUSIVE = "claim fails", "inconclusive"


# --------------------------------------------------------------------------- helpers

def _require(runs: pd.DataFrame, columns: list[str]) -> None:
    missing = [c for c in columns if c not in runs.columns]
    if missing:
        raise ValueError(f"runs table lacks column(s) {missing}; expected {RUN_COLUMNS}")


def _check_rule(rule: dict) -> None:
    missing = [k for k in RULE_KEYS if k not in rule]
    if missing:
        raise KeyError(f"precision rule lacks key(s) {missing}; expected {RULE_KEYS}")
    if not 0 < float(rule["level"]) < 1:
        raise ValueError(f"precision rule 'level' must lie in (0, 1), got {rule['level']!r}")


def _single(values: pd.Series, what: str, key) -> object:
    """The one value a group must share (a model's size does not change with the seed)."""
    uniq = pd.unique(values)
    if len(uniq) != 1:
        raise ValueError(f"{what} differs within {key}: {list(uniq)}")
    return uniq[0]


def _no_duplicate_seeds(runs: pd.DataFrame) -> None:
    # A seed counted twice would silently weight the mean and break the pairing.
    dup = runs.duplicated(["arm", "budget", "bits", "seed"], keep=False)
    if dup.any():
        first = runs.loc[dup, ["arm", "budget", "bits", "seed"]].iloc[0].tolist()
        raise ValueError(f"more than one run for (arm, budget, bits, seed) = {first}")


def _seed_means(runs: pd.DataFrame) -> pd.DataFrame:
    """Seed-mean error per (arm, budget, bits), with the parameter count."""
    g = runs.groupby(["arm", "budget", "bits"], sort=True)
    return g.agg(error_mean=("error", "mean"), params=("params", "first")).reset_index()


def _none_if_nan(x):
    if x is None:
        return None
    x = float(x)
    return None if math.isnan(x) or math.isinf(x) else x


def _clean(obj):
    """JSON-ready: numpy scalars to Python, NaN/inf to None."""
    if isinstance(obj, dict):
        return {_key(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, np.ndarray)):
        return [_clean(v) for v in obj]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return _none_if_nan(obj)
    if obj is pd.NA:
        return None
    return obj


def _key(k) -> str:
    """JSON object key: 4.0 and 4 both become "4" (budgets and bits are ids)."""
    if isinstance(k, (float, np.floating)) and float(k).is_integer():
        return str(int(k))
    if isinstance(k, (np.integer,)):
        return str(int(k))
    return str(k)


# --------------------------------------------------------------------------- tables

def budget_table(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per (arm, budget, bits): the model's size and cost, error mean and population std."""
    _require(runs, RUN_COLUMNS)
    _no_duplicate_seeds(runs)
    rows = []
    for key, g in runs.groupby(["arm", "budget", "bits"], sort=True):
        arm, budget, bits = key
        row = {"arm": arm, "budget": budget, "bits": bits}
        for col in ["budget_bits", "act_bits", "width", "params", "storage_bits", "macs", "peak_act_bytes"]:
            row[col] = _single(g[col], col, key)
        row["storage_ratio"] = float(row["storage_bits"]) / float(row["budget_bits"])
        err = g["error"].to_numpy(dtype=np.float64)
        row["error_mean"] = float(err.mean())
        row["error_std"] = float(err.std(ddof=0))  # population std over seeds, as in §3
        row["n_seeds"] = int(len(err))
        rows.append(row)
    return pd.DataFrame(rows, columns=BUDGET_COLUMNS)


def t_interval(values, level: float) -> tuple[float, float, float, float, int]:
    """(mean, std ddof=1, lo, hi, n) of a two-sided Student-t interval; NaN where n is too small."""
    x = np.asarray(values, dtype=np.float64)
    n = int(len(x))
    if n == 0:
        return math.nan, math.nan, math.nan, math.nan, 0
    mean = float(x.mean())
    if n < 2:
        return mean, math.nan, math.nan, math.nan, n
    sd = float(x.std(ddof=1))
    half = float(stats.t.ppf((1 + level) / 2, n - 1)) * sd / math.sqrt(n)
    return mean, sd, mean - half, mean + half, n


def paired_differences(runs: pd.DataFrame, reference_bits: int = 2, level: float = 0.95) -> pd.DataFrame:
    """Per (arm, budget, b ≠ reference): paired-seed err(b) − err(reference) with a t-interval.

    Seeds pair by id; only seeds present at both bit-widths count. With n < 2 the interval is
    NaN and `note` says why.
    """
    _require(runs, ["arm", "budget", "bits", "seed", "error"])
    _no_duplicate_seeds(runs)
    rows = []
    for (arm, budget), g in runs.groupby(["arm", "budget"], sort=True):
        by_seed = g.pivot(index="seed", columns="bits", values="error")
        ref = by_seed[reference_bits] if reference_bits in by_seed.columns else None
        for bits in sorted(b for b in by_seed.columns if b != reference_bits):
            if ref is None:
                pair = pd.Series(dtype=np.float64)
            else:
                pair = (by_seed[bits] - ref).dropna()  # pairs only where both seeds ran
            mean, sd, lo, hi, n = t_interval(pair.to_numpy(), level)
            if ref is None:
                note = f"no {reference_bits}-bit runs at this budget"
            elif n == 0:
                note = "no seed present at both bit-widths"
            elif n < 2:
                note = "n < 2: no interval"
            else:
                note = ""
            rows.append({"arm": arm, "budget": budget, "bits": bits, "reference_bits": reference_bits,
                         "seeds": tuple(pair.index.tolist()), "differences": tuple(float(v) for v in pair),
                         "n": n, "mean": mean, "std": sd, "level": level, "lo": lo, "hi": hi, "note": note})
    return pd.DataFrame(rows, columns=DIFF_COLUMNS)


def winners(runs: pd.DataFrame) -> pd.DataFrame:
    """Per (arm, budget): b* = argmin over bit-widths of the seed-mean error.

    An exact tie goes to the lowest bit-width (rows are sorted by bits before the argmin).
    """
    _require(runs, ["arm", "budget", "bits", "error", "params"])
    means = _seed_means(runs)
    rows = []
    for (arm, budget), g in means.groupby(["arm", "budget"], sort=True):
        g = g.sort_values("bits", kind="stable")
        best = g.iloc[int(np.argmin(g["error_mean"].to_numpy()))]
        rows.append({"arm": arm, "budget": budget, "bits": best["bits"], "error_mean": float(best["error_mean"])})
    return pd.DataFrame(rows, columns=WINNER_COLUMNS)


def equivalent_params(error, coef: float, alpha: float) -> np.ndarray:
    """N_eq: the fp32 size whose power-law error equals `error` (err = C·N^−α ⇒ N = (err/C)^(−1/α))."""
    if not (coef > 0 and alpha > 0):
        raise ValueError(f"the fp32 law needs C > 0 and α > 0 to invert, got C={coef}, α={alpha}")
    e = np.asarray(error, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        n_eq = (e / coef) ** (-1.0 / alpha)
    return np.where(e > 0, n_eq, np.nan)  # a zero error has no finite equivalent


def capacity_per_bit(runs: pd.DataFrame, coef: float, alpha: float, reference_bits: int = 2,
                     fit_range: tuple[float, float] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """κ(b) = N_eq/N_b on seed-mean errors, κ(b)/b, and the check "κ(ref)/ref ≥ κ(b)/b for all b".

    Returns (kappa, check): `kappa` per (arm, budget, bits); `check` per (arm, budget) with
    `reference_optimal` (None when the reference or every other bit-width is missing).
    `fit_range` = (smallest, largest) N of the fp32 sweep marks N_eq outside it as
    `extrapolated` (None when not given), since a collapsed model lands far below the sweep.
    """
    _require(runs, ["arm", "budget", "bits", "error", "params"])
    means = _seed_means(runs)
    n_eq = equivalent_params(means["error_mean"], coef, alpha)
    kappa = n_eq / means["params"].to_numpy(dtype=np.float64)
    table = means.assign(n_eq=n_eq, kappa=kappa,
                         kappa_per_bit=kappa / means["bits"].to_numpy(dtype=np.float64))
    if fit_range is None:
        table["extrapolated"] = None
    else:
        lo, hi = fit_range
        table["extrapolated"] = [bool(not (lo <= v <= hi)) if np.isfinite(v) else None for v in n_eq]
    table = table[KAPPA_COLUMNS]

    rows = []
    for (arm, budget), g in table.groupby(["arm", "budget"], sort=True):
        ref = g.loc[g["bits"] == reference_bits, "kappa_per_bit"]
        others = g.loc[g["bits"] != reference_bits].dropna(subset=["kappa_per_bit"])
        row = {"arm": arm, "budget": budget, "reference_bits": reference_bits,
               "reference_kappa_per_bit": float(ref.iloc[0]) if len(ref) else math.nan,
               "best_other_bits": None, "best_other_kappa_per_bit": math.nan, "reference_optimal": None}
        if len(others):
            best = others.loc[others["kappa_per_bit"].idxmax()]
            row["best_other_bits"] = best["bits"]
            row["best_other_kappa_per_bit"] = float(best["kappa_per_bit"])
            if np.isfinite(row["reference_kappa_per_bit"]):
                # ≥ against the best other is ≥ against all others
                row["reference_optimal"] = bool(row["reference_kappa_per_bit"] >= row["best_other_kappa_per_bit"])
        rows.append(row)
    return table.reset_index(drop=True), pd.DataFrame(rows, columns=CHECK_COLUMNS)


def pareto_front(points, x: str = "storage_bits", y: str = "error_mean") -> pd.DataFrame:
    """Lower envelope of (x, y) points: the non-dominated ones, sorted by x.

    A point is dominated when another has x ≤ and y ≤ with one of them strict; of exact
    duplicates one is kept. `points` is a DataFrame (other columns are kept) or an (n, 2) array.
    """
    if not isinstance(points, pd.DataFrame):
        points = pd.DataFrame(np.asarray(points, dtype=np.float64).reshape(-1, 2), columns=[x, y])
    pts = points.dropna(subset=[x, y]).sort_values([x, y], kind="stable")
    keep, best = [], math.inf
    for idx, v in zip(pts.index, pts[y].to_numpy(dtype=np.float64)):
        # sorted by x then y: a point survives only if it improves on everything cheaper
        if v < best:
            keep.append(idx)
            best = v
    return pts.loc[keep].reset_index(drop=True)


def mark_fronts(budgets: pd.DataFrame, axes: tuple[str, ...] = ("storage_bits", "macs")) -> pd.DataFrame:
    """The budget table with `on_front_<axis>` flags: the per-arm lower envelope of error vs each axis."""
    out = budgets.copy()
    for axis in axes:
        flag = pd.Series(False, index=out.index)
        for _, g in out.groupby("arm", sort=True):
            front = pareto_front(g.reset_index(names="_row"), x=axis, y="error_mean")
            flag.loc[front["_row"].to_numpy()] = True
        out[f"on_front_{axis}"] = flag
    return out


# --------------------------------------------------------------------------- verdict

def _interval_text(d: pd.Series, ref: int) -> str:
    return f"err({d['bits']}) − err({ref}) = {d['mean']:.4g} [{d['lo']:.4g}, {d['hi']:.4g}]"


def _budget_outcome(diffs: pd.DataFrame, winner: int | None, rule: dict) -> tuple[str, list[str]]:
    """One budget's outcome (holds / not worse / fails / inconclusive) and the reasons for it."""
    ref = rule["reference_bits"]
    by_bits = {d["bits"]: d for _, d in diffs.iterrows()}

    def has_interval(b):
        return b in by_bits and np.isfinite(by_bits[b]["lo"]) and np.isfinite(by_bits[b]["hi"])

    reasons = []
    # Fails: a challenger's whole interval lies below 0 (it has significantly lower error).
    fails = [b for b in rule["fail_bits"] if has_interval(b) and by_bits[b]["hi"] < 0]
    for b in fails:
        reasons.append(f"{b}-bit wins significantly: {_interval_text(by_bits[b], ref)}")
    if fails:
        return FAILS, reasons

    # Must-beat bit-widths: mean > 0 and the interval excludes 0, i.e. lo > 0.
    compared_ok = True
    for b in rule["compared_bits"]:
        if b not in by_bits:
            compared_ok = False
            reasons.append(f"no paired {b}-bit runs")
        elif not has_interval(b):
            compared_ok = False
            reasons.append(f"no interval for err({b}) − err({ref}): {by_bits[b]['note'] or 'NaN'}")
        elif not by_bits[b]["lo"] > 0:
            compared_ok = False
            reasons.append(f"{ref}-bit not significantly better than {b}-bit: {_interval_text(by_bits[b], ref)}")

    if winner is None:
        reasons.append("no winner (no runs)")
        return INCONCLUSIVE, reasons
    if winner == ref:
        winner_state = HOLDS
    elif winner in rule["tie_bits"] and has_interval(winner) and by_bits[winner]["lo"] <= 0 <= by_bits[winner]["hi"]:
        # A tie: the winner's interval of err(b) − err(ref) contains 0.
        winner_state = NOT_WORSE
        reasons.append(f"b* = {winner}, tied with {ref}-bit: {_interval_text(by_bits[winner], ref)}")
    else:
        winner_state = INCONCLUSIVE
        reasons.append(f"b* = {winner}, neither {ref} nor a tie with it")

    if compared_ok and winner_state == HOLDS:
        reasons.append(f"b* = {ref} and it beats {list(rule['compared_bits'])}-bit significantly")
        return HOLDS, reasons
    if compared_ok and winner_state == NOT_WORSE:
        return NOT_WORSE, reasons
    return INCONCLUSIVE, reasons


def verdict(differences: pd.DataFrame, winners: pd.DataFrame, rule: dict) -> dict:
    """The pre-registered verdict for ONE arm (PROTOCOL §5.2).

    Per budget:
      fails        some b ∈ fail_bits wins significantly (interval of err(b) − err(ref) < 0);
      holds        b* = ref, and every b ∈ compared_bits has err(b) − err(ref) > 0 with its
                   interval excluding 0 (lo > 0);
      not worse    as holds, except b* ∈ tie_bits with its interval containing 0 (a tie);
      inconclusive otherwise (including missing runs or n < 2).
    Overall: 'claim fails' if any budget fails; 'claim holds' if every budget holds;
    '2-bit not worse' if every budget holds or is not worse; 'inconclusive' otherwise (also
    when there are no budgets).
    Returns {'verdict', 'budgets': {budget: outcome}, 'reasons': {budget: [str]}}.
    """
    _check_rule(rule)
    for name, table in (("differences", differences), ("winners", winners)):
        if "arm" in table.columns and table["arm"].nunique() > 1:
            raise ValueError(f"verdict takes one arm; {name} holds {sorted(table['arm'].unique())}")
    if len(differences):
        # The intervals must be the pre-registered ones, not ones computed at another level.
        if not np.allclose(differences["level"].astype(float), float(rule["level"])):
            raise ValueError(f"differences were computed at level {sorted(differences['level'].unique())}, "
                             f"the rule says {rule['level']}")
        if not (differences["reference_bits"] == rule["reference_bits"]).all():
            raise ValueError("differences use another reference bit-width than the rule")

    budgets = sorted(set(differences["budget"]) | set(winners["budget"]))
    outcomes, reasons = {}, {}
    for budget in budgets:
        w = winners.loc[winners["budget"] == budget, "bits"]
        winner = w.iloc[0] if len(w) else None
        outcomes[budget], reasons[budget] = _budget_outcome(
            differences.loc[differences["budget"] == budget], winner, rule)

    states = set(outcomes.values())
    if FAILS in states:
        overall = VERDICT_FAILS
    elif budgets and states == {HOLDS}:
        overall = VERDICT_HOLDS
    elif budgets and states <= {HOLDS, NOT_WORSE}:
        overall = VERDICT_NOT_WORSE
    else:
        overall = VERDICT_INCONCLUSIVE
    return _clean({"verdict": overall, "budgets": outcomes, "reasons": reasons})


# --------------------------------------------------------------------------- the study

def _arm_numbers(arm, diffs, wins, kappa, check, rule, capacity_skipped) -> dict:
    d = diffs[diffs["arm"] == arm]
    w = wins[wins["arm"] == arm]
    out = {
        "winners": {b: {"bits": r["bits"], "error": r["error_mean"]} for b, r in w.set_index("budget").iterrows()},
        "differences": {},
        "verdict": verdict(d, w, rule),
        "capacity": None, "capacity_skipped": capacity_skipped,
    }
    for budget, g in d.groupby("budget", sort=True):
        out["differences"][budget] = {
            r["bits"]: {"mean": r["mean"], "std": r["std"], "n": r["n"], "lo": r["lo"], "hi": r["hi"],
                        "note": r["note"] or None, "seeds": list(r["seeds"])}
            for _, r in g.iterrows()}
    if kappa is not None:
        k, c = kappa[kappa["arm"] == arm], check[check["arm"] == arm]
        per_budget = {}
        for budget, g in k.groupby("budget", sort=True):
            per_budget[budget] = {r["bits"]: {"n_eq": r["n_eq"], "kappa": r["kappa"], "kappa_per_bit": r["kappa_per_bit"],
                                              "extrapolated": r["extrapolated"]} for _, r in g.iterrows()}
        flags = c.set_index("budget")["reference_optimal"]
        known = [f for f in flags if f is not None]
        out["capacity"] = {
            "kappa": per_budget,
            "reference_optimal": {b: f for b, f in flags.items()},
            # overall only when every budget could be checked
            "reference_optimal_all": (all(known) if len(known) == len(flags) and known else None),
        }
    return out


def analyse_precision(runs: pd.DataFrame, coef: float | None, alpha: float | None, rule: dict,
                      fit_range: tuple[float, float] | None = None) -> tuple[dict[str, pd.DataFrame], dict]:
    """All §5.2 statistics: tables {budgets, differences, winners, kappa, kappa_check} and numbers.

    numbers = {'skipped': reason or None, 'reference_bits', 'level', 'arms': {arm: {...}}}.
    Without runs everything is skipped. Without the fp32 law (coef or alpha None, or not
    invertible) only the capacity part is skipped, per arm, with `capacity_skipped` saying why;
    winners, differences and the verdict do not need the law.
    """
    _check_rule(rule)
    ref, level = rule["reference_bits"], float(rule["level"])
    base = {"skipped": None, "reference_bits": ref, "level": level, "arms": {}}
    if runs is None or len(runs) == 0:
        empty = {"budgets": pd.DataFrame(columns=BUDGET_COLUMNS), "differences": pd.DataFrame(columns=DIFF_COLUMNS),
                 "winners": pd.DataFrame(columns=WINNER_COLUMNS), "kappa": pd.DataFrame(columns=KAPPA_COLUMNS),
                 "kappa_check": pd.DataFrame(columns=CHECK_COLUMNS)}
        return empty, _clean({**base, "skipped": "no precision runs"})

    budgets = mark_fronts(budget_table(runs))
    diffs = paired_differences(runs, ref, level)
    wins = winners(runs)
    kappa = check = None
    capacity_skipped = None
    if coef is None or alpha is None:
        capacity_skipped = "no fp32 power law (coef/alpha missing)"
    elif not (coef > 0 and alpha > 0):
        capacity_skipped = f"fp32 power law not invertible (C={coef}, α={alpha})"
    else:
        kappa, check = capacity_per_bit(runs, coef, alpha, ref, fit_range)

    tables = {"budgets": budgets, "differences": diffs, "winners": wins,
              "kappa": kappa if kappa is not None else pd.DataFrame(columns=KAPPA_COLUMNS),
              "kappa_check": check if check is not None else pd.DataFrame(columns=CHECK_COLUMNS)}
    arms = {arm: _arm_numbers(arm, diffs, wins, kappa, check, rule, capacity_skipped)
            for arm in sorted(runs["arm"].unique())}
    return tables, _clean({**base, "arms": arms})


# ---------------------------------------------------------------------------------------------
# The runs table, from the fine-tuned runs' prediction files and records


def runs_table(models: list[dict], predictions: list[dict], records: list[dict], costs, metric) -> pd.DataFrame:
    """One row per (fine-tuned run, arm it belongs to): budget, bits, width, seed, parameters,
    storage, MACs and peak activations (`costs(width, act_bits)` → dict, computed once per model)
    and `error`, the task's metric of its predictions (`metric(pred)`: top-1 error, or bits per byte)."""
    rows, costs_of = [], {}
    for model, pred, record in zip(models, predictions, records):
        key = (model["width"], model["act_bits"])
        if key not in costs_of:
            costs_of[key] = costs(*key)
        for arm in model["arms"]:
            rows.append({"budget": model["budget"], "budget_bits": model["budget_bits"], "bits": model["bits"],
                         "act_bits": model["act_bits"], "arm": arm, "width": model["width"], "seed": record["seed"],
                         "params": record["num_params"], "storage_bits": model["storage_bits"], **costs_of[key],
                         "error": metric(pred), "run_id": record["run_id"]})
    return pd.DataFrame(rows)


def own_fp32_law(starts: pd.DataFrame) -> tuple[float | None, float | None, str | None]:
    """(C, α, why not) of the power law error = C·N^−α fitted on an arm's own fp32 models (columns
    params, seed, error: seed means per size), for κ on a task without a width sweep."""
    from .scaling import fit_power_law

    means = starts.groupby("params", sort=True)["error"].mean()
    if len(means) < 2:
        return None, None, f"its fp32 models have {len(means)} size(s); a power law needs two"
    try:
        fit = fit_power_law(means.index.to_numpy(), means.to_numpy())
    except ValueError as exc:
        return None, None, str(exc)
    return fit.coef, fit.alpha, None


def across_tasks(arms: dict[str, dict]) -> dict:
    """The claim across tasks from each arm's primary verdict ({key: {task, verdict}}): within a task
    its arms (architectures) combine, and across tasks the tasks combine, by the per-arm rule over
    budgets: it fails if it fails in any; it holds "regardless of task" only if it holds in every
    one; 2-bit is not worse if each holds or is not worse; inconclusive otherwise."""
    def combine(verdicts: list) -> str:
        states = set(verdicts)
        if VERDICT_FAILS in states:
            return VERDICT_FAILS
        if verdicts and states == {VERDICT_HOLDS}:
            return VERDICT_HOLDS
        if verdicts and states <= {VERDICT_HOLDS, VERDICT_NOT_WORSE}:
            return VERDICT_NOT_WORSE
        return VERDICT_INCONCLUSIVE

    by_task: dict[str, list] = {}
    for a in arms.values():
        by_task.setdefault(a["task"], []).append(a["verdict"])
    per_task = {task: combine(vs) for task, vs in by_task.items()}
    return {"per_task": per_task, "verdict": combine(list(per_task.values())), "n_tasks": len(per_task)}

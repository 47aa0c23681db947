"""Tests of the parameters-vs-precision statistics on hand-made runs with hand-computed values."""

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tinyscale.analysis.precision import (
    analyse_precision,
    budget_table,
    capacity_per_bit,
    equivalent_params,
    mark_fronts,
    paired_differences,
    pareto_front,
    t_interval,
    verdict,
    winners,
)

# t_{0.975, 2}: the two-sided 95 % quantile with 2 degrees of freedom (tables: 4.30265272975).
T975_2 = 4.302652729749464
# The half-width of a 95 % interval of [0.01, 0.02, 0.03]: sd 0.01, n 3.
HALF = T975_2 * 0.01 / math.sqrt(3)  # 0.0248413771...

RULE = {"reference_bits": 2, "compared_bits": [32, 8], "tie_bits": [4], "fail_bits": [4, 8], "level": 0.95}
BASE = [0.40, 0.41, 0.42]  # 2-bit error of seeds 0, 1, 2
SIG_WORSE = [0.05, 0.06, 0.07]  # mean 0.06, sd 0.01: lo = 0.06 − HALF > 0
SMALL_WORSE = [0.01, 0.02, 0.03]  # mean 0.02: lo = 0.02 − HALF < 0 < hi
SMALL_BETTER = [-0.03, -0.02, -0.01]  # mean −0.02: interval contains 0
SIG_BETTER = [-0.07, -0.06, -0.05]  # hi = −0.06 + HALF < 0


def make_runs(spec: dict, arm: str = "a8") -> pd.DataFrame:
    """spec: {(budget, bits): [error per seed 0, 1, …]} → a full runs table.

    Sizes follow storage ≈ budget: params = budget_bits / bits, so storage/budget = 1 exactly.
    """
    rows = []
    for (budget, bits), errors in spec.items():
        budget_bits = 32 * 1000 * budget
        params = budget_bits // bits
        for seed, err in enumerate(errors):
            if err is None:
                continue
            rows.append({"budget": budget, "budget_bits": budget_bits, "bits": bits,
                         "act_bits": 8 if arm == "a8" else bits, "arm": arm,
                         "width": int(budget * math.sqrt(32 / bits)), "seed": seed, "params": params,
                         "storage_bits": params * bits, "macs": 10 * params, "peak_act_bytes": 100 * budget,
                         "error": err})
    return pd.DataFrame(rows)


def scenario(deltas: dict) -> pd.DataFrame:
    """Budgets 4 and 8; deltas: {(budget, bits): per-seed err(b) − err(2)} on top of BASE."""
    spec = {}
    for budget in (4, 8):
        spec[(budget, 2)] = BASE
        for bits in (32, 8, 4):
            d = deltas.get((budget, bits), SIG_WORSE)
            spec[(budget, bits)] = [e + x for e, x in zip(BASE, d)]
    return make_runs(spec)


def run_verdict(runs, rule=RULE):
    return verdict(paired_differences(runs, rule["reference_bits"], rule["level"]), winners(runs), rule)


# --------------------------------------------------------------------------- t-interval

def test_t_interval_by_hand():
    mean, sd, lo, hi, n = t_interval([0.01, 0.02, 0.03], 0.95)
    assert n == 3
    assert mean == pytest.approx(0.02)
    assert sd == pytest.approx(0.01)
    assert HALF == pytest.approx(0.0248413771, abs=1e-10)
    assert lo == pytest.approx(0.02 - HALF, rel=1e-9)
    assert hi == pytest.approx(0.02 + HALF, rel=1e-9)


def test_t_interval_other_level_uses_that_quantile():
    # t_{0.95, 2} = 2.919985580353724 for a 90 % interval
    _, _, lo, hi, _ = t_interval([0.01, 0.02, 0.03], 0.90)
    assert hi - 0.02 == pytest.approx(2.919985580353724 * 0.01 / math.sqrt(3), rel=1e-9)


def test_t_interval_small_n():
    mean, sd, lo, hi, n = t_interval([0.5], 0.95)
    assert (mean, n) == (0.5, 1) and math.isnan(sd) and math.isnan(lo) and math.isnan(hi)
    mean, _, lo, _, n = t_interval([], 0.95)
    assert n == 0 and math.isnan(mean) and math.isnan(lo)


# --------------------------------------------------------------------------- tables

def test_budget_table_values():
    runs = make_runs({(4, 32): [0.5, 0.6], (4, 2): [0.2, 0.3, 0.4]})
    runs.loc[runs["bits"] == 2, "storage_bits"] = 130_560  # 2 % over the 128,000-bit budget
    t = budget_table(runs).set_index("bits")
    assert list(t.index) == [2, 32]
    assert t.loc[2, "error_mean"] == pytest.approx(0.3)
    assert t.loc[2, "error_std"] == pytest.approx(math.sqrt(0.02 / 3))  # population std (ddof=0)
    assert t.loc[32, "error_std"] == pytest.approx(0.05)
    assert t.loc[2, "n_seeds"] == 3 and t.loc[32, "n_seeds"] == 2
    assert t.loc[2, "storage_ratio"] == pytest.approx(1.02)
    assert t.loc[32, "storage_ratio"] == pytest.approx(1.0)
    assert t.loc[2, "params"] == 64_000 and t.loc[2, "width"] == 16 and t.loc[2, "act_bits"] == 8
    assert t.loc[2, "macs"] == 640_000 and t.loc[2, "peak_act_bytes"] == 400


def test_budget_table_rejects_inconsistent_models_and_duplicate_seeds():
    runs = make_runs({(4, 2): [0.2, 0.3]})
    bad = runs.copy()
    bad.loc[1, "width"] = 99
    with pytest.raises(ValueError, match="width"):
        budget_table(bad)
    with pytest.raises(ValueError, match="more than one run"):
        budget_table(pd.concat([runs, runs.iloc[[0]]]))


def test_paired_differences_by_hand():
    runs = scenario({(4, 32): SMALL_WORSE})
    d = paired_differences(runs, 2, 0.95).set_index(["budget", "bits"])
    assert 2 not in d.index.get_level_values("bits")
    r = d.loc[(4, 32)]
    assert r["n"] == 3 and r["seeds"] == (0, 1, 2)
    assert r["differences"] == pytest.approx((0.01, 0.02, 0.03))
    assert r["mean"] == pytest.approx(0.02) and r["std"] == pytest.approx(0.01)
    assert r["lo"] == pytest.approx(0.02 - HALF, rel=1e-9) and r["hi"] == pytest.approx(0.02 + HALF, rel=1e-9)
    assert r["note"] == ""
    assert d.loc[(8, 8), "mean"] == pytest.approx(0.06)


def test_paired_differences_pairs_by_seed():
    # 2-bit has seeds 0, 1, 2; 4-bit only seeds 1 and 2 → pairs on {1, 2}, not position-wise.
    runs = make_runs({(4, 2): [0.40, 0.41, 0.42], (4, 4): [None, 0.45, 0.43]})
    r = paired_differences(runs).iloc[0]
    assert r["seeds"] == (1, 2) and r["n"] == 2
    assert r["differences"] == pytest.approx((0.04, 0.01))
    assert r["std"] == pytest.approx(math.sqrt(0.00045))  # ddof=1 of [0.04, 0.01]
    half = 12.706204736174698 * math.sqrt(0.00045) / math.sqrt(2)  # t_{0.975, 1}
    assert r["hi"] - r["mean"] == pytest.approx(half, rel=1e-9)


def test_paired_differences_n_below_two():
    runs = make_runs({(4, 2): [0.40, 0.41, 0.42], (4, 4): [0.45, None, None], (4, 8): [None, None, None]})
    runs = pd.concat([runs, make_runs({(8, 4): [0.3]})])  # a budget without 2-bit runs
    d = paired_differences(runs).set_index(["budget", "bits"])
    one = d.loc[(4, 4)]
    assert one["n"] == 1 and one["mean"] == pytest.approx(0.05)
    assert math.isnan(one["std"]) and math.isnan(one["lo"]) and math.isnan(one["hi"])
    assert "n < 2" in one["note"]
    assert d.loc[(8, 4), "n"] == 0 and "no 2-bit runs" in d.loc[(8, 4), "note"]


def test_winners_argmin_of_seed_means():
    # 4-bit has the lowest single run (0.30) but not the lowest mean (0.45 vs 0.41)
    runs = make_runs({(4, 32): [0.50, 0.52], (4, 4): [0.30, 0.60], (4, 2): [0.40, 0.42],
                      (8, 32): [0.30, 0.32], (8, 4): [0.35, 0.35], (8, 2): [0.36, 0.36]})
    w = winners(runs).set_index("budget")
    assert w.loc[4, "bits"] == 2 and w.loc[4, "error_mean"] == pytest.approx(0.41)
    assert w.loc[8, "bits"] == 32 and w.loc[8, "error_mean"] == pytest.approx(0.31)


# --------------------------------------------------------------------------- capacity per bit

def kappa_runs():
    # budget 640,000 bits: 32-bit N = 20,000; 4-bit N = 160,000; 2-bit N = 320,000
    rows = []
    for budget, errs in {20: {32: [0.5, 0.5], 4: [0.35, 0.45], 2: [0.2, 0.3]},
                         21: {32: [0.5, 0.5], 4: [0.4, 0.4], 2: [0.5, 0.5]}}.items():
        for bits, e in errs.items():
            for seed, err in enumerate(e):
                rows.append({"arm": "a8", "budget": budget, "bits": bits, "seed": seed,
                             "params": 640_000 // bits, "error": err})
    return pd.DataFrame(rows)


def test_equivalent_params_inverts_the_law():
    # C = 100, α = 0.5: N_eq = (err/100)^−2 = 10⁴/err²
    assert equivalent_params([0.5, 0.25], 100.0, 0.5) == pytest.approx([40_000, 160_000])
    n = 12345.0
    assert equivalent_params(3.0 * n ** -0.2, 3.0, 0.2) == pytest.approx(n)
    with pytest.raises(ValueError):
        equivalent_params([0.5], 1.0, 0.0)


def test_capacity_per_bit_by_hand():
    kappa, check = capacity_per_bit(kappa_runs(), 100.0, 0.5, fit_range=(20_000, 100_000))
    k = kappa.set_index(["budget", "bits"])
    # budget 20: 32-bit err 0.5 → N_eq 40,000, κ 2, κ/b 1/16; 4-bit err 0.4 → 62,500, κ 0.390625;
    # 2-bit err 0.25 → 160,000, κ 0.5, κ/b 0.25
    assert k.loc[(20, 32), "n_eq"] == pytest.approx(40_000)
    assert k.loc[(20, 32), "kappa"] == pytest.approx(2.0) and k.loc[(20, 32), "kappa_per_bit"] == pytest.approx(0.0625)
    assert k.loc[(20, 4), "kappa"] == pytest.approx(0.390625)
    assert k.loc[(20, 4), "kappa_per_bit"] == pytest.approx(0.09765625)
    assert k.loc[(20, 2), "kappa"] == pytest.approx(0.5) and k.loc[(20, 2), "kappa_per_bit"] == pytest.approx(0.25)
    assert k.loc[(20, 2), "extrapolated"] == True and k.loc[(20, 4), "extrapolated"] == False  # noqa: E712
    c = check.set_index("budget")
    assert c.loc[20, "reference_optimal"] == True  # noqa: E712
    # budget 21: 2-bit err 0.5 → κ 0.125, κ/b 0.0625 < 4-bit's 0.09765625
    assert c.loc[21, "reference_optimal"] == False  # noqa: E712
    assert c.loc[21, "best_other_bits"] == 4
    assert c.loc[21, "reference_kappa_per_bit"] == pytest.approx(0.0625)


# --------------------------------------------------------------------------- verdict

def test_verdict_holds():
    v = run_verdict(scenario({(4, 4): SMALL_WORSE}))
    assert v["verdict"] == "claim holds"
    assert v["budgets"] == {"4": "holds", "8": "holds"}


def test_verdict_not_worse_via_4bit_tie():
    # budget 8: 4-bit has the lower mean (b* = 4) but its interval contains 0
    v = run_verdict(scenario({(8, 4): SMALL_BETTER}))
    assert v["verdict"] == "2-bit not worse"
    assert v["budgets"] == {"4": "holds", "8": "not worse"}
    assert any("tied" in r for r in v["reasons"]["8"])


def test_verdict_fails_when_8bit_wins_significantly():
    v = run_verdict(scenario({(8, 8): SIG_BETTER}))
    assert v["verdict"] == "claim fails"
    assert v["budgets"]["8"] == "fails" and v["budgets"]["4"] == "holds"
    assert any("8-bit wins significantly" in r for r in v["reasons"]["8"])


def test_verdict_fails_when_4bit_wins_significantly():
    assert run_verdict(scenario({(4, 4): SIG_BETTER}))["verdict"] == "claim fails"


def test_verdict_inconclusive_when_32bit_not_significantly_worse():
    v = run_verdict(scenario({(8, 32): SMALL_WORSE}))
    assert v["verdict"] == "inconclusive"
    assert v["budgets"]["8"] == "inconclusive"
    assert any("not significantly better than 32-bit" in r for r in v["reasons"]["8"])


def test_verdict_inconclusive_when_8bit_wins_but_not_significantly():
    v = run_verdict(scenario({(4, 8): SMALL_BETTER}))
    assert v["verdict"] == "inconclusive" and v["budgets"]["4"] == "inconclusive"


def test_verdict_n_below_two_is_inconclusive():
    runs = scenario({})
    runs = runs[~((runs["budget"] == 4) & (runs["bits"] == 8) & (runs["seed"] > 0))]
    v = run_verdict(runs)
    assert v["verdict"] == "inconclusive"
    assert any("no interval" in r for r in v["reasons"]["4"])


def test_verdict_4bit_winner_without_interval_is_no_tie():
    # b* = 4 on a single seed: a tie needs an interval containing 0, and n = 1 has none
    runs = scenario({(8, 4): SMALL_BETTER})
    runs = runs[~((runs["budget"] == 8) & (runs["bits"] == 4) & (runs["seed"] > 0))]
    v = run_verdict(runs)
    assert v["budgets"]["8"] == "inconclusive" and v["verdict"] == "inconclusive"
    assert any("neither 2 nor a tie" in r for r in v["reasons"]["8"])


def test_verdict_rule_drives_the_cutoffs():
    # At 80 % the SMALL_WORSE interval (t_{0.9,2} = 1.886) excludes 0: the same runs now hold.
    runs = scenario({(8, 32): SMALL_WORSE})
    assert run_verdict(runs, {**RULE, "level": 0.80})["verdict"] == "claim holds"
    # and dropping 32 from the must-beat list also makes it hold
    assert run_verdict(runs, {**RULE, "compared_bits": [8]})["verdict"] == "claim holds"
    # a significant 4-bit win is no tie: with 4 out of fail_bits it is inconclusive, not "not worse"
    v = run_verdict(scenario({(4, 4): SIG_BETTER}), {**RULE, "fail_bits": [8]})
    assert v["budgets"]["4"] == "inconclusive" and v["verdict"] == "inconclusive"


def test_verdict_checks_rule_and_level():
    runs = scenario({})
    with pytest.raises(KeyError, match="tie_bits"):
        verdict(paired_differences(runs), winners(runs), {k: v for k, v in RULE.items() if k != "tie_bits"})
    with pytest.raises(ValueError, match="level"):
        verdict(paired_differences(runs, 2, 0.9), winners(runs), RULE)


def test_verdict_empty_is_inconclusive():
    empty = paired_differences(make_runs({}).reindex(columns=["arm", "budget", "bits", "seed", "error"]))
    assert verdict(empty, pd.DataFrame(columns=["arm", "budget", "bits", "error_mean"]), RULE)["verdict"] == "inconclusive"


# --------------------------------------------------------------------------- Pareto

def test_pareto_front_by_hand():
    pts = [(1, 0.5), (2, 0.45), (2, 0.4), (3, 0.45), (4, 0.3), (4, 0.3), (5, 0.35), (6, 0.3)]
    front = pareto_front(pts, x="s", y="e")
    assert front[["s", "e"]].to_numpy().tolist() == [[1, 0.5], [2, 0.4], [4, 0.3]]


def test_pareto_front_keeps_columns_and_drops_nan():
    df = pd.DataFrame({"storage_bits": [3, 1, 2, 4], "error_mean": [0.2, np.nan, 0.3, 0.25], "bits": [2, 32, 8, 4]})
    front = pareto_front(df)
    assert front["bits"].tolist() == [8, 2]


def test_mark_fronts_per_arm():
    t = pd.DataFrame({"arm": ["a8", "a8", "ab", "ab"], "storage_bits": [1, 2, 1, 2],
                      "macs": [5, 1, 1, 5], "error_mean": [0.5, 0.4, 0.3, 0.4]})
    m = mark_fronts(t)
    assert m["on_front_storage_bits"].tolist() == [True, True, True, False]
    assert m["on_front_macs"].tolist() == [False, True, True, False]


# --------------------------------------------------------------------------- the study

def test_analyse_precision_numbers_are_json_ready():
    runs = pd.concat([scenario({(8, 4): SMALL_BETTER}),
                      make_runs({(4, 2): [0.40, 0.41, 0.42], (4, 4): [0.45, 0.44, 0.46]}, arm="ab")])
    tables, numbers = analyse_precision(runs, 3.0, 0.2, RULE)
    json.dumps(numbers, allow_nan=False)  # no NaN, no numpy scalars
    assert set(tables) == {"budgets", "differences", "winners", "kappa", "kappa_check"}
    a8 = numbers["arms"]["a8"]
    assert numbers["skipped"] is None and numbers["level"] == 0.95
    assert a8["verdict"]["verdict"] == "2-bit not worse"
    assert a8["winners"]["8"] == {"bits": 4, "error": pytest.approx(0.39)}
    assert a8["differences"]["4"]["32"]["mean"] == pytest.approx(0.06)
    assert a8["differences"]["4"]["32"]["note"] is None
    assert a8["capacity"]["kappa"]["4"]["2"]["n_eq"] == pytest.approx((0.41 / 3.0) ** (-1 / 0.2))
    # the secondary arm has no 32/8-bit runs: its verdict cannot hold, and says why
    ab = numbers["arms"]["ab"]["verdict"]
    assert ab["verdict"] == "inconclusive" and any("no paired 32-bit" in r for r in ab["reasons"]["4"])


def test_analyse_precision_skips():
    tables, numbers = analyse_precision(pd.DataFrame(), 3.0, 0.2, RULE)
    assert numbers["skipped"] == "no precision runs" and numbers["arms"] == {}
    assert list(tables["differences"].columns)[:3] == ["arm", "budget", "bits"]
    _, numbers = analyse_precision(scenario({}), None, None, RULE)
    arm = numbers["arms"]["a8"]
    assert arm["capacity"] is None and "no fp32 power law" in arm["capacity_skipped"]
    assert arm["verdict"]["verdict"] == "claim holds"  # the verdict does not need the law
    json.dumps(numbers, allow_nan=False)


@pytest.mark.parametrize("secondary,arms", [([], {"a8"}), ([2], {"a8", "ab"})])
def test_the_plan_has_a_secondary_arm_only_where_it_runs(secondary, arms):
    """Without secondary bit-widths the shared fp32 and W8A8 models form no second arm (the paper
    would otherwise report a winner of an arm it says is not run)."""
    from tinyscale.config import load_config
    from tinyscale.studies.precision import plan

    config = load_config(Path(__file__).resolve().parents[1] / "config" / "quick.yaml")
    config["studies"]["precision"].update(bits=[32, 8, 2], secondary_bits=secondary)
    models = plan(config)
    assert {arm for m in models for arm in m.arms} == arms
    assert all(m.arms == ("a8",) for m in models if m.bits == 2) == (not secondary)

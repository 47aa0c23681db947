"""The unified law's claims on synthetic runs whose answer is known: the epoch-wise peak, noise
sensitivity growing (or shrinking) with size, the data a size needs, and t_peak ∝ N^(−k)."""

import math

import numpy as np
import pandas as pd
import pytest

from tinyscale.analysis.unified_law import analyse_unified_law, data_requirement, peak_time

SIZES = [1e3, 4e3, 16e3, 64e3]
STEPS = np.unique(np.round(np.logspace(0, 4, 60)))


def test_peak_time_is_the_highest_maximum_after_the_first_minimum():
    steps = [1, 2, 4, 8, 16, 32, 64]
    assert peak_time(steps, [0.9, 0.5, 0.3, 0.4, 0.35, 0.45, 0.2]) == 32  # 0.45 beats 0.4
    assert math.isnan(peak_time(steps, [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3]))  # no minimum inside
    assert math.isnan(peak_time(steps, [0.9, 0.5, 0.3, 0.3, 0.2, 0.1, 0.1]))  # a minimum, no peak after it
    assert peak_time(steps[::-1], [0.2, 0.45, 0.35, 0.4, 0.3, 0.5, 0.9]) == 32  # order of the input does not matter


def curve(n, noise, seed, k=1 / 3, data=0):
    """Error of N^k·t with a double-descent bump at N^k·t = 300 when the labels are noisy."""
    rng = np.random.default_rng(seed)
    tau = n**k * STEPS
    base = 0.05 * (1e3 / n) ** 0.2 + 0.85 / (1 + tau / 200)  # larger models end lower
    bump = noise * 0.6 * np.exp(-np.log(tau / 300) ** 2 / 0.3) * (n / 1e3) ** 0.1
    bump += noise * 0.1 * (n / 1e3) ** 0.2 * tau / (tau + 1000)  # fitting the noisy labels: worse for larger N
    scarce = 0.0 if not data else 0.3 * (1000 / data) * (1e3 / n)  # larger models need less data
    return base + bump + scarce + rng.normal(0, 0.002, len(STEPS))


def long_table(noise_grows=True):
    rows = []
    for n in SIZES:
        for seed in range(3):
            for data, noise in [(0, 0.0), (0, 0.3), (500, 0.0), (2000, 0.0)]:
                err = curve(n, noise if noise_grows else noise * (1e3 / n) ** 0.5, seed, data=data)
                rows += [{"arm": "lr0.1-mse", "n_params": n, "seed": seed, "data_size": data, "noise": noise,
                          "step": s, "test_error": e} for s, e in zip(STEPS, err)]
    return pd.DataFrame(rows)


def test_the_claims_on_runs_that_follow_the_unified_law():
    out = analyse_unified_law(long_table(), "lr0.1-mse", n_train=5000, k_hat=1 / 3)
    ns = out["noise_sensitivity"]
    assert ns["verdict"] == "supported" and ns["levels"]["0.3"]["slope"] > 0
    assert out["data_requirement"]["verdict"] == "supported"
    dd = out["double_descent"]
    assert dd["verdict"] == "supported" and dd["lo"] <= -1 / 3 <= dd["hi"], dd
    assert dd["exponent"] == pytest.approx(-1 / 3, abs=0.05)


def test_noise_sensitivity_that_falls_with_size_is_refuted_and_a_wrong_k_is_refuted():
    out = analyse_unified_law(long_table(noise_grows=False), "lr0.1-mse", n_train=5000, k_hat=1 / 3)
    assert out["noise_sensitivity"]["verdict"] == "refuted"
    assert out["double_descent"]["verdict"] == "inconclusive"  # its spurious peaks do not move with N
    wrong = analyse_unified_law(long_table(), "lr0.1-mse", n_train=5000, k_hat=1.0)["double_descent"]
    assert wrong["verdict"] == "refuted" and "excludes -k = -1" in wrong["reason"]


def test_without_noise_or_data_arms_every_claim_is_inconclusive_with_its_reason():
    clean = long_table()
    clean = clean[(clean["noise"] == 0) & (clean["data_size"] == 0)]
    out = analyse_unified_law(clean, "lr0.1-mse", n_train=5000, k_hat=None)
    assert out["noise_sensitivity"]["verdict"] == "inconclusive" and out["noise_sensitivity"]["reason"] == "no noisy runs"
    assert out["data_requirement"]["reason"] == "fewer than two data sizes"
    assert out["double_descent"]["verdict"] == "inconclusive"


def test_data_requirement_reads_the_smallest_size_that_reaches_the_threshold():
    final = pd.DataFrame([{"n_params": n, "seed": 0, "data_size": d, "noise": 0.0, "error": e}
                          for n, row in {10: {100: 0.5, 1000: 0.3, 0: 0.2}, 20: {100: 0.3, 1000: 0.2, 0: 0.1},
                                         40: {100: 0.2, 1000: 0.1, 0: 0.05}}.items() for d, e in row.items()])
    out = data_requirement(final, n_train=5000)
    assert out["threshold"] == 0.2 and out["min_data"] == [5000, 1000, 100] and out["verdict"] == "supported"


def test_the_figure_table_holds_every_panel_and_the_figure_draws_it(tmp_path):
    from tinyscale.analysis.unified_law import unified_table
    from tinyscale.paper.figures import plot

    long = long_table()
    table = unified_table(long, "lr0.1-mse", analyse_unified_law(long, "lr0.1-mse", n_train=5000, k_hat=1 / 3))
    assert set(table["panel"]) == {"peak", "error_at_t", "noise_gap", "min_data"}
    assert len(table[table["panel"] == "peak"]) == len(SIZES) and table["series"][table["panel"] == "error_at_t"].nunique() == 4
    fig = plot("tinyscale.paper.figures.st_unified", {"st_unified": table}, {})
    assert [ax.get_yscale() for ax in fig.axes] == ["log", "linear", "linear", "log"]


def test_the_modelwise_bump_moves_to_smaller_models_at_the_rate_of_the_equivalence():
    from tinyscale.analysis.unified_law import modelwise_bump

    sizes = np.geomspace(1e3, 1e6, 10)
    steps = np.geomspace(10, 1e4, 12)
    rows = []
    for n in sizes:
        for t in steps:  # a bump in N at N^(1/3)·t = 3000: N*(t) = (3000/t)^3
            err = 0.2 + 0.3 * np.exp(-np.log(n ** (1 / 3) * t / 3000) ** 2 / 0.05)
            rows += [{"n_params": n, "seed": s, "data_size": 0, "noise": 0.2, "step": t, "test_error": err} for s in range(2)]
    out = modelwise_bump(pd.DataFrame(rows), k_hat=1 / 3, level=0.95)
    assert out["verdict"] == "supported" and out["slope"] == pytest.approx(-3, abs=0.4), out
    assert modelwise_bump(pd.DataFrame(rows), k_hat=1.0, level=0.95)["verdict"] == "refuted"

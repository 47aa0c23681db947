"""Coverage of the scale–time study's interval for the trade-off exponent k̂, by simulation.

Synthetic learning curves that follow the equivalence exactly, err(N, t) = E∞ + A·(N^k·t)^(−β),
with realistic seed noise: each seed shifts its whole curve by a log-normal factor on t (its
data order and initialisation: a run ahead or behind all along) and adds independent noise to
every logged point. Each replicate draws 3 seeds per size on the ×4 parameter grid, runs the
study's own functions (thresholds, seed-mean t_min, the seed bootstrap, the pooled fit) and asks
whether the interval holds the true k. Two intervals are compared side by side:

- bootstrap: the percentile interval over seed resamples (the study's method);
- per-seed t: k̂ fitted on each seed's curves alone, then a Student-t interval over the seeds.

    python benchmarks/interval_coverage.py --replicates 400 --seeds 3

prints the coverage of each at the nominal 95 % with its binomial standard error.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
from scipy import stats

from tinyscale.analysis.scale_time import bootstrap_t_min, t_min_matrix, tradeoff_exponent

SIZES = np.array([22e3, 88e3, 352e3, 1.4e6, 5.6e6, 22e6])
STEPS = np.unique(np.round(np.logspace(0, 5, 40)))


def curves(rng, k: float, seeds: int, shift_sd: float, point_sd: float) -> list[np.ndarray]:
    """seeds × steps errors per size."""
    out = []
    for n in SIZES:
        shift = np.exp(rng.normal(0, shift_sd, (seeds, 1)))  # a seed a little ahead or behind all along
        tau = (n / SIZES[0]) ** k * STEPS[None, :] * shift
        err = 0.05 + 0.9 * (1 + tau / 30) ** -0.5
        out.append(np.clip(err + rng.normal(0, point_sd, err.shape), 0, 1))
    return out


def replicate(rng, k, seeds, shift_sd, point_sd, n_boot, level):
    seed_curves = curves(rng, k, seeds, shift_sd, point_sd)
    means = [c.mean(axis=0) for c in seed_curves]
    eps = np.linspace(0.8, 0.3, 8)  # every size reaches these within the steps
    t_min, _ = t_min_matrix([STEPS] * len(SIZES), means, eps)
    boot = bootstrap_t_min([STEPS] * len(SIZES), seed_curves, eps, n_boot=n_boot, seed=int(rng.integers(2**31)))
    fit = tradeoff_exponent(SIZES, t_min, eps, boot, level)
    per_seed = []
    for s in range(seeds):
        t_s, _ = t_min_matrix([STEPS] * len(SIZES), [c[s] for c in seed_curves], eps)
        per_seed.append(tradeoff_exponent(SIZES, t_s, eps).k_hat)
    per_seed = np.array(per_seed)
    half = stats.t.ppf(0.5 + level / 2, seeds - 1) * per_seed.std(ddof=1) / math.sqrt(seeds)
    return (fit.ci_lo <= k <= fit.ci_hi, fit.ci_hi - fit.ci_lo,
            per_seed.mean() - half <= k <= per_seed.mean() + half, 2 * half)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--replicates", type=int, default=400)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--k", type=float, default=1 / 3)
    ap.add_argument("--shift-sd", type=float, default=0.1, help="log-sd of a seed's shift in time (0.1: ±10 %%)")
    ap.add_argument("--point-sd", type=float, default=0.01, help="noise of each logged error (0.01: 1 point)")
    ap.add_argument("--bootstrap", type=int, default=500)
    ap.add_argument("--level", type=float, default=0.95)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    t0 = time.perf_counter()
    rows = [replicate(rng, a.k, a.seeds, a.shift_sd, a.point_sd, a.bootstrap, a.level) for _ in range(a.replicates)]
    boot_cov, boot_w, t_cov, t_w = (np.array(c, dtype=float) for c in zip(*rows))
    se = lambda p: math.sqrt(p * (1 - p) / a.replicates)  # noqa: E731
    print(f"{a.replicates} replicates, {a.seeds} seeds, k = {a.k:.4g}, seed shift sd {a.shift_sd}, point sd "
          f"{a.point_sd}, nominal {100 * a.level:g} % ({time.perf_counter() - t0:.0f} s)")
    print("| interval | coverage (%) | ± s.e. | median width |")
    print("|---|---|---|---|")
    for name, cov, width in (("seed bootstrap, percentile", boot_cov, boot_w), ("per-seed k̂, Student t", t_cov, t_w)):
        print(f"| {name} | {100 * cov.mean():.1f} | {100 * se(cov.mean()):.1f} | {np.median(width):.4f} |")


if __name__ == "__main__":
    main()

"""Scale–time equivalence (PROTOCOL.md §5.1): does test error depend on (N, t) mainly through t·N^k?

Boopathy & Fiete claim that scaling a model up by a factor is worth training it longer by the
same factor, with p = N^(1/3). This module turns per-size learning curves (test error at logged
steps, per seed) into the pre-registered statistics and the verdict:

- ``thresholds`` / ``time_to_threshold``: the error-threshold grid and t_min(N, ε);
- ``tradeoff_exponent``: k̂ from log t_min = c_ε − k·log N, its bootstrap CI over seeds
  (``bootstrap_t_min``), per-threshold slopes k_ε, the threshold × size interaction F-test and
  the drift of k_ε with ε;
- ``collapse``: γ̂ that best overlays the log-error curves against log t + γ·log N before each
  curve's plateau, and R²_collapse;
- ``predict_curve`` / ``loso_prediction``: leave-one-size-out prediction of a size's curve from
  its neighbours, against the "same epoch" and fixed-epoch power-law baselines;
- ``collapse_residuals``: where the equivalence breaks, point by point, against τ = t·N^γ;
- ``verdict`` and ``analyse_scale_time``: the pre-registered rule, per arm, to JSON-ready numbers.

Errors are fractions in (0, 1); MAEs are reported in percentage points. Every cut-off is an
argument (``analyse_scale_time`` reads them all from its config; ``EXAMPLE_CONFIG`` shows the
keys). A statistic that cannot be computed is NaN (None in the numbers) with a reason string;
nothing here raises on a small sweep.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, stats

# The keys ``analyse_scale_time`` reads; the values are PROTOCOL.md §5.1's (cut-offs "ours").
EXAMPLE_CONFIG: dict = {
    "min_sizes": 3,  # a slope with a residual, and a γ̂ without the target, need three sizes
    "thresholds": {"n": 8, "top": 0.95, "early_step_max": None, "bottom_margin": 0.0},
    # interval of k̂: "seed_t", a Student-t interval over the k̂ of each seed's own sweep (measured
    # coverage 96 % at a nominal 95 % with 3 seeds, benchmarks/interval_coverage.py), or "percentile",
    # the percentile interval over seed resamples (89 %: it under-covers with 3 seeds)
    "bootstrap": {"samples": 2000, "seed": 0, "level": 0.95, "interval": "seed_t"},
    "drift_alpha": 0.05,
    # False: score LOSO over the whole overlap (PROTOCOL's wording); True: pre-plateau only
    "loso_pre_plateau_only": False,
    "collapse": {"plateau_margin": 0.02, "gamma_min": -0.5, "gamma_max": 1.5, "gamma_grid": 201,
                 "min_points": 2, "min_overlap": 2},
    "verdict": {"k_claim": 1 / 3, "mae_max_points": 2.0, "mae_ratio_max": 0.5,
                "interaction_alpha": 0.05, "r2_collapse_min": 0.9},
}

SUPPORTED = "supported in the paper's form"
WEAK = "supported in weak form"
NOT_SUPPORTED = "not supported"
INCONCLUSIVE = "inconclusive"
METHODS = ("gamma_claim", "gamma_hat", "gamma_zero", "power_law")


# ---------------------------------------------------------------------------------------------
# Curves and thresholds


def _nanmean(a, axis=0) -> np.ndarray:
    """nanmean without numpy's 'mean of empty slice' warning: an all-NaN step is dropped later."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(a, axis=axis)


def _clean_curve(steps, errors) -> tuple[np.ndarray, np.ndarray]:
    """Finite points of one curve; steps must be positive and increasing (they get a logarithm)."""
    steps = np.asarray(steps, dtype=float)
    errors = np.asarray(errors, dtype=float)
    if steps.shape != errors.shape or steps.ndim != 1:
        raise ValueError("steps and errors must be 1-D arrays of one length")
    ok = np.isfinite(steps) & np.isfinite(errors)
    steps, errors = steps[ok], errors[ok]
    if np.any(steps <= 0) or np.any(np.diff(steps) <= 0):
        raise ValueError("steps must be positive and strictly increasing")
    return steps, errors


def _interp_log_step(steps, values, at) -> np.ndarray:
    """Values linear in log(step) at the steps `at`; NaN outside the logged range (no extrapolation)."""
    at = np.asarray(at, dtype=float)
    out = np.full(at.shape, np.nan)
    if len(steps) == 0:
        return out
    ok = at > 0
    out[ok] = np.interp(np.log(at[ok]), np.log(steps), values, left=np.nan, right=np.nan)
    return out


def _crossings(steps, errors, eps) -> tuple[np.ndarray, np.ndarray]:
    """(t_min, censored) for each threshold in `eps` on one clean curve, vectorised over eps.

    t_min is the first crossing (error <= ε), linear in log(step) between the bracketing points;
    censored marks thresholds the first logged point already meets (t_min is then that step).
    """
    eps = np.atleast_1d(np.asarray(eps, dtype=float))
    t_min = np.full(eps.shape, np.nan)
    censored = np.zeros(eps.shape, dtype=bool)
    if len(steps) == 0:
        return t_min, censored
    below = errors[None, :] <= eps[:, None]
    hit = below.any(axis=1)
    first = np.argmax(below, axis=1)
    censored = hit & (first == 0)
    t_min[censored] = steps[0]
    inner = hit & (first > 0)
    i = first[inner]
    e0, e1 = errors[i - 1], errors[i]  # e0 > ε >= e1 by construction, so e0 - e1 > 0
    frac = (e0 - eps[inner]) / (e0 - e1)
    log_s0, log_s1 = np.log(steps[i - 1]), np.log(steps[i])
    t_min[inner] = np.exp(log_s0 + frac * (log_s1 - log_s0))
    return t_min, censored


def time_to_threshold(steps, errors, eps: float) -> float:
    """First step at which error <= eps, linear in log(step) between the two bracketing points.

    The first logged step if the curve starts at or below eps; NaN if it never gets there.
    """
    steps, errors = _clean_curve(steps, errors)
    return float(_crossings(steps, errors, eps)[0][0])


def t_min_matrix(steps: Sequence, errors: Sequence, eps) -> tuple[np.ndarray, np.ndarray]:
    """(t_min sizes × thresholds, censored mask) for seed-mean curves.

    A left-censored cell (the first logged point already meets ε) is NaN in t_min: its time is
    only an upper bound, not a measurement, so it must not enter a slope.
    """
    eps = np.atleast_1d(np.asarray(eps, dtype=float))
    t_min = np.full((len(steps), len(eps)), np.nan)
    censored = np.zeros_like(t_min, dtype=bool)
    for i, (s, e) in enumerate(zip(steps, errors)):
        s, e = _clean_curve(s, e)
        t_min[i], censored[i] = _crossings(s, e, eps)
    t_min[censored] = np.nan
    return t_min, censored


@dataclass
class ThresholdGrid:
    eps: np.ndarray  # n thresholds, from `top` down to the best early error (+ margin)
    best_early_error: float
    t_min: np.ndarray  # sizes × thresholds; NaN where not reached or left-censored
    censored: np.ndarray  # sizes × thresholds: already met at the first logged step
    reached_by_all: np.ndarray  # per threshold: a measured t_min for every size
    reason: str | None = None


def thresholds(n_params, steps: Sequence, errors: Sequence, n: int = 8, top: float = 0.95,
               early_step_max: float | None = None, bottom_margin: float = 0.0) -> ThresholdGrid:
    """The pre-registered threshold grid and which thresholds every size reaches.

    "Best early error" = the minimum seed-mean error the smallest model reaches at logged steps
    <= `early_step_max` (None: its whole curve). The grid is `n` thresholds spaced linearly from
    `top` down to best early error + `bottom_margin`, both ends included. Linear, not geometric:
    the errors span well under a decade (≈ 0.5–0.95), so geometric spacing would only crowd the
    low end, while equal steps in error are the unit the MAEs and the plateau margin use.
    """
    n_params = np.asarray(n_params, dtype=float)
    small = int(np.argmin(n_params))
    s, e = _clean_curve(steps[small], errors[small])
    early = e if early_step_max is None else e[s <= early_step_max]
    best = float(np.min(early)) if len(early) else math.nan
    bottom = best + bottom_margin
    if not np.isfinite(bottom) or bottom >= top:
        empty = np.zeros((len(n_params), 0))
        return ThresholdGrid(np.zeros(0), best, empty, empty.astype(bool), np.zeros(0, bool),
                             f"best early error of the smallest model ({best:.4g}) + margin is not below top ({top})")
    eps = np.linspace(top, bottom, n)
    t_min, censored = t_min_matrix(steps, errors, eps)
    return ThresholdGrid(eps, best, t_min, censored, np.isfinite(t_min).all(axis=0))


def bootstrap_t_min(steps: Sequence, seed_errors: Sequence, eps, n_boot: int = 2000,
                    seed: int = 0) -> np.ndarray:
    """Bootstrap replicates of t_min (n_boot × sizes × thresholds), resampling seeds.

    Each replicate draws, for every size independently, as many seeds as it has with replacement,
    averages them into a seed-mean curve and recomputes t_min at the fixed thresholds `eps`.
    Independently per size: the protocol pairs nothing across sizes through the seed label
    (in the original, one seed's data order differs between widths, PROTOCOL.md §2), and
    sizes may have different seed counts.
    `seed_errors[i]` is seeds × steps for size i (NaN where a seed did not log a step).
    """
    eps = np.atleast_1d(np.asarray(eps, dtype=float))
    rng = np.random.default_rng(seed)
    out = np.full((n_boot, len(steps), len(eps)), np.nan)
    mats = [np.atleast_2d(np.asarray(m, dtype=float)) for m in seed_errors]
    for b in range(n_boot):
        for i, (s, m) in enumerate(zip(steps, mats)):
            draw = m[rng.integers(0, m.shape[0], m.shape[0])]
            mean = _nanmean(draw)
            cs, ce = _clean_curve(s, mean)
            t, cens = _crossings(cs, ce, eps)
            t[cens] = np.nan
            out[b, i] = t
    return out


# ---------------------------------------------------------------------------------------------
# The trade-off exponent k


@dataclass
class _Pooled:
    k: float
    ssr_common: float
    ssr_separate: float
    sxx: float
    n_cells: int
    n_groups: int
    k_per_threshold: np.ndarray
    n_sizes_per_threshold: np.ndarray


def _pooled_fit(log_n: np.ndarray, log_t: np.ndarray) -> _Pooled:
    """OLS of log t on log N with one intercept per threshold (within-threshold demeaning).

    Thresholds with fewer than two finite cells carry no slope information and are skipped.
    Also the separate-slopes fit (one slope per threshold) for the interaction test.
    """
    m = log_t.shape[1]
    k_eps = np.full(m, np.nan)
    counts = np.isfinite(log_t).sum(axis=0)
    sxx = sxy = ssr_sep = syy = 0.0
    n_cells = n_groups = 0
    for j in range(m):
        ok = np.isfinite(log_t[:, j])
        x, y = log_n[ok], log_t[ok, j]
        if len(x) < 2 or np.ptp(x) == 0:
            continue
        xc, yc = x - x.mean(), y - y.mean()
        sxx_j, sxy_j, syy_j = xc @ xc, xc @ yc, yc @ yc
        k_eps[j] = -sxy_j / sxx_j  # log t = c − k·log N, so k is minus the slope
        ssr_sep += max(syy_j - sxy_j ** 2 / sxx_j, 0.0)
        sxx, sxy, syy = sxx + sxx_j, sxy + sxy_j, syy + syy_j
        n_cells += len(x)
        n_groups += 1
    if n_groups == 0:
        return _Pooled(math.nan, math.nan, math.nan, 0.0, 0, 0, k_eps, counts)
    ssr_common = max(syy - sxy ** 2 / sxx, 0.0)
    return _Pooled(-sxy / sxx, ssr_common, ssr_sep, sxx, n_cells, n_groups, k_eps, counts)


def _spearman(x, y, exact_max_n: int) -> tuple[float, float]:
    """Spearman rho and two-sided p; exact permutation p for n <= exact_max_n.

    The t-approximation scipy uses is badly off for a handful of points (n = 3 with rho = 1 gives
    p = 0); with 8 thresholds the exact null has only 8! = 40320 orderings.
    """
    x, y = np.asarray(x, float), np.asarray(y, float)
    n = len(x)
    if n < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return math.nan, math.nan
    rx, ry = stats.rankdata(x), stats.rankdata(y)
    rx, ry = rx - rx.mean(), ry - ry.mean()
    norm = math.sqrt((rx @ rx) * (ry @ ry))
    rho = float(rx @ ry / norm)
    if n > exact_max_n:
        return rho, float(stats.spearmanr(x, y).pvalue)
    perms = np.array(list(itertools.permutations(range(n))))
    null = (ry[perms] @ rx) / norm
    # a small tolerance so orderings tied with the observed one count as "as extreme"
    p = float(np.mean(np.abs(null) >= abs(rho) - 1e-12))
    return rho, p


@dataclass
class TradeoffFit:
    k_hat: float
    k_se: float
    ci_lo: float
    ci_hi: float
    n_boot_used: int
    n_cells: int
    n_thresholds_used: int
    k_per_threshold: np.ndarray  # per threshold column; NaN where fewer than 2 sizes reach it
    n_sizes_per_threshold: np.ndarray
    interaction_F: float
    interaction_df1: float
    interaction_df2: float
    interaction_p: float
    drift_rho: float
    drift_p: float
    drift_monotone: bool | None  # None: fewer than 3 thresholds with a slope
    reasons: list[str] = field(default_factory=list)


def tradeoff_exponent(n_params, t_min, eps=None, boot_t_min=None, level: float = 0.95,
                      drift_alpha: float = 0.05, drift_exact_max_n: int = 8) -> TradeoffFit:
    """k̂ from log t_min = c_ε − k·log N (one intercept per threshold, OLS over reached cells).

    - `t_min`: sizes × thresholds, NaN cells skipped; thresholds reached by < 2 sizes skipped.
    - `boot_t_min`: replicates (B × sizes × thresholds) from ``bootstrap_t_min``; the CI is the
      percentile interval of k̂ over replicates at `level` (replicates with no slope dropped).
      Taking replicates rather than seeds keeps this function a pure fit; the seed resampling
      (seed-mean curves → t_min) lives in one place.
    - Interaction: F-test of one common slope against one slope per threshold (both with one
      intercept per threshold): F = ((SSR_c − SSR_s)/(m − 1)) / (SSR_s/(n − 2m)).
    - Drift: Spearman rank correlation of k_ε against ε (needs `eps`); "monotone" when its
      two-sided p < `drift_alpha`. Chosen over a strict-monotone check because seed noise
      breaks strict monotonicity of a real trend, and a test says how unlikely the order is.
    """
    log_n = np.log(np.asarray(n_params, dtype=float))
    t_min = np.asarray(t_min, dtype=float).reshape(len(log_n), -1)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_t = np.where(t_min > 0, np.log(t_min), np.nan)
    reasons: list[str] = []
    fit = _pooled_fit(log_n, log_t)
    nan = math.nan
    out = TradeoffFit(nan, nan, nan, nan, 0, fit.n_cells, fit.n_groups, fit.k_per_threshold,
                      fit.n_sizes_per_threshold, nan, nan, nan, nan, nan, nan, None, reasons)
    if len(np.unique(log_n)) < 2:
        reasons.append(f"{len(np.unique(log_n))} size(s): no slope in log N")
        return out
    if fit.n_groups == 0:
        reasons.append("no threshold is reached by two or more sizes")
        return out
    skipped = int(np.sum(fit.n_sizes_per_threshold < 2))
    if skipped:
        reasons.append(f"{skipped} threshold(s) reached by fewer than 2 sizes skipped")
    out.k_hat = fit.k
    df_common = fit.n_cells - fit.n_groups - 1
    if df_common > 0:
        out.k_se = math.sqrt(fit.ssr_common / df_common / fit.sxx)
    _interaction(out, fit, reasons)
    if boot_t_min is not None:
        _bootstrap_ci(out, log_n, np.asarray(boot_t_min, dtype=float), level, reasons)
    if eps is not None:
        _drift(out, np.asarray(eps, dtype=float), drift_alpha, drift_exact_max_n, reasons)
    return out


def _interaction(out: TradeoffFit, fit: _Pooled, reasons: list[str]) -> None:
    df1, df2 = fit.n_groups - 1, fit.n_cells - 2 * fit.n_groups
    if df1 < 1 or df2 < 1:
        reasons.append(f"interaction test needs >= 2 thresholds and residual df (df1={df1}, df2={df2})")
        return
    out.interaction_df1, out.interaction_df2 = float(df1), float(df2)
    # Numerical zero, not a statistical cut-off: noise-free data fit exactly and 0/0 is noise.
    if fit.ssr_common <= 1e-12 * fit.sxx:
        out.interaction_F, out.interaction_p = 0.0, 1.0
        reasons.append("common-slope model fits exactly: no interaction")
        return
    if fit.ssr_separate <= 0:
        out.interaction_F, out.interaction_p = math.inf, 0.0
        return
    F = ((fit.ssr_common - fit.ssr_separate) / df1) / (fit.ssr_separate / df2)
    out.interaction_F = float(F)
    out.interaction_p = float(stats.f.sf(F, df1, df2))


def _bootstrap_ci(out: TradeoffFit, log_n, boot, level, reasons) -> None:
    ks = []
    for rep in boot:
        with np.errstate(divide="ignore", invalid="ignore"):
            k = _pooled_fit(log_n, np.where(rep > 0, np.log(rep), np.nan)).k
        if np.isfinite(k):
            ks.append(k)
    out.n_boot_used = len(ks)
    if len(ks) < 2:
        reasons.append("bootstrap: fewer than 2 replicates with a slope; no CI")
        return
    if len(ks) < len(boot):
        reasons.append(f"bootstrap: {len(boot) - len(ks)} replicate(s) without a slope dropped")
    a = (1 - level) / 2
    out.ci_lo, out.ci_hi = (float(q) for q in np.quantile(ks, [a, 1 - a]))


def _drift(out: TradeoffFit, eps, alpha, exact_max_n, reasons) -> None:
    ok = np.isfinite(out.k_per_threshold)
    if ok.sum() < 3:
        reasons.append("drift of k_ε needs slopes at >= 3 thresholds")
        return
    rho, p = _spearman(eps[ok], out.k_per_threshold[ok], exact_max_n)
    out.drift_rho, out.drift_p = rho, p
    out.drift_monotone = bool(np.isfinite(p) and p < alpha)


# ---------------------------------------------------------------------------------------------
# Collapse


def pre_plateau_window(errors, plateau_margin: float) -> np.ndarray:
    """Mask of a curve's points before it first comes within `plateau_margin` of its plateau.

    Plateau = the curve's minimum error (not its final one: an overfitting curve rises again
    after its best point). The window is the prefix before the first point with
    error <= plateau + margin, so late points that climb back above the band (overfitting)
    are not "pre-plateau". Margin in error units: 0.02 = PROTOCOL's "2 points".
    """
    errors = np.asarray(errors, dtype=float)
    if len(errors) == 0:
        return np.zeros(0, dtype=bool)
    near = errors <= np.nanmin(errors) + plateau_margin
    first = int(np.argmax(near)) if near.any() else len(errors)
    mask = np.zeros(len(errors), dtype=bool)
    mask[:first] = True
    return mask & (errors > 0)  # log error needs error > 0


def _mismatch(log_n, xs, ys, gamma, min_overlap) -> tuple[float, int]:
    """Mean squared mismatch of log-error curves shifted to x = log t + γ·log N, and its count.

    For every ordered pair (a, b), b's points inside a's shifted x-range are compared with a's
    curve interpolated linearly in x. A mean, not a sum: the overlap changes with γ, and a sum
    would reward shifting curves apart. Every pair of size-neighbours must overlap in at least
    `min_overlap` comparisons, else γ is infeasible (inf): otherwise the curves could drift apart
    until only a few tips compare.
    """
    shifted = [x + gamma * ln for x, ln in zip(xs, log_n)]
    m = len(xs)
    pair_count = np.zeros((m, m), dtype=int)
    total, count = 0.0, 0
    for a in range(m):
        xa, ya = shifted[a], ys[a]
        for b in range(m):
            if a == b:
                continue
            xb = shifted[b]
            inside = (xb >= xa[0]) & (xb <= xa[-1])
            if not inside.any():
                continue
            d = ys[b][inside] - np.interp(xb[inside], xa, ya)
            total += float(d @ d)
            pair_count[a, b] = int(inside.sum())
            count += int(inside.sum())
    order = np.argsort(log_n)
    for a, b in zip(order[:-1], order[1:]):
        if pair_count[a, b] + pair_count[b, a] < min_overlap:
            return math.inf, count
    return (total / count if count else math.inf), count


@dataclass
class CollapseFit:
    gamma_hat: float
    r2_collapse: float
    mismatch_hat: float
    mismatch_zero: float
    n_comparisons: int
    n_curves: int
    reasons: list[str] = field(default_factory=list)


def _window_curves(n_params, steps, errors, plateau_margin, min_points, reasons):
    log_n, xs, ys = [], [], []
    for n, s, e in zip(n_params, steps, errors):
        s, e = _clean_curve(s, e)
        w = pre_plateau_window(e, plateau_margin)
        if w.sum() < min_points:
            reasons.append(f"N={n:.0f}: {int(w.sum())} pre-plateau point(s) < {min_points}, dropped")
            continue
        log_n.append(math.log(n))
        xs.append(np.log(s[w]))
        ys.append(np.log(e[w]))
    return np.array(log_n), xs, ys


def collapse(n_params, steps: Sequence, errors: Sequence, plateau_margin: float = 0.02,
             gammas=None, min_points: int = 2, min_overlap: int = 2, xatol: float = 1e-8) -> CollapseFit:
    """γ̂ minimising the mismatch of log-error curves against log t + γ·log N, and R²_collapse.

    Curves (seed means) are cut to their pre-plateau window (``pre_plateau_window``); a curve
    with fewer than `min_points` points there is dropped. The mismatch is ``_mismatch``.
    γ̂: the best of the grid `gammas` (default −0.5 … 1.5 step 0.01), refined by a bounded
    scalar search between its grid neighbours; deterministic, and the grid avoids a local
    minimum a search from one start could fall into. R² = 1 − mismatch(γ̂)/mismatch(0).
    """
    reasons: list[str] = []
    gammas = np.linspace(-0.5, 1.5, 201) if gammas is None else np.asarray(gammas, dtype=float)
    log_n, xs, ys = _window_curves(np.asarray(n_params, float), steps, errors, plateau_margin, min_points, reasons)
    nan = math.nan
    if len(np.unique(log_n)) < 2:
        reasons.append(f"{len(np.unique(log_n))} size(s) with a pre-plateau window: no collapse")
        return CollapseFit(nan, nan, nan, nan, 0, len(log_n), reasons)

    def mis(g):
        return _mismatch(log_n, xs, ys, g, min_overlap)[0]

    grid = np.array([mis(g) for g in gammas])
    if not np.isfinite(grid).any():
        reasons.append("no γ on the grid gives overlapping neighbouring curves")
        return CollapseFit(nan, nan, nan, nan, 0, len(log_n), reasons)
    i = int(np.nanargmin(np.where(np.isfinite(grid), grid, np.nan)))
    best_g, best_m = float(gammas[i]), float(grid[i])
    lo, hi = gammas[max(i - 1, 0)], gammas[min(i + 1, len(gammas) - 1)]
    if hi > lo:
        res = optimize.minimize_scalar(mis, bounds=(lo, hi), method="bounded", options={"xatol": xatol})
        if np.isfinite(res.fun) and res.fun < best_m:
            best_g, best_m = float(res.x), float(res.fun)
    m0, count = mis(0.0), _mismatch(log_n, xs, ys, best_g, min_overlap)[1]
    if np.isfinite(m0) and m0 > 0:
        r2 = 1 - best_m / m0
    else:
        r2 = nan
        reasons.append("curves do not overlap (or match exactly) at γ = 0: no R²")
    if i in (0, len(gammas) - 1):
        reasons.append(f"γ̂ at the edge of the search grid ({best_g:.3g})")
    return CollapseFit(best_g, r2, best_m, m0, count, len(log_n), reasons)


# ---------------------------------------------------------------------------------------------
# Leave-one-size-out prediction


def predict_curve(source_steps, source_errors, n_source: float, n_target: float, gamma: float,
                  at_steps=None) -> np.ndarray:
    """The target size's error at `at_steps` predicted from a source size's curve.

    Under err(N, t) = g(t·N^γ): err_target(t) = g(t·N_t^γ) = err_source(t·(N_t/N_s)^γ), so the
    target's step t reads the source curve at t·(N_t/N_s)^γ (a bigger target reads a smaller
    source later). The source is interpolated linearly in log(step); NaN outside its logged
    range. `at_steps` defaults to the source's own steps.
    """
    s, e = _clean_curve(source_steps, source_errors)
    at = s if at_steps is None else np.asarray(at_steps, dtype=float)
    return _interp_log_step(s, e, at * (n_target / n_source) ** gamma)


def _power_law_at_fixed_steps(n_others, curves_others, n_target, at_steps) -> np.ndarray:
    """Fixed-epoch baseline: at each step, log err = a − b·log N over the other sizes, at N_target."""
    vals = np.array([_interp_log_step(s, e, at_steps) for s, e in curves_others])
    log_n = np.log(np.asarray(n_others, dtype=float))
    out = np.full(len(at_steps), np.nan)
    for j in range(len(at_steps)):
        ok = np.isfinite(vals[:, j]) & (vals[:, j] > 0)
        if ok.sum() < 2 or np.ptp(log_n[ok]) == 0:
            continue
        slope, icpt = np.polyfit(log_n[ok], np.log(vals[ok, j]), 1)
        out[j] = math.exp(icpt + slope * math.log(n_target))
    return out


def _neighbour_prediction(curves, n_params, target, neighbours, gamma, at) -> np.ndarray:
    """Average of the neighbours' predictions, only where every neighbour predicts."""
    preds = np.array([predict_curve(*curves[j], n_params[j], n_params[target], gamma, at) for j in neighbours])
    return preds.mean(axis=0)  # NaN wherever any neighbour has no prediction


@dataclass
class LosoResult:
    per_size: pd.DataFrame  # n_params, method, gamma, mae_points, n_points
    mae_points: dict  # method -> mean over sizes of the per-size MAE (NaN if never defined)


def loso_prediction(n_params, steps: Sequence, errors: Sequence, gamma_fixed: float = 1 / 3,
                    collapse_kwargs: dict | None = None, window_margin: float | None = None) -> LosoResult:
    """Leave-one-size-out prediction of every size's curve; MAE in percentage points.

    Neighbours: the next smaller and next larger size (one at the ends). Methods:
    "gamma_claim" (γ = `gamma_fixed`), "gamma_hat" (γ̂ from ``collapse`` on the other sizes,
    needs >= 2 of them), "gamma_zero" (same step, γ = 0), "power_law" (at each step a power
    law in N over the other sizes, evaluated at the target). For each size all methods are
    scored on the same points: the target's logged steps where every method that is defined
    for it predicts (so no method gains by predicting only an easy stretch). Overall MAE =
    mean of the per-size MAEs, each size weighted equally.

    `window_margin` None scores the whole overlap (PROTOCOL's wording). A margin restricts
    every curve, sources and target alike, to its pre-plateau window (``pre_plateau_window``):
    the equivalence is only claimed before the plateau, and a neighbour's plateau read at a
    shifted time otherwise counts against γ while the same-step baselines average it away.
    """
    n_params = np.asarray(n_params, dtype=float)
    order = np.argsort(n_params)
    curves = [_clean_curve(s, e) for s, e in zip(steps, errors)]
    if window_margin is not None:
        curves = [(s[w], e[w]) for s, e in curves for w in [pre_plateau_window(e, window_margin)]]
    collapse_kwargs = collapse_kwargs or {}
    rows = []
    for pos, i in enumerate(order):
        neighbours = [int(order[p]) for p in (pos - 1, pos + 1) if 0 <= p < len(order)]
        if not neighbours or len(curves[i][0]) == 0:
            continue
        others = [int(j) for j in order if j != i]
        at, actual = curves[i]
        gamma_hat = math.nan
        if len(others) >= 2:
            gamma_hat = collapse(n_params[others], [steps[j] for j in others],
                                 [errors[j] for j in others], **collapse_kwargs).gamma_hat
        gammas = {"gamma_claim": gamma_fixed, "gamma_hat": gamma_hat, "gamma_zero": 0.0}
        preds = {m: (_neighbour_prediction(curves, n_params, i, neighbours, g, at) if np.isfinite(g)
                     else np.full(len(at), np.nan)) for m, g in gammas.items()}
        preds["power_law"] = _power_law_at_fixed_steps(n_params[others], [curves[j] for j in others], n_params[i], at)
        defined = [m for m in METHODS if np.isfinite(preds[m]).any()]
        common = np.all([np.isfinite(preds[m]) for m in defined], axis=0) if defined else np.zeros(len(at), bool)
        for m in METHODS:
            ok = common if m in defined else np.zeros(len(at), bool)
            mae = 100 * float(np.mean(np.abs(preds[m][ok] - actual[ok]))) if ok.any() else math.nan
            rows.append({"n_params": n_params[i], "method": m, "gamma": gammas.get(m, math.nan),
                         "mae_points": mae, "n_points": int(ok.sum())})
    per_size = pd.DataFrame(rows, columns=["n_params", "method", "gamma", "mae_points", "n_points"])
    overall = {}
    for m in METHODS:
        v = per_size.loc[per_size["method"] == m, "mae_points"].dropna()
        overall[m] = float(v.mean()) if len(v) else math.nan
    return LosoResult(per_size, overall)


# ---------------------------------------------------------------------------------------------
# Where the equivalence breaks


def collapse_residuals(n_params, steps: Sequence, errors: Sequence, gamma: float,
                       plateau_margin: float = 0.02) -> pd.DataFrame:
    """Every logged point's residual from the collapsed master curve, against τ = t·N^γ.

    The master curve at a point of size i is the mean log-error of the *other* sizes' curves
    (all their points, plateau included) interpolated at its x = log t + γ·log N, so a curve is
    never compared with itself. Columns: n_params, step, error, tau, log_tau, master_error,
    residual_log (log error − master), residual_points (100·(error − master error)), n_ref
    (curves covering x), pre_plateau (inside the curve's collapse window). Pass γ = 1/3 for the
    claim's τ = N^(1/3)·t, or γ̂.
    """
    n_params = np.asarray(n_params, dtype=float)
    curves = [_clean_curve(s, e) for s, e in zip(steps, errors)]
    shifted = []
    for n, (s, e) in zip(n_params, curves):
        pos = e > 0
        shifted.append((np.log(s[pos]) + gamma * math.log(n), np.log(e[pos])))
    rows = []
    for i, (n, (s, e)) in enumerate(zip(n_params, curves)):
        x = np.log(s) + gamma * math.log(n)
        refs = np.array([np.interp(x, xa, ya, left=np.nan, right=np.nan)
                         for j, (xa, ya) in enumerate(shifted) if j != i and len(xa)]).reshape(-1, len(x))
        n_ref = np.isfinite(refs).sum(axis=0)
        master = _nanmean(refs) if len(refs) else np.full(len(x), np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            log_e = np.where(e > 0, np.log(e), np.nan)
        rows.append(pd.DataFrame({
            "n_params": n, "step": s, "error": e, "tau": np.exp(x), "log_tau": x,
            "master_error": np.exp(master), "residual_log": log_e - master,
            "residual_points": 100 * (e - np.exp(master)), "n_ref": n_ref,
            "pre_plateau": pre_plateau_window(e, plateau_margin),
        }))
    cols = ["n_params", "step", "error", "tau", "log_tau", "master_error", "residual_log",
            "residual_points", "n_ref", "pre_plateau"]
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=cols)


# ---------------------------------------------------------------------------------------------
# Verdict


def _fmt(x) -> str:
    return "None" if x is None else f"{x:.4g}"


def _finite(*xs) -> bool:
    return all(x is not None and np.isfinite(x) for x in xs)


def verdict(k_hat, ci, interaction_p, r2_collapse, mae_third, mae_zero, drift_monotone,
            rule: dict) -> tuple[str, list[str]]:
    """PROTOCOL.md §5.1's verdict from the statistics and the config's cut-offs.

    `rule` keys: k_claim (1/3), mae_max_points (2), mae_ratio_max (0.5), interaction_alpha
    (0.05), r2_collapse_min (0.9). Rules:
    - paper's form: CI ∋ k_claim, MAE(γ = k_claim) < mae_max_points and < mae_ratio_max·MAE(γ = 0);
    - weak form: interaction p >= interaction_alpha, R²_collapse >= r2_collapse_min, k̂ > 0,
      CI ∌ k_claim;
    - not supported: CI ∋ 0, or k_ε drifts monotonically with ε.
    "Not supported" takes precedence: a claim counts as supported only when nothing
    pre-registered against it holds (e.g. a CI wide enough to hold both 0 and 1/3 is evidence
    for neither). When no rule fires (e.g. CI ∋ 1/3 but the MAEs miss, or the interaction is
    significant while the CI excludes 1/3 and 0) the verdict is "inconclusive". A missing input
    (None/NaN) makes its condition unevaluable: it neither supports nor refutes.
    Returns (verdict, reasons): the conditions that held, the unevaluable ones, the rule applied.
    """
    k_claim = rule["k_claim"]
    reasons: list[str] = []
    lo, hi = (ci if ci is not None else (None, None))
    has_ci = _finite(lo, hi)
    cond: dict[str, bool | None] = {
        "ci_holds_claim": bool(lo <= k_claim <= hi) if has_ci else None,
        "ci_holds_zero": bool(lo <= 0 <= hi) if has_ci else None,
        "mae_below_max": bool(mae_third < rule["mae_max_points"]) if _finite(mae_third) else None,
        "mae_below_ratio": bool(mae_third < rule["mae_ratio_max"] * mae_zero) if _finite(mae_third, mae_zero) else None,
        "interaction_not_significant": bool(interaction_p >= rule["interaction_alpha"]) if _finite(interaction_p) else None,
        "r2_collapse_high": bool(r2_collapse >= rule["r2_collapse_min"]) if _finite(r2_collapse) else None,
        "k_positive": bool(k_hat > 0) if _finite(k_hat) else None,
        "drift_monotone": None if drift_monotone is None else bool(drift_monotone),
    }
    f = _fmt
    text = {
        "ci_holds_claim": f"CI of k̂ [{f(lo)}, {f(hi)}] holds k_claim = {f(k_claim)}",
        "ci_holds_zero": f"CI of k̂ [{f(lo)}, {f(hi)}] holds 0",
        "mae_below_max": f"γ = k_claim MAE {f(mae_third)} < {f(rule['mae_max_points'])} points",
        "mae_below_ratio": f"γ = k_claim MAE {f(mae_third)} < {f(rule['mae_ratio_max'])} × γ = 0 MAE {f(mae_zero)}",
        "interaction_not_significant": f"threshold × size interaction p = {f(interaction_p)} >= {f(rule['interaction_alpha'])}",
        "r2_collapse_high": f"R²_collapse {f(r2_collapse)} >= {f(rule['r2_collapse_min'])}",
        "k_positive": f"k̂ = {f(k_hat)} > 0",
        "drift_monotone": "k_ε drifts monotonically with ε",
    }
    for name, held in cond.items():
        if held is None:
            reasons.append(f"not evaluable: {name}")
        elif held:
            reasons.append(text[name])
    refuted = cond["ci_holds_zero"] is True or cond["drift_monotone"] is True
    paper = all(cond[c] is True for c in ("ci_holds_claim", "mae_below_max", "mae_below_ratio"))
    weak = (all(cond[c] is True for c in ("interaction_not_significant", "r2_collapse_high", "k_positive"))
            and cond["ci_holds_claim"] is False)
    if refuted:
        if paper or weak:
            reasons.append("a support rule also held; 'not supported' takes precedence")
        return NOT_SUPPORTED, reasons
    if paper:
        return SUPPORTED, reasons
    if weak:
        reasons.append(f"CI of k̂ excludes k_claim = {_fmt(k_claim)}")
        return WEAK, reasons
    reasons.append("no rule fired")
    return INCONCLUSIVE, reasons


# ---------------------------------------------------------------------------------------------
# Whole study


def _jsonable(x):
    """Plain Python for json: numpy scalars/arrays unwrapped, NaN/inf → None."""
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple, np.ndarray)):
        return [_jsonable(v) for v in (x.tolist() if isinstance(x, np.ndarray) else x)]
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return float(x) if np.isfinite(x) else None
    return x


@dataclass
class _SizeCurves:
    n_params: np.ndarray
    steps: list  # per size, positive increasing
    mean: list  # per size, seed-mean error at those steps
    seeds: list  # per size, seeds × steps (NaN where a seed did not log the step)
    n_seeds: list


def _size_curves(df: pd.DataFrame) -> _SizeCurves:
    """Seed-mean curves per size; steps <= 0 dropped (no logarithm; the initial error is chance)."""
    df = df[df["step"] > 0]
    n_params, steps, means, seeds, n_seeds = [], [], [], [], []
    for n, g in df.groupby("n_params", sort=True):
        mat = g.pivot_table(index="seed", columns="step", values="test_error", aggfunc="mean")
        mean = _nanmean(mat.to_numpy(float))
        ok = np.isfinite(mean)
        n_params.append(float(n))
        steps.append(mat.columns.to_numpy(float)[ok])
        means.append(mean[ok])
        seeds.append(mat.to_numpy(float)[:, ok])
        n_seeds.append(int(mat.shape[0]))
    return _SizeCurves(np.array(n_params), steps, means, seeds, n_seeds)


def _analyse_arm(df: pd.DataFrame, cfg: dict) -> tuple[dict, dict[str, pd.DataFrame]]:
    c = _size_curves(df)
    rule = cfg["verdict"]
    th, bs, co = cfg["thresholds"], cfg["bootstrap"], cfg["collapse"]
    numbers: dict = {"n_sizes": len(c.n_params), "n_params": c.n_params, "n_seeds": c.n_seeds,
                     "verdict": None, "reasons": [], "skipped": None, "notes": []}
    tables: dict[str, pd.DataFrame] = {
        "curves": pd.concat([pd.DataFrame({"n_params": n, "step": s, "test_error": e, "n_seeds": k})
                             for n, s, e, k in zip(c.n_params, c.steps, c.mean, c.n_seeds)], ignore_index=True)
        if len(c.n_params) else pd.DataFrame(columns=["n_params", "step", "test_error", "n_seeds"])}
    if len(c.n_params) < cfg["min_sizes"]:
        numbers["skipped"] = f"{len(c.n_params)} size(s); the study needs at least {cfg['min_sizes']}"
        return numbers, tables

    # Collapse and prediction do not need thresholds: computed even when k̂ is skipped.
    collapse_kw = {"plateau_margin": co["plateau_margin"], "min_points": co["min_points"],
                   "min_overlap": co["min_overlap"],
                   "gammas": np.linspace(co["gamma_min"], co["gamma_max"], co["gamma_grid"])}
    cf = collapse(c.n_params, c.steps, c.mean, **collapse_kw)
    loso = loso_prediction(c.n_params, c.steps, c.mean, gamma_fixed=rule["k_claim"], collapse_kwargs=collapse_kw,
                           window_margin=co["plateau_margin"] if cfg["loso_pre_plateau_only"] else None)
    numbers.update(gamma_hat=cf.gamma_hat, r2_collapse=cf.r2_collapse, mae_points=loso.mae_points)
    numbers["notes"] += [f"collapse: {r}" for r in cf.reasons]
    tables["loso"] = loso.per_size
    tables["collapse_residuals"] = collapse_residuals(c.n_params, c.steps, c.mean, rule["k_claim"], co["plateau_margin"])

    grid = thresholds(c.n_params, c.steps, c.mean, n=th["n"], top=th["top"],
                      early_step_max=th["early_step_max"], bottom_margin=th["bottom_margin"])
    used = grid.reached_by_all
    numbers.update(thresholds=grid.eps, thresholds_used=grid.eps[used], best_early_error=grid.best_early_error)
    tables["t_min"] = pd.DataFrame([
        {"n_params": n, "eps": e, "t_min": grid.t_min[i, j], "censored": bool(grid.censored[i, j]),
         "used": bool(used[j])} for i, n in enumerate(c.n_params) for j, e in enumerate(grid.eps)],
        columns=["n_params", "eps", "t_min", "censored", "used"])
    if grid.reason or not used.any():
        numbers["skipped"] = grid.reason or "no threshold is reached by every size"
        return numbers, tables

    eps = grid.eps[used]
    boot = bootstrap_t_min(c.steps, c.seeds, eps, n_boot=bs["samples"], seed=bs["seed"])
    tf = tradeoff_exponent(c.n_params, grid.t_min[:, used], eps=eps, boot_t_min=boot,
                           level=bs["level"], drift_alpha=cfg["drift_alpha"])
    numbers.update(
        k_hat=tf.k_hat, k_se=tf.k_se, ci_lo=tf.ci_lo, ci_hi=tf.ci_hi, ci_level=bs["level"],
        n_boot_used=tf.n_boot_used, k_per_threshold=tf.k_per_threshold,
        interaction_F=tf.interaction_F, interaction_df1=tf.interaction_df1,
        interaction_df2=tf.interaction_df2, interaction_p=tf.interaction_p,
        drift_rho=tf.drift_rho, drift_p=tf.drift_p, drift_monotone=tf.drift_monotone)
    numbers["notes"] += [f"k: {r}" for r in tf.reasons]
    numbers["ci_method"] = bs["interval"]
    if bs["interval"] == "seed_t":
        numbers["ci_lo"], numbers["ci_hi"], numbers["n_seed_fits"] = seed_t_interval(
            c.n_params, c.steps, c.seeds, eps, bs["level"])
        tf.ci_lo, tf.ci_hi = numbers["ci_lo"], numbers["ci_hi"]
    elif bs["interval"] != "percentile":
        raise ValueError(f"scale_time bootstrap.interval must be seed_t or percentile, got {bs['interval']!r}")
    tables["k_per_threshold"] = pd.DataFrame({"eps": eps, "k_eps": tf.k_per_threshold,
                                              "n_sizes": tf.n_sizes_per_threshold})
    numbers["verdict"], numbers["reasons"] = verdict(
        tf.k_hat, (tf.ci_lo, tf.ci_hi), tf.interaction_p, cf.r2_collapse,
        loso.mae_points["gamma_claim"], loso.mae_points["gamma_zero"], tf.drift_monotone, rule)
    return numbers, tables


def seed_t_interval(n_params, steps, seed_errors, eps, level: float) -> tuple[float, float, int]:
    """(lo, hi, seeds used) of the Student-t interval over the k̂ of each seed's own sweep: seed s's
    curve at every size, its t_min at the thresholds `eps`, the pooled fit. Each seed is an
    independent replicate of the whole sweep; NaN bounds with fewer than two seeds that fit."""
    n_seeds = min(len(m) for m in seed_errors)
    ks = []
    for s in range(n_seeds):
        t_s, _ = t_min_matrix(steps, [np.atleast_2d(m)[s] for m in seed_errors], eps)
        k = tradeoff_exponent(n_params, t_s, eps).k_hat
        if np.isfinite(k):
            ks.append(k)
    if len(ks) < 2:
        return math.nan, math.nan, len(ks)
    ks = np.array(ks)
    half = stats.t.ppf(0.5 + level / 2, len(ks) - 1) * ks.std(ddof=1) / math.sqrt(len(ks))
    return float(ks.mean() - half), float(ks.mean() + half), len(ks)


def _check_config(cfg: dict, like: dict = EXAMPLE_CONFIG, where: str = "") -> None:
    """Fail before any work if a key of ``EXAMPLE_CONFIG`` is missing: no cut-off is defaulted."""
    missing = [where + k for k in like if k not in cfg]
    if missing:
        raise KeyError(f"scale_time config lacks {missing}")
    for k, v in like.items():
        if isinstance(v, dict):
            _check_config(cfg[k], v, f"{where}{k}.")


def analyse_scale_time(curves: pd.DataFrame, cfg: dict) -> tuple[dict[str, pd.DataFrame], dict]:
    """The whole §5.1 study: long curves table → (tables, JSON-ready numbers per arm).

    `curves` has one row per logged point: n_params, seed, step, test_error, and optionally
    `arm` (e.g. "lr0.1-mse"); each arm is analysed on its own ("all" when there is no arm
    column). `cfg` holds every cut-off (keys as in ``EXAMPLE_CONFIG``; a missing key raises).
    Tables are concatenated over arms with an `arm` column; numbers are {arm: {...}} with
    NaN → None. An arm with too few sizes, or no threshold every size reaches, carries a
    `skipped` reason and no verdict instead of failing.
    """
    missing = {"n_params", "seed", "step", "test_error"} - set(curves.columns)
    if missing:
        raise ValueError(f"curves table lacks columns {sorted(missing)}")
    _check_config(cfg)
    arms = curves.groupby("arm", sort=True) if "arm" in curves.columns else [("all", curves)]
    numbers, per_table = {}, {}
    for arm, df in arms:
        nums, tabs = _analyse_arm(df, cfg)
        numbers[str(arm)] = _jsonable(nums)
        for name, t in tabs.items():
            per_table.setdefault(name, []).append(t.assign(arm=str(arm)))
    tables = {name: pd.concat(ts, ignore_index=True) for name, ts in per_table.items()}
    return tables, numbers


# ---------------------------------------------------------------------------------------------
# The study's tables, from its runs' records and curve files

# Columns of each table `analyse_scale_time` returns, so that a table no arm produced is still
# written with its header (a figure then draws its "nothing to show" note).
TABLE_COLUMNS = {
    "t_min": ["n_params", "eps", "t_min", "censored", "used", "arm"],
    "k_per_threshold": ["eps", "k_eps", "n_sizes", "arm"],
    "loso": ["n_params", "method", "gamma", "mae_points", "n_points", "arm"],
    "collapse_residuals": ["n_params", "step", "error", "tau", "log_tau", "master_error", "residual_log",
                           "residual_points", "n_ref", "pre_plateau", "arm"],
}


def long_curves(records: list[dict], curves: list[pd.DataFrame], arm_of: dict[str, str]) -> pd.DataFrame:
    """One row per logged point of every run: arm, width, n_params, seed, data_size, noise, step,
    test_error, ….

    `records` are the runs' run.json (run id, width, seed, num_params, and data_size and noise
    where the run has them: 0 is the whole, clean training set), `curves` their curve files,
    `arm_of` maps a recipe name to its arm (one optimiser, learning rate and loss).
    """
    parts = [c.assign(arm=arm_of[r["recipe"]], width=r["width"], n_params=r["num_params"], seed=r["seed"],
                      data_size=r.get("data_size", 0), noise=r.get("noise", 0.0))
             for r, c in zip(records, curves)]
    cols = ["arm", "width", "n_params", "seed", "data_size", "noise", "step", "epoch", "test_error", "test_loss",
            "train_error", "train_loss"]
    return pd.concat(parts, ignore_index=True)[cols] if parts else pd.DataFrame(columns=cols)


def seed_mean_curves(long: pd.DataFrame) -> pd.DataFrame:
    """Per arm and size, the seed-mean test error at each logged step (the figures' curves)."""
    g = long[long["step"] > 0].groupby(["arm", "width", "n_params", "data_size", "noise", "step"], sort=True)
    return g.agg(test_error=("test_error", "mean"), n_seeds=("seed", "nunique")).reset_index()


def summary_table(numbers: dict[str, dict], arm_meta: dict[str, dict]) -> pd.DataFrame:
    """One row per arm: its learning rate and loss, k̂ and CI, γ̂, R²_collapse, MAEs, verdict."""
    rows = []
    for arm, n in numbers.items():
        mae = n.get("mae_points") or {}
        rows.append({
            "arm": arm, **arm_meta[arm], "k_hat": n.get("k_hat"), "ci_lo": n.get("ci_lo"), "ci_hi": n.get("ci_hi"),
            "gamma_hat": n.get("gamma_hat"), "r2_collapse": n.get("r2_collapse"),
            **{f"mae_{m}": mae.get(m) for m in METHODS},
            "interaction_p": n.get("interaction_p"), "verdict": n.get("verdict"), "skipped": n.get("skipped"),
        })
    return pd.DataFrame(rows, columns=["arm", "lr", "loss", "k_hat", "ci_lo", "ci_hi", "gamma_hat", "r2_collapse",
                                       *[f"mae_{m}" for m in METHODS], "interaction_p", "verdict", "skipped"])


def optimiser_control(arms: dict[str, dict], primary: str, controls: list[str]) -> dict:
    """Whether the equivalence breaks under the control optimiser (Adam), by the same verdicts: it
    breaks when the primary SGD arm is supported (in either form) and a control arm is not supported;
    it survives when both are supported; otherwise the runs cannot say (an inconclusive or skipped
    arm on either side). Returns {"breaks": True/False/None, "reason", "arms": {arm: verdict}}."""
    def supported(v):
        return None if v in (None, "inconclusive") else str(v).startswith("supported")

    base = supported((arms.get(primary) or {}).get("verdict"))
    verdicts = {arm: (arms.get(arm) or {}).get("verdict") for arm in controls}
    if not controls:
        return {"breaks": None, "reason": "no control arm", "arms": {}}
    if base is not True:
        return {"breaks": None, "reason": f"the primary arm is {'not supported' if base is False else 'undecided'}",
                "arms": verdicts}
    states = [supported(v) for v in verdicts.values()]
    if any(s is False for s in states):
        return {"breaks": True, "reason": "the primary arm is supported and a control arm is not", "arms": verdicts}
    if all(s is True for s in states):
        return {"breaks": False, "reason": "the primary and every control arm are supported", "arms": verdicts}
    return {"breaks": None, "reason": "a control arm is inconclusive or not analysed", "arms": verdicts}


from .unified_law import analyse_unified_law, peak_time  # noqa: E402,F401  (the unified law's claims, beside the equivalence's)

"""Power laws in the parameter count: err = C·N^−α fitted by OLS in log10–log10 space."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class PowerLawFit:
    alpha: float  # −slope of log10(error) on log10(N)
    coef: float  # C = 10^intercept
    r2: float
    residuals: np.ndarray  # log10(error) − fitted, in the order of the inputs

    def predict(self, n_params) -> np.ndarray:
        return self.coef * np.asarray(n_params, dtype=np.float64) ** (-self.alpha)


MIN_SIZES = 3  # two points always lie on a line: a fit must be able to miss


def fit_refusal(n_params, errors, num_classes: int, min_sizes: int = MIN_SIZES) -> str | None:
    """Why a power law must not be fitted to these errors, or None when it may.

    A fit needs `min_sizes` distinct sizes and every error strictly between 0 (no logarithm) and
    chance, 1 − 1/num_classes (a model at chance learned nothing, and a diverged one sits there).
    """
    n = np.asarray(n_params, dtype=np.float64)
    e = np.asarray(errors, dtype=np.float64)
    sizes = len(np.unique(n))
    if sizes < min_sizes:
        return f"{sizes} size(s) in the sweep; a power-law fit needs at least {min_sizes}"
    chance = 1.0 - 1.0 / num_classes
    reasons = []
    at_chance = ~(e < chance)  # NaN counts as no better than chance
    if at_chance.any():
        reasons.append(f"{int(at_chance.sum())} of {len(e)} sizes are at or above chance error "
                       f"({chance:.3f} for {num_classes} classes), so they learned nothing to fit")
    if (e <= 0).any():
        reasons.append(f"{int((e <= 0).sum())} of {len(e)} sizes have an error of 0, which has no logarithm")
    return "; ".join(reasons) or None


def fit_power_law(n_params, errors) -> PowerLawFit:
    x = np.log10(np.asarray(n_params, dtype=np.float64))
    y = np.log10(np.asarray(errors, dtype=np.float64))
    if len(x) < 2 or len(np.unique(x)) < 2:
        raise ValueError("a power-law fit needs at least two distinct sizes")
    if not np.all(np.isfinite(y)):
        raise ValueError("a power-law fit needs errors strictly between 0 and 1")
    slope, intercept = np.polyfit(x, y, 1)
    fitted = intercept + slope * x
    ss_res = float(((y - fitted) ** 2).sum())
    ss_tot = float(((y - y.mean()) ** 2).sum())
    r2 = 1.0 - ss_res / ss_tot if ss_tot > 0 else 1.0
    return PowerLawFit(alpha=float(-slope), coef=float(10**intercept), r2=r2, residuals=y - fitted)


def local_exponents(n_params, errors) -> pd.DataFrame:
    """−Δlog10(error)/Δlog10(N) between adjacent sizes, placed at the geometric mean of the pair."""
    order = np.argsort(n_params)
    n = np.asarray(n_params, dtype=np.float64)[order]
    e = np.asarray(errors, dtype=np.float64)[order]
    return pd.DataFrame({
        "n_lo": n[:-1], "n_hi": n[1:], "n_mid": np.sqrt(n[:-1] * n[1:]),
        "exponent": -np.diff(np.log10(e)) / np.diff(np.log10(n)),
    })


def per_seed_alphas(n_params, error_matrix) -> np.ndarray:
    """α of each seed's own errors; `error_matrix` is sizes × seeds."""
    m = np.asarray(error_matrix, dtype=np.float64)
    return np.array([fit_power_law(n_params, m[:, j]).alpha for j in range(m.shape[1])])


def bootstrap_alpha_ci(n_params, error_matrix, samples: int = 2000, seed: int = 0, level: float = 0.95) -> tuple[float, float]:
    """Percentile CI of α: resample seeds with replacement, average per size, refit."""
    m = np.asarray(error_matrix, dtype=np.float64)
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, m.shape[1], size=(samples, m.shape[1]))
    alphas = np.array([fit_power_law(n_params, m[:, p].mean(axis=1)).alpha for p in picks])
    tail = (1 - level) / 2 * 100
    lo, hi = np.percentile(alphas, [tail, 100 - tail])
    return float(lo), float(hi)

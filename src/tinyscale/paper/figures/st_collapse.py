"""Figure: the scale–time collapse. Left, each size's seed-mean test error against step; right,
the same curves against N^γ̂·t, γ̂ fitted by the analysis (1/3 when there is none).

Also the helpers the scale–time figures share (one colour per size, "22K"/"1.2M" labels, one
arm's rows, boolean columns read back from CSV, the claimed exponent as a fraction).
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pandas as pd

from .style import COLUMN_WIDTH, plt

SIZE_CMAP = "viridis"  # sequential in log N: small sizes dark, large ones light


# ---------------------------------------------------------------------------------------------
# Shared by st_collapse, st_prediction, st_residuals and st_tradeoff


def size_label(n: float) -> str:
    """A parameter count as the legends print it: 22436 → "22K", 1234567 → "1.2M"."""
    n = float(n)
    for scale, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if n >= scale:
            x = n / scale
            text = f"{x:.0f}" if round(x, 1) >= 10 else f"{x:.1f}".removesuffix(".0")
            return text + suffix
    return f"{n:.0f}"


def size_colours(sizes) -> dict[float, tuple]:
    """One colour per size from a sequential colormap, spaced in log N (stops before its lightest end)."""
    sizes = sorted({float(s) for s in sizes})
    cmap = plt.get_cmap(SIZE_CMAP)
    if len(sizes) < 2:
        return {s: cmap(0.0) for s in sizes}
    logs = np.log(sizes)
    pos = 0.85 * (logs - logs[0]) / (logs[-1] - logs[0])
    return {s: cmap(p) for s, p in zip(sizes, pos)}


def arm_rows(frame: pd.DataFrame, arm: str) -> pd.DataFrame:
    """The rows of one arm (all of an empty table or one without the column: none)."""
    if "arm" not in frame.columns or frame.empty:
        return frame.iloc[0:0]
    return frame[frame["arm"].astype(str) == str(arm)]


def as_bool(column: pd.Series) -> pd.Series:
    """A boolean column as written to CSV and read back (bool, or "True"/"False" strings when mixed)."""
    if column.dtype == bool:
        return column
    return column.map(lambda v: str(v).strip().lower() in ("true", "1", "1.0"))


def exponent_text(k: float) -> str:
    """An exponent for a label: 1/3 as "1/3" (a fraction with a small denominator), else 3 digits."""
    f = Fraction(float(k)).limit_denominator(12)
    if f.denominator > 1 and abs(float(f) - k) < 1e-9:
        return f"{f.numerator}/{f.denominator}"
    return f"{k:.3g}"


def note(ax, text: str) -> None:
    """An empty panel that says why it is empty."""
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", fontsize=7, color="0.35", wrap=True)
    ax.grid(False)
    ax.set_xticks([])
    ax.set_yticks([])


def size_curves(curves: pd.DataFrame) -> dict[float, pd.DataFrame]:
    """Per size (ascending), its seed-mean curve with positive steps, sorted by step."""
    out = {}
    for n, g in curves.groupby("n_params", sort=True):
        g = g[(g["step"] > 0) & g["test_error"].notna()].sort_values("step")
        if len(g):
            out[float(n)] = g
    return out


# ---------------------------------------------------------------------------------------------


def plot(tables: dict[str, pd.DataFrame], arm: str):
    curves = size_curves(arm_rows(tables["st_curves"], arm))
    summary = arm_rows(tables["st_summary"], arm)
    gamma = float(summary["gamma_hat"].iloc[0]) if len(summary) and "gamma_hat" in summary else math.nan
    fitted = math.isfinite(gamma)
    if not fitted:
        gamma = 1 / 3

    fig, (raw, col) = plt.subplots(1, 2, figsize=(2 * COLUMN_WIDTH, 2.4), sharey=True)
    colours = size_colours(curves)
    for n, c in curves.items():
        err = 100 * c["test_error"]
        raw.plot(c["step"], err, "-", color=colours[n], label=f"$N$ = {size_label(n)}")
        col.plot(c["step"] * n ** gamma, err, "-", color=colours[n])
    raw.set(xlabel="step $t$", ylabel="test error (%)", title="raw curves")
    if fitted:
        col.set(xlabel=r"$N^{\hat\gamma}\,t$ (steps $\times$ parameters$^{\hat\gamma}$)",
                title=rf"collapsed with fitted $\hat\gamma$ = {gamma:.3f}")
    else:
        col.set(xlabel=rf"$N^{{{exponent_text(gamma)}}}\,t$ (steps $\times$ parameters$^{{{exponent_text(gamma)}}}$)",
                title=rf"no $\hat\gamma$ fitted: collapsed with $\gamma$ = {exponent_text(gamma)}")
    if curves:
        for ax in (raw, col):
            ax.set_xscale("log")
        # outside the data, right of the collapsed panel: one entry per size
        col.legend(*raw.get_legend_handles_labels(), frameon=False, fontsize=6, loc="upper left",
                   bbox_to_anchor=(1.01, 1.0))
    else:
        note(raw, f"no curves for arm {arm}")
        note(col, f"no curves for arm {arm}")
    fig.tight_layout()
    return fig

"""Figure: capacity per bit κ(b)/b of the primary arm (W_b A8) at each storage budget, one series per
weight bit-width. κ(b) = N_eq/N_b, N_eq the fp32 size whose power-law error equals the quantised
model's; at fixed storage the bit-width with the largest κ(b)/b is the best use of a bit."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .pp_storage import PRIMARY, bits_label, bits_style
from .style import COLUMN_WIDTH, arm_rows, as_bool, note, plt


def budget_text(budget) -> str:
    """A budget id for a tick label: 4.0 → "4"."""
    try:
        v = float(budget)
    except (TypeError, ValueError):
        return str(budget)
    return str(int(v)) if v.is_integer() else f"{v:g}"


def plot(tables: dict[str, pd.DataFrame]):
    kappa = arm_rows(tables["pp_kappa"], PRIMARY)
    if len(kappa):
        kappa = kappa[kappa["kappa_per_bit"].notna() & np.isfinite(kappa["kappa_per_bit"].astype(float))]
    fig, ax = plt.subplots(figsize=(COLUMN_WIDTH, 2.3))
    ax.set(xlabel="storage budget (width of the fp32 model)", ylabel=r"capacity per bit $\kappa(b)/b$")
    if not len(kappa):
        note(ax, "no fp32 power law to invert")
        return fig

    budgets = sorted(kappa["budget"].unique(), key=float)
    pos = {b: i for i, b in enumerate(budgets)}
    for bits in sorted(kappa["bits"].unique(), key=lambda b: -int(b)):
        cell = kappa[kappa["bits"] == bits].sort_values("budget", key=lambda s: s.astype(float))
        colour, marker = bits_style(bits)
        xs = cell["budget"].map(pos).to_numpy(dtype=float)
        ys = cell["kappa_per_bit"].to_numpy(dtype=float)
        ax.plot(xs, ys, marker + "-", color=colour, ms=4, lw=1.0, label=bits_label(bits), zorder=3)
        if "extrapolated" in cell.columns:  # N_eq outside the fp32 sweep: hollow
            out = as_bool(cell["extrapolated"]).to_numpy()
            if out.any():
                ax.plot(xs[out], ys[out], marker, color=colour, mfc="white", ms=4, zorder=4)
    ax.set_xticks(range(len(budgets)), [budget_text(b) for b in budgets])
    ax.set_xlim(-0.5, len(budgets) - 0.5)
    if (kappa["kappa_per_bit"] > 0).all():
        ax.set_yscale("log")
    ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    return fig

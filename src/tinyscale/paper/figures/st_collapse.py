"""Figure: the scale–time collapse. Left, each size's seed-mean test error against step; right,
the same curves against N^γ̂·t, γ̂ fitted by the analysis (1/3 when there is none)."""

from __future__ import annotations

import math

import pandas as pd

from .st_common import exponent_text, size_colours, size_curves, size_label
from .style import COLUMN_WIDTH, arm_rows, note, plt


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

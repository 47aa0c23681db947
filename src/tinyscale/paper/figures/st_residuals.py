"""Figure: where the scale–time equivalence breaks. Every logged point's residual from the
master curve of the other sizes (test-error points), against τ = N^γ·t with the claim's γ;
filled markers before the curve's plateau, hollow on it."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from .st_common import exponent_text, size_colours, size_label
from .style import COLUMN_WIDTH, arm_rows, as_bool, note, plt


def shift_exponent(res: pd.DataFrame) -> float | None:
    """The γ of the table's τ = t·N^γ, read back from its own columns (None if it cannot be)."""
    ok = (res["tau"] > 0) & (res["step"] > 0) & (res["n_params"] > 1)
    if not ok.any():
        return None
    g = np.log(res.loc[ok, "tau"] / res.loc[ok, "step"]) / np.log(res.loc[ok, "n_params"])
    return float(np.median(g))


def plot(tables: dict[str, pd.DataFrame], arm: str):
    res = arm_rows(tables["st_collapse_residuals"], arm)
    if len(res):
        res = res[res["residual_points"].notna() & (res["tau"] > 0)]
    gamma = shift_exponent(res) if len(res) else None
    tau = r"$\tau = N^{%s}\,t$" % (exponent_text(gamma) if gamma is not None else r"\gamma")

    fig, ax = plt.subplots(figsize=(COLUMN_WIDTH, 2.5))
    ax.set(xlabel=tau, ylabel="collapse residual (error points)")
    if res.empty:
        note(ax, "no point has a master curve to compare with")
        return fig

    pre = as_bool(res["pre_plateau"])
    colours = size_colours(res["n_params"])
    handles = []
    for n, g in res.groupby("n_params", sort=True):
        c, p = colours[float(n)], pre.loc[g.index]
        g = g.sort_values("tau")
        ax.plot(g["tau"], g["residual_points"], "-", color=c, lw=0.6, alpha=0.5)
        ax.plot(g.loc[p, "tau"], g.loc[p, "residual_points"], "o", color=c, ms=3.5, mew=0)
        ax.plot(g.loc[~p, "tau"], g.loc[~p, "residual_points"], "o", mfc="white", mec=c, ms=3.5, mew=0.9)
        handles.append(Line2D([], [], color=c, marker="o", ls="-", lw=0.6, ms=3, label=f"$N$ = {size_label(n)}"))
    handles += [Line2D([], [], color="0.3", marker="o", ls="none", ms=3, label="before plateau"),
                Line2D([], [], color="0.3", marker="o", mfc="none", ls="none", ms=3, label="plateau")]
    ax.axhline(0, color="k", lw=0.7)
    ax.set_xscale("log")
    ax.legend(handles=handles, frameon=False, fontsize=6, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return fig

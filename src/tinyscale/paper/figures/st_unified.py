"""Figure: the unified law's claims, four panels against model size N: the epoch-wise double-descent
peak t_peak, the model-wise curve (error against N) at a few fixed steps, the noise gap
E(noise) − E(clean), and the smallest training set that reaches the threshold."""

from __future__ import annotations

import pandas as pd

from .style import COLUMN_WIDTH, note, plt

PANELS = (("peak", "epoch-wise peak step"), ("error_at_t", "test error (%)"), ("noise_gap", "noise gap (points)"),
          ("min_data", "training images needed"))


def plot(tables: dict[str, pd.DataFrame]):
    t = tables["st_unified"]
    fig, axes = plt.subplots(2, 2, figsize=(COLUMN_WIDTH, 3.6), sharex=True)
    for ax, (panel, label) in zip(axes.flat, PANELS):
        rows = t[t["panel"] == panel]
        ax.set_ylabel(label, fontsize="small")
        ax.set_xscale("log")
        if rows.empty:
            note(ax, "nothing to show")
            continue
        scale = 100 if panel in ("error_at_t", "noise_gap") else 1
        for series, g in rows.groupby("series", sort=False):
            g = g.sort_values("n_params")
            ax.plot(g["n_params"].to_numpy(dtype=float), g["value"].to_numpy(dtype=float) * scale, "o-", ms=3, lw=1,
                    label=series)
        if panel in ("peak", "min_data"):
            ax.set_yscale("log")
        if rows["series"].nunique() > 1:
            ax.legend(frameon=False, fontsize="xx-small")
    for ax in axes[1]:
        ax.set_xlabel("parameters N", fontsize="small")
    fig.tight_layout()
    return fig

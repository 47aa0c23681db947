"""Figure: forecasts of the released runs' largest sizes from their smaller ones, one panel per family.
Each form's prediction with its interval beside the observed seed-mean error, at the headline split."""

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.ticker import FormatStrFormatter, NullFormatter

from ...analysis.forecast import FORMS, HOLDOUT
from .style import COLUMN_WIDTH, label, marker, plt, present

# one colour per form, none of them a family's (families' colours mark the observed points' markers)
FORM_STYLE = {"power_law": ("#2ca02c", "power law"), "saturating": ("#9467bd", "saturating"), "broken": ("#ff7f0e", "broken")}


def headline_split(fam: pd.DataFrame) -> int:
    """The split that holds out the HOLDOUT largest sizes (or the one holding out the most, if fewer)."""
    held = fam.groupby("k")["params"].nunique()
    at = held[held == HOLDOUT]
    return int(at.index[0]) if len(at) else int(held.idxmax())


def plot(tables: dict[str, pd.DataFrame]):
    bt = tables["forecast_backtest"]
    archs = present(bt) if len(bt) else []
    fig, axes = plt.subplots(1, max(len(archs), 1), figsize=(2 * COLUMN_WIDTH, 2.4), squeeze=False)
    if not archs:
        axes[0, 0].text(0.5, 0.5, "no reference runs", ha="center", va="center", transform=axes[0, 0].transAxes)
        axes[0, 0].set_axis_off()
        return fig
    for ax, arch in zip(axes[0], archs):
        fam = bt[bt["arch"] == arch]
        seen = fam.groupby("params")["observed"].first()
        k = headline_split(fam)
        head = fam[fam["k"] == k]
        edge = head["fit_max_params"].iloc[0]
        ax.plot(seen.index, seen.to_numpy(), marker(arch) + "-", color="k", lw=0.8, ms=3, zorder=3)
        ax.axvspan(seen.index.min() / 1.3, edge, color="0.9", zorder=0)
        for i, form in enumerate(FORMS):
            rows = head[head["form"] == form]
            if rows.empty:
                continue
            shift = 1.06 ** (i - 1)  # side by side at each size, so intervals never hide each other
            c = FORM_STYLE[form][0]
            ax.errorbar(rows["params"] * shift, rows["error"], fmt="D", ms=3, color=c, capsize=2, lw=0.9,
                        yerr=np.vstack([rows["error"] - rows["lo"], rows["hi"] - rows["error"]]))
        ax.set(xscale="log", yscale="log", xlabel="parameters $N$", title=f"{label(arch)}: fitted to $N \\leq$ {edge:,} (shaded)")
        ax.xaxis.set_minor_formatter(NullFormatter())  # minor labels on a short log axis overlap
        ax.yaxis.set_major_formatter(FormatStrFormatter("%.2f"))
        ax.yaxis.set_minor_formatter(FormatStrFormatter("%.2f"))
    axes[0, 0].set_ylabel("test error (fraction)")
    handles = [Line2D([], [], color="k", marker="o", lw=0.8, ms=3)] + [
        Line2D([], [], color=c, marker="D", ls="none", ms=3) for c, _ in FORM_STYLE.values()]
    names = ["observed (seed mean)"] + [name for _, name in FORM_STYLE.values()]
    fig.legend(handles, names, loc="upper center", ncol=4, frameon=False, bbox_to_anchor=(0.5, 1.04))
    fig.tight_layout()
    return fig

"""Figure: expected calibration error against parameters, a peak inside the sweep starred."""

import pandas as pd
from matplotlib.lines import Line2D

from ...analysis.width_sweep import interior_peak
from .style import COLUMN_WIDTH, colour, label, legend_above, marker, plt, present


def plot(tables: dict[str, pd.DataFrame]):
    summary = tables["summary"]
    fig, ax = plt.subplots(figsize=(COLUMN_WIDTH, 2.3))
    starred = False
    for arch in present(summary):
        fam = summary[summary["arch"] == arch].sort_values("params")
        ax.errorbar(fam["params"], fam["ece_mean"], yerr=fam["ece_std"].fillna(0), fmt=marker(arch) + "-", color=colour(arch),
                    capsize=2, label=label(arch))
        at = interior_peak(fam["ece_mean"])  # a maximum at an end of the sweep is no peak
        if at is not None:
            peak = fam.iloc[at]
            ax.plot(peak["params"], peak["ece_mean"], "*", ms=11, color=colour(arch), mec="k", mew=0.5, zorder=4)
            starred = True
    ax.set(xscale="log", xlabel="parameters $N$", ylabel="ECE (fraction)")
    handles, labels = ax.get_legend_handles_labels()
    if starred:
        handles.append(Line2D([], [], marker="*", ls="none", ms=9, color="0.5", mec="k", mew=0.5))
        labels.append("peak")
    legend_above(ax, handles, labels, ncol=3)
    return fig

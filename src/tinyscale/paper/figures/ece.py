"""Figure: expected calibration error against parameters, the peak marked."""

import pandas as pd

from .style import COLUMN_WIDTH, colour, label, plt, present


def plot(tables: dict[str, pd.DataFrame]):
    summary = tables["summary"]
    fig, ax = plt.subplots(figsize=(COLUMN_WIDTH, 2.3))
    for arch in present(summary):
        fam = summary[summary["arch"] == arch].sort_values("params")
        ax.errorbar(fam["params"], fam["ece_mean"], yerr=fam["ece_std"].fillna(0), fmt="o-", color=colour(arch),
                    capsize=2, label=label(arch))
        peak = fam.loc[fam["ece_mean"].idxmax()]
        ax.plot(peak["params"], peak["ece_mean"], "*", ms=11, color=colour(arch), mec="k", mew=0.5)
    ax.set(xscale="log", xlabel="parameters $N$", ylabel="ECE")
    ax.legend(frameon=False, title="★ = peak", title_fontsize=7)
    return fig

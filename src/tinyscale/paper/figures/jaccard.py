"""Figure: error-set Jaccard of each size against its family's largest model."""

import pandas as pd

from .style import COLUMN_WIDTH, colour, label, legend_above, marker, plt, present


def plot(tables: dict[str, pd.DataFrame]):
    jaccard, summary = tables["jaccard"], tables["summary"]
    fig, ax = plt.subplots(figsize=(COLUMN_WIDTH, 2.3))
    for arch in present(summary):
        fam = summary[summary["arch"] == arch]
        largest = fam.loc[fam["params"].idxmax(), "width"]
        j = jaccard[(jaccard["arch"] == arch) & (jaccard["width_b"] == largest) & (jaccard["width_a"] != largest)]
        j = j.merge(fam[["width", "params"]], left_on="width_a", right_on="width").sort_values("params")
        if len(j):
            ax.errorbar(j["params"], j["mean"], yerr=j["std"].fillna(0), fmt=marker(arch) + "-", color=colour(arch),
                        capsize=2, label=f"{label(arch)} vs largest")
    ax.set(xscale="log", xlabel="parameters $N$", ylabel="Jaccard of error sets")
    legend_above(ax)
    return fig

"""Figure: Gini of per-class accuracy and bottom-k class accuracy against parameters."""

import pandas as pd
from matplotlib.lines import Line2D

from .style import COLUMN_WIDTH, colour, label, legend_above, marker, plt, present

LINE_STYLES = ["-", "--", ":", "-."]  # one per k; colour and marker stay the family's


def plot(tables: dict[str, pd.DataFrame], bottom_k: list[int]):
    spec, summary = tables["specialisation"], tables["summary"]
    # the analysis keeps only the k below the number of classes (larger k repeat the mean)
    ks = [k for k in bottom_k if f"bottom{k}" in spec.columns]
    fig, (g, b) = plt.subplots(1, 2, figsize=(2 * COLUMN_WIDTH, 2.3))
    archs = present(summary)
    for arch in archs:
        s = spec[spec["arch"] == arch].merge(summary[["arch", "width", "params"]], on=["arch", "width"]).sort_values("params")
        g.plot(s["params"], s["gini"], marker(arch) + "-", color=colour(arch), label=label(arch))
        for k, ls in zip(ks, LINE_STYLES):
            b.plot(s["params"], s[f"bottom{k}"], marker(arch) + ls, color=colour(arch))
    g.set(xscale="log", xlabel="parameters $N$", ylabel="Gini of per-class accuracy")
    b.set(xscale="log", xlabel="parameters $N$", ylabel="mean accuracy of\nthe $k$ hardest classes")
    legend_above(g, ncol=3)
    kinds = [Line2D([], [], color="0.3", ls=ls, label=f"$k$ = {k}") for k, ls in zip(ks, LINE_STYLES)]
    if kinds:
        legend_above(b, kinds, [h.get_label() for h in kinds], ncol=4)
    else:
        b.text(0.5, 0.5, "no k below the number of classes", transform=b.transAxes, ha="center", fontsize=7, color="0.35")
    fig.tight_layout()
    return fig

"""Figure: Gini of per-class accuracy and bottom-k class accuracy against parameters."""

import pandas as pd

from .style import COLUMN_WIDTH, colour, label, plt, present


def plot(tables: dict[str, pd.DataFrame], bottom_k: list[int]):
    spec, summary = tables["specialisation"], tables["summary"]
    fig, (g, b) = plt.subplots(1, 2, figsize=(2 * COLUMN_WIDTH, 2.3))
    styles = ["o-", "s--", "^:"]
    for arch in present(summary):
        s = spec[spec["arch"] == arch].merge(summary[["arch", "width", "params"]], on=["arch", "width"]).sort_values("params")
        g.plot(s["params"], s["gini"], "o-", color=colour(arch), label=label(arch))
        for k, st in zip(bottom_k, styles):
            b.plot(s["params"], s[f"bottom{k}"], st, color=colour(arch), label=f"{label(arch)} bottom-{k}")
    g.set(xscale="log", xlabel="parameters $N$", ylabel="Gini of per-class accuracy")
    b.set(xscale="log", xlabel="parameters $N$", ylabel="mean accuracy of $k$ hardest classes")
    g.legend(frameon=False)
    b.legend(frameon=False, ncol=2, fontsize=6)
    return fig

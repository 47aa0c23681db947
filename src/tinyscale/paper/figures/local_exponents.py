"""Figure: local scaling exponents between adjacent sizes, against Kaplan et al.'s α."""

import pandas as pd

from .style import COLUMN_WIDTH, colour, label, legend_above, marker, plt, present


def plot(tables: dict[str, pd.DataFrame], kaplan_alpha: float):
    local = tables["local_exponents"]
    fig, ax = plt.subplots(figsize=(COLUMN_WIDTH, 2.3))
    for arch in present(local):
        le = local[local["arch"] == arch]
        ax.plot(le["n_mid"], le["exponent"], marker(arch) + "-", color=colour(arch), label=label(arch))
    ax.axhline(kaplan_alpha, color="gray", ls="--", lw=0.9, label=rf"Kaplan et al. $\alpha={kaplan_alpha}$")
    ax.axhline(0, color="k", lw=0.5)
    ax.set(xscale="log", xlabel="parameters $N$ (geometric midpoint of a pair)", ylabel="local exponent")
    legend_above(ax)
    return fig

"""Figure: reliability diagrams of the smallest, a mid-size and the largest model of each family."""

import numpy as np
import pandas as pd

from ... import families
from .style import COLUMN_WIDTH, colour, label, plt, present


def picks(summary: pd.DataFrame) -> list[tuple[str, float]]:
    """The smallest, a mid-size and the largest configuration of each family."""
    out = []
    for arch in present(summary):
        fam = summary[summary["arch"] == arch].sort_values("params")["width"].tolist()
        out += [(arch, w) for w in dict.fromkeys([fam[0], fam[len(fam) // 2], fam[-1]])]
    return out


def plot(tables: dict[str, pd.DataFrame]):
    bins, summary = tables["reliability"], tables["summary"]
    chosen = picks(summary)
    cols = 3
    rows = int(np.ceil(len(chosen) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(2 * COLUMN_WIDTH, 2.1 * rows), squeeze=False, sharey=True)
    for ax, (arch, width) in zip(axes.flat, chosen):
        b = bins[(bins["arch"] == arch) & (bins["width"] == width)]
        agg = b.groupby(["lo", "hi"], as_index=False).apply(
            lambda g: pd.Series({"count": g["count"].sum(),
                                 "accuracy": np.average(g["accuracy"].fillna(0), weights=g["count"]) if g["count"].sum() else np.nan,
                                 "confidence": np.average(g["confidence"].fillna(0), weights=g["count"]) if g["count"].sum() else np.nan}),
            include_groups=False)
        mid = (agg["lo"] + agg["hi"]) / 2
        ax.bar(mid, agg["accuracy"].fillna(0), width=agg["hi"] - agg["lo"], color=colour(arch), alpha=0.7,
               edgecolor="k", linewidth=0.3, label="accuracy")
        ax.plot([0, 1], [0, 1], "k--", lw=0.7, label="perfect calibration")
        ax.set(xlim=(0, 1), ylim=(0, 1), title=f"{label(arch)} {families.get(arch).width_label(width)}", xlabel="confidence (max. softmax)")
    for ax in axes.flat[len(chosen):]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel("accuracy")
    fig.tight_layout()
    # above the panels, where it covers no bar
    fig.legend(*axes.flat[0].get_legend_handles_labels(), loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2,
               frameon=False)
    return fig

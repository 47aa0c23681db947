"""Figure: seed-averaged per-class accuracy, sizes × classes sorted by difficulty (the first family)."""

import pandas as pd
import seaborn as sns

from ...analysis.width_sweep import class_means
from .style import COLUMN_WIDTH, label, plt, present


def plot(tables: dict[str, pd.DataFrame]):
    per_class, summary = tables["per_class"], tables["summary"]
    arch = present(summary)[0]  # ScaleCNN where the sweep has it, as the original
    means = class_means(per_class[per_class["arch"] == arch]).droplevel("arch")
    order = means.mean(axis=0).sort_values().index  # hardest class first
    fig, ax = plt.subplots(figsize=(2 * COLUMN_WIDTH, 0.25 * len(means) + 0.9))
    sns.heatmap(means[order], ax=ax, cmap="viridis", vmin=0, vmax=1, xticklabels=False,
                cbar_kws={"label": "class accuracy", "pad": 0.01})
    ax.set(xlabel=f"{len(order)} classes, sorted by mean accuracy (hardest left)", ylabel=f"{label(arch)} width")
    ax.set_yticklabels([f"{float(w):g}" for w in means.index], rotation=0)
    return fig

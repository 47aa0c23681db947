"""Figure: the precision study on each task. One panel per arm (task × architecture): its metric
against weight storage, one line per weight bit-width through the arm's budgets (primary arm)."""

from __future__ import annotations

import pandas as pd

from .pp_storage import PRIMARY, bits_label, bits_style
from .style import COLUMN_WIDTH, arm_rows, note, plt


def plot(tables: dict[str, pd.DataFrame]):
    budgets, arms = tables["pp_task_budgets"], tables["pp_tasks"]
    keys = list(dict.fromkeys(arms["arm_key"])) if len(arms) else []
    fig, axes = plt.subplots(1, max(len(keys), 1), figsize=(COLUMN_WIDTH, 2.3), squeeze=False)
    if not keys:
        note(axes[0, 0], "no precision arms")
        return fig
    for ax, key in zip(axes[0], keys):
        meta = arms[arms["arm_key"] == key].iloc[0]
        percent = meta["metric"] == "top-1 error"
        rows = arm_rows(budgets[budgets["arm_key"] == key], PRIMARY)
        rows = rows[rows["storage_bits"].notna() & rows["error_mean"].notna()] if len(rows) else rows
        ax.set_title(f"{meta['family']}, {meta['task']}", fontsize="small")
        ax.set(xlabel="weight storage (bits)", ylabel="test error (%)" if percent else str(meta["metric"]))
        if not len(rows):
            note(ax, "no runs")
            continue
        for bits in sorted(rows["bits"].unique(), key=lambda b: -int(b)):
            cell = rows[rows["bits"] == bits].sort_values("storage_bits")
            colour, marker = bits_style(bits)
            ax.plot(cell["storage_bits"].to_numpy(dtype=float), cell["error_mean"].to_numpy(dtype=float) * (100 if percent else 1),
                    marker + "-", color=colour, ms=4, lw=1.0, label=bits_label(bits))
        ax.set_xscale("log")
    axes[0, -1].legend(frameon=False, fontsize="x-small", loc="best")
    fig.tight_layout()
    return fig

"""Figure: parameters vs precision at equal storage. Test error against weight storage (or MACs),
one line per weight bit-width through the budgets, the lower envelope (Pareto front) marked in grey.
The primary arm (W_b A8) is solid; the secondary arm (W_b A_b), when present, dashed and lighter."""

from __future__ import annotations

import pandas as pd

from .style import COLUMN_WIDTH, arm_rows, as_bool, note, plt

PRIMARY, SECONDARY = "a8", "ab"
# One colour and marker per weight bit-width, the same in every precision figure.
BITS_STYLE = {32: ("#1f77b4", "o"), 8: ("#2ca02c", "s"), 4: ("#ff7f0e", "^"), 2: ("#d62728", "D")}
OTHER_STYLE = ("0.4", "x")
X_LABELS = {"storage_bits": "weight storage (bits)", "macs": "multiply-accumulates per image"}





def bits_style(bits) -> tuple[str, str]:
    """(colour, marker) of a weight bit-width."""
    return BITS_STYLE.get(int(bits), OTHER_STYLE)


def bits_label(bits) -> str:
    return "fp32" if int(bits) == 32 else f"{int(bits)}-bit"


def _same_models(cell: pd.DataFrame, primary: pd.DataFrame) -> bool:
    """Whether a secondary-arm line repeats the primary's models (same activation bits at every budget)."""
    if not len(primary) or "act_bits" not in cell.columns:
        return False
    a = cell.set_index("budget")["act_bits"]
    b = primary.set_index("budget")["act_bits"]
    return set(a.index) <= set(b.index) and bool((a == b.reindex(a.index)).all())


def plot(tables: dict[str, pd.DataFrame], x: str):
    if x not in X_LABELS:
        raise ValueError(f"pp_storage: x must be one of {sorted(X_LABELS)}, got {x!r}")
    budgets = tables["pp_budgets"]
    fig, ax = plt.subplots(figsize=(COLUMN_WIDTH, 2.4))
    ax.set(xlabel=X_LABELS[x], ylabel="test error (%)")
    primary = arm_rows(budgets, PRIMARY)
    if len(primary):
        primary = primary[primary[x].notna() & primary["error_mean"].notna()]
    if not len(primary):
        note(ax, "no precision runs")
        return fig

    for arm, faint in ((PRIMARY, False), (SECONDARY, True)):
        rows = arm_rows(budgets, arm)
        rows = rows[rows[x].notna() & rows["error_mean"].notna()] if len(rows) else rows
        for bits in sorted(rows["bits"].unique(), key=lambda b: -int(b)) if len(rows) else []:
            cell = rows[rows["bits"] == bits].sort_values(x)
            if faint and _same_models(cell, primary[primary["bits"] == bits]):
                continue  # fp32 and W8A8 are the same models in both arms: drawn once, in the primary
            colour, marker = bits_style(bits)
            std = cell["error_std"].fillna(0).to_numpy(dtype=float) * 100 if "error_std" in cell else None
            ax.errorbar(cell[x].to_numpy(dtype=float), cell["error_mean"].to_numpy(dtype=float) * 100, yerr=std,
                        fmt=marker + ("--" if faint else "-"), color=colour, alpha=0.45 if faint else 1.0,
                        mfc="white" if faint else colour, capsize=2, ms=4, lw=1.0,
                        label=f"{bits_label(bits)}" + (" (W$_b$A$_b$)" if faint else ""), zorder=3)

    flag = f"on_front_{x}"
    if flag in primary.columns:
        front = primary[as_bool(primary[flag])].sort_values(x)
        if len(front):
            ax.plot(front[x].to_numpy(dtype=float), front["error_mean"].to_numpy(dtype=float) * 100, "-",
                    color="0.6", lw=4, alpha=0.5, solid_capstyle="round", zorder=1, label="lower envelope")

    ax.set_xscale("log")
    handles, labels = ax.get_legend_handles_labels()
    order = sorted(range(len(labels)), key=lambda i: labels[i] == "lower envelope")  # the envelope last
    ax.legend([handles[i] for i in order], [labels[i] for i in order], frameon=False, loc="upper left",
              bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    return fig

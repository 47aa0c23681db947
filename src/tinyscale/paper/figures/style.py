"""The look every figure shares: matplotlib settings, family colours and markers, deterministic PDFs."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

from ... import families
from ...io import atomic_path

COLUMN_WIDTH = 3.4  # inches: one column of a two-column paper

plt.rcParams.update({
    "font.size": 8, "axes.titlesize": 8, "axes.labelsize": 8, "legend.fontsize": 7,
    "xtick.labelsize": 7, "ytick.labelsize": 7, "lines.linewidth": 1.2, "lines.markersize": 4,
    "pdf.fonttype": 42, "axes.grid": True, "grid.alpha": 0.3,
})


def colour(family: str) -> str:
    """One colour per family, in every figure of every study (the family registry's)."""
    return families.get(family).colour


def marker(family: str) -> str:
    """One marker per family, in every figure of every study (the family registry's)."""
    return families.get(family).marker


def label(family: str) -> str:
    return families.get(family).label


def legend_above(ax, handles=None, labels=None, ncol: int = 2):
    """The legend above the axes, outside the plotting area, so that it never covers a point."""
    if handles is None:
        handles, labels = ax.get_legend_handles_labels()
    if not handles:
        return None
    return ax.legend(handles, labels, loc="lower left", bbox_to_anchor=(0.0, 1.02), ncol=min(ncol, len(handles)),
                     frameon=False, borderaxespad=0.0, columnspacing=1.0, handlelength=1.8)


def present(frame: pd.DataFrame, column: str = "arch") -> list[str]:
    """The registered families present in `frame`, in registry order."""
    have = set(frame[column])
    return [name for name in families.FAMILIES if name in have]


def arm_rows(frame: pd.DataFrame, arm: str) -> pd.DataFrame:
    """The rows of one arm of a study (none of an empty table or one without the column)."""
    if "arm" not in frame.columns or frame.empty:
        return frame.iloc[0:0]
    return frame[frame["arm"].astype(str) == str(arm)]


def as_bool(column: pd.Series) -> pd.Series:
    """A flag column as read back from CSV (bool, or "True"/"False" strings when mixed)."""
    if column.dtype == bool:
        return column
    return column.map(lambda v: str(v).strip().lower() in ("true", "1", "1.0"))


def note(ax, text: str) -> None:
    """An empty panel that says why it is empty."""
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", fontsize=7, color="0.35", wrap=True)
    ax.grid(False)
    ax.set_xticks([])
    ax.set_yticks([])


def save(fig, path: str | Path, png: str | Path | None = None) -> None:
    """Write a PDF without a creation date, so the same data gives the same bytes; and, when asked,
    a PNG of the same drawing (for the HTML report, whose browsers show images but not PDFs inline)."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="pdf", bbox_inches="tight", metadata={"CreationDate": None, "Creator": "tinyscale"})
    if png is not None:
        with atomic_path(png) as tmp:
            fig.savefig(tmp, format="png", dpi=150, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)

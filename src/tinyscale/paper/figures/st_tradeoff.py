"""Figure: the scale–time trade-off. For each error threshold ε that every size reaches, the
fewest steps to reach it against parameters (log–log), with the claim's slope −k for reference."""

from __future__ import annotations

import matplotlib as mpl
import numpy as np
import pandas as pd

from .st_common import exponent_text
from .style import COLUMN_WIDTH, arm_rows, as_bool, note, plt

EPS_CMAP = "plasma"  # sequential over ε; a different map from the sizes' so the two never read alike


def plot(tables: dict[str, pd.DataFrame], arm: str, k_claim: float):
    t = arm_rows(tables["st_t_min"], arm)
    if len(t):
        t = t[as_bool(t["used"]) & t["t_min"].notna() & (t["t_min"] > 0)]
    eps_used = sorted(t["eps"].unique()) if len(t) else []

    fig, ax = plt.subplots(figsize=(COLUMN_WIDTH, 2.6))
    ax.set(xlabel="parameters $N$", ylabel=r"steps to reach $\varepsilon$")
    if not eps_used:
        note(ax, "no threshold reached by every size")
        return fig

    lo, hi = min(eps_used), max(eps_used)
    norm = mpl.colors.Normalize(vmin=lo - 0.01 if lo == hi else lo, vmax=hi + 0.01 if lo == hi else hi)
    cmap = plt.get_cmap(EPS_CMAP)
    for e in eps_used:
        cell = t[t["eps"] == e].sort_values("n_params")
        ax.plot(cell["n_params"], cell["t_min"], "o-", color=cmap(norm(e)), ms=3, lw=1.0)

    # The claim's slope, through the geometric centre of the median threshold's points.
    mid = t[t["eps"] == eps_used[len(eps_used) // 2]]
    n_c, t_c = np.exp(np.log(mid["n_params"]).mean()), np.exp(np.log(mid["t_min"]).mean())
    n = np.geomspace(t["n_params"].min(), t["n_params"].max(), 20)
    ax.plot(n, t_c * (n / n_c) ** (-k_claim), "k--", lw=1.0, label=rf"slope $-{exponent_text(k_claim)}$ (claim)")

    ax.set(xscale="log", yscale="log")
    # labelled ticks at 1, 2 and 5 per decade, unlabelled minor ones: the defaults crowd a narrow range
    ax.xaxis.set_major_locator(mpl.ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_minor_formatter(mpl.ticker.NullFormatter())
    ax.legend(frameon=False, loc="lower left", bbox_to_anchor=(0.0, 1.0), borderaxespad=0.2)
    bar = fig.colorbar(mpl.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax, pad=0.02)
    bar.set_label(r"threshold $\varepsilon$ (test error)")
    bar.set_ticks(eps_used if len(eps_used) <= 8 else np.linspace(lo, hi, 5))
    bar.ax.tick_params(labelsize=6)
    bar.ax.yaxis.set_major_formatter(mpl.ticker.FormatStrFormatter("%.2f"))
    return fig

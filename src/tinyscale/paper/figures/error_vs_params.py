"""Figure: test error against parameters (log-log): every seed, seed means, fits, residuals."""

import numpy as np
import pandas as pd

from .style import COLUMN_WIDTH, colour, label, legend_above, marker, plt, present


def plot(tables: dict[str, pd.DataFrame]):
    runs, summary, fits = tables["runs"], tables["summary"], tables["fits"]
    fig, (ax, res) = plt.subplots(2, 1, figsize=(COLUMN_WIDTH, 3.6), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    for arch in present(summary):
        c, m, fam = colour(arch), marker(arch), summary[summary["arch"] == arch]
        r = runs[runs["arch"] == arch]
        ax.scatter(r["params"], r["error"], s=6, color=c, marker=m, alpha=0.35, linewidths=0)
        ax.plot(fam["params"], fam["error_mean"], m, color=c, label=label(arch))
        fit = fits[fits["arch"] == arch]
        if "alpha" in fits and len(fit) and pd.notna(fit.iloc[0]["alpha"]):
            f = fit.iloc[0]
            n = np.geomspace(fam["params"].min(), fam["params"].max(), 50)
            ax.plot(n, f["coef"] * n ** (-f["alpha"]), "-", color=c, label=rf"fit $\alpha={f['alpha']:.3f}$")
            resid = np.log10(fam["error_mean"]) - np.log10(f["coef"] * fam["params"] ** (-f["alpha"]))
            res.plot(fam["params"], resid, m + "-", color=c)
    ax.set(xscale="log", yscale="log", ylabel="test error (fraction)")
    legend_above(ax)
    res.axhline(0, color="k", lw=0.6)
    res.set(xscale="log", xlabel="parameters $N$", ylabel="log$_{10}$ resid.")
    return fig

"""The paper's figures, one function each, from the analysis tables. Deterministic PDFs."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from .analysis import FAMILY_LABELS  # noqa: E402

# One colour per family, everywhere.
COLORS = {"scalecnn": "#1f77b4", "mobilenetv2": "#d62728"}
COLUMN_WIDTH = 3.4  # inches: one column of a two-column paper

plt.rcParams.update({
    "font.size": 8, "axes.titlesize": 8, "axes.labelsize": 8, "legend.fontsize": 7,
    "xtick.labelsize": 7, "ytick.labelsize": 7, "lines.linewidth": 1.2, "lines.markersize": 4,
    "pdf.fonttype": 42, "axes.grid": True, "grid.alpha": 0.3,
})


def save(fig, path: str | Path) -> None:
    """Write a PDF without a creation date, so the same data gives the same bytes."""
    from .io import atomic_path

    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="pdf", bbox_inches="tight", metadata={"CreationDate": None, "Creator": "tinyscale"})
    plt.close(fig)


def _families(summary: pd.DataFrame) -> list[str]:
    return [a for a in FAMILY_LABELS if a in set(summary["arch"])]


def error_vs_params(runs: pd.DataFrame, summary: pd.DataFrame, fits: pd.DataFrame):
    fig, (ax, res) = plt.subplots(2, 1, figsize=(COLUMN_WIDTH, 3.6), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    for arch in _families(summary):
        c, fam = COLORS[arch], summary[summary["arch"] == arch]
        r = runs[runs["arch"] == arch]
        ax.scatter(r["params"], r["error"], s=6, color=c, alpha=0.35, linewidths=0)
        ax.plot(fam["params"], fam["error_mean"], "o", color=c, label=FAMILY_LABELS[arch])
        fit = fits[fits["arch"] == arch]
        if "alpha" in fits and len(fit) and pd.notna(fit.iloc[0]["alpha"]):
            f = fit.iloc[0]
            n = np.geomspace(fam["params"].min(), fam["params"].max(), 50)
            ax.plot(n, f["coef"] * n ** (-f["alpha"]), "-", color=c, label=rf"fit $\alpha={f['alpha']:.3f}$")
            resid = np.log10(fam["error_mean"]) - np.log10(f["coef"] * fam["params"] ** (-f["alpha"]))
            res.plot(fam["params"], resid, "o-", color=c)
    ax.set(xscale="log", yscale="log", ylabel="test error")
    ax.legend(frameon=False)
    res.axhline(0, color="k", lw=0.6)
    res.set(xscale="log", xlabel="parameters $N$", ylabel="log$_{10}$ resid.")
    return fig


def local_exponents(local: pd.DataFrame, kaplan_alpha: float):
    fig, ax = plt.subplots(figsize=(COLUMN_WIDTH, 2.3))
    for arch in [a for a in FAMILY_LABELS if a in set(local["arch"])]:
        le = local[local["arch"] == arch]
        ax.plot(le["n_mid"], le["exponent"], "o-", color=COLORS[arch], label=FAMILY_LABELS[arch])
    ax.axhline(kaplan_alpha, color="gray", ls="--", lw=0.9, label=rf"Kaplan et al. $\alpha={kaplan_alpha}$")
    ax.axhline(0, color="k", lw=0.5)
    ax.set(xscale="log", xlabel="parameters (geometric midpoint)", ylabel="local exponent")
    ax.legend(frameon=False)
    return fig


def jaccard_vs_largest(jaccard: pd.DataFrame, summary: pd.DataFrame):
    fig, ax = plt.subplots(figsize=(COLUMN_WIDTH, 2.3))
    for arch in _families(summary):
        fam = summary[summary["arch"] == arch]
        largest = fam.loc[fam["params"].idxmax(), "width"]
        j = jaccard[(jaccard["arch"] == arch) & (jaccard["width_b"] == largest) & (jaccard["width_a"] != largest)]
        j = j.merge(fam[["width", "params"]], left_on="width_a", right_on="width").sort_values("params")
        if len(j):
            ax.errorbar(j["params"], j["mean"], yerr=j["std"].fillna(0), fmt="o-", color=COLORS[arch],
                        capsize=2, label=f"{FAMILY_LABELS[arch]} vs largest")
    ax.set(xscale="log", xlabel="parameters $N$", ylabel="Jaccard of error sets")
    ax.legend(frameon=False)
    return fig


def class_heatmap(per_class: pd.DataFrame, summary: pd.DataFrame, arch: str = "scalecnn"):
    from .analysis import class_means

    means = class_means(per_class[per_class["arch"] == arch]).droplevel("arch")
    order = means.mean(axis=0).sort_values().index  # hardest class first
    fig, ax = plt.subplots(figsize=(2 * COLUMN_WIDTH, 0.25 * len(means) + 0.9))
    sns.heatmap(means[order], ax=ax, cmap="viridis", vmin=0, vmax=1, xticklabels=False,
                cbar_kws={"label": "class accuracy", "pad": 0.01})
    ax.set(xlabel=f"{len(order)} classes, sorted by mean accuracy (hardest left)", ylabel=f"{FAMILY_LABELS[arch]} width")
    ax.set_yticklabels([f"{float(w):g}" for w in means.index], rotation=0)
    return fig


def specialisation(spec: pd.DataFrame, summary: pd.DataFrame, bottom_k=(5, 10, 20)):
    fig, (g, b) = plt.subplots(1, 2, figsize=(2 * COLUMN_WIDTH, 2.3))
    styles = ["o-", "s--", "^:"]
    for arch in _families(summary):
        s = spec[spec["arch"] == arch].merge(summary[["arch", "width", "params"]], on=["arch", "width"]).sort_values("params")
        g.plot(s["params"], s["gini"], "o-", color=COLORS[arch], label=FAMILY_LABELS[arch])
        for k, st in zip(bottom_k, styles):
            b.plot(s["params"], s[f"bottom{k}"], st, color=COLORS[arch], label=f"{FAMILY_LABELS[arch]} bottom-{k}")
    g.set(xscale="log", xlabel="parameters $N$", ylabel="Gini of per-class accuracy")
    b.set(xscale="log", xlabel="parameters $N$", ylabel="mean accuracy of $k$ hardest classes")
    g.legend(frameon=False)
    b.legend(frameon=False, ncol=2, fontsize=6)
    return fig


def ece_vs_params(summary: pd.DataFrame):
    fig, ax = plt.subplots(figsize=(COLUMN_WIDTH, 2.3))
    for arch in _families(summary):
        fam = summary[summary["arch"] == arch].sort_values("params")
        ax.errorbar(fam["params"], fam["ece_mean"], yerr=fam["ece_std"].fillna(0), fmt="o-", color=COLORS[arch],
                    capsize=2, label=FAMILY_LABELS[arch])
        peak = fam.loc[fam["ece_mean"].idxmax()]
        ax.plot(peak["params"], peak["ece_mean"], "*", ms=11, color=COLORS[arch], mec="k", mew=0.5)
    ax.set(xscale="log", xlabel="parameters $N$", ylabel="ECE")
    ax.legend(frameon=False, title="★ = peak", title_fontsize=7)
    return fig


def reliability_picks(summary: pd.DataFrame) -> list[tuple[str, float]]:
    """The smallest, a mid-size and the largest configuration of each family."""
    picks = []
    for arch in _families(summary):
        fam = summary[summary["arch"] == arch].sort_values("params")["width"].tolist()
        picks += [(arch, w) for w in dict.fromkeys([fam[0], fam[len(fam) // 2], fam[-1]])]
    return picks


def reliability(bins: pd.DataFrame, summary: pd.DataFrame):
    from .paper import width_label

    picks = reliability_picks(summary)
    cols = 3
    rows = int(np.ceil(len(picks) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(2 * COLUMN_WIDTH, 2.1 * rows), squeeze=False, sharey=True)
    for ax, (arch, width) in zip(axes.flat, picks):
        b = bins[(bins["arch"] == arch) & (bins["width"] == width)]
        agg = b.groupby(["lo", "hi"], as_index=False).apply(
            lambda g: pd.Series({"count": g["count"].sum(),
                                 "accuracy": np.average(g["accuracy"].fillna(0), weights=g["count"]) if g["count"].sum() else np.nan,
                                 "confidence": np.average(g["confidence"].fillna(0), weights=g["count"]) if g["count"].sum() else np.nan}),
            include_groups=False)
        mid = (agg["lo"] + agg["hi"]) / 2
        ax.bar(mid, agg["accuracy"].fillna(0), width=agg["hi"] - agg["lo"], color=COLORS[arch], alpha=0.7,
               edgecolor="k", linewidth=0.3, label="accuracy")
        ax.plot([0, 1], [0, 1], "k--", lw=0.7, label="perfect calibration")
        ax.set(xlim=(0, 1), ylim=(0, 1), title=f"{FAMILY_LABELS[arch]} {width_label(arch, width)}", xlabel="confidence")
    for ax in axes.flat[len(picks):]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel("accuracy")
    axes.flat[0].legend(frameon=False, loc="upper left")
    fig.tight_layout()
    return fig

"""Figure: leave-one-size-out prediction under the claim. For each size with a smaller and a
larger neighbour, its seed-mean curve (solid) and the curve its neighbours predict by reading
their own curves at t·(N_target/N_neighbour)^γ with γ = the claimed exponent (dashed)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from ...analysis.scale_time import predict_curve
from .st_common import exponent_text, size_colours, size_curves, size_label
from .style import COLUMN_WIDTH, arm_rows, note, plt

PER_ROW = 4


def targets(sizes: list[float]) -> list[tuple[float, list[float]]]:
    """(size, its neighbours) for every interior size; if there is none, every size with a neighbour."""
    sizes = sorted(sizes)
    pairs = [(n, [sizes[i + d] for d in (-1, 1) if 0 <= i + d < len(sizes)]) for i, n in enumerate(sizes)]
    interior = [(n, nb) for n, nb in pairs if len(nb) == 2]
    return interior or [(n, nb) for n, nb in pairs if nb]


def predicted(curves: dict[float, pd.DataFrame], target: float, neighbours: list[float], gamma: float) -> np.ndarray:
    """The neighbours' mean prediction at the target's steps; NaN where any neighbour has none
    (the points leave-one-size-out scores)."""
    at = curves[target]["step"].to_numpy(float)
    preds = [predict_curve(curves[m]["step"].to_numpy(float), curves[m]["test_error"].to_numpy(float), m, target,
                           gamma, at_steps=at) for m in neighbours]
    return np.mean(preds, axis=0)


def plot(tables: dict[str, pd.DataFrame], arm: str, k_claim: float):
    curves = size_curves(arm_rows(tables["st_curves"], arm))
    chosen = targets(list(curves))
    k = exponent_text(k_claim)
    if not chosen:
        fig, ax = plt.subplots(figsize=(COLUMN_WIDTH, 2.2))
        ax.set(xlabel="step $t$", ylabel="test error (%)")
        note(ax, "fewer than two sizes: nothing to predict from")
        return fig

    cols = min(PER_ROW, len(chosen))
    rows = math.ceil(len(chosen) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(2 * COLUMN_WIDTH, 0.3 + 1.9 * rows), squeeze=False, sharey=True)
    colours = size_colours(curves)
    for ax, (n, neighbours) in zip(axes.flat, chosen):
        c = curves[n]
        ax.plot(c["step"], 100 * c["test_error"], "-", color=colours[n])
        ax.plot(c["step"], 100 * predicted(curves, n, neighbours, k_claim), "--", color="k", lw=1.0)
        ax.set(xscale="log", xlabel="step $t$", title=f"$N$ = {size_label(n)}")  # neighbours: the adjacent sizes
    for ax in axes.flat[len(chosen):]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel("test error (%)")
    fig.tight_layout()
    # one legend above the panels, where it covers no curve
    fig.legend([Line2D([], [], color="0.4"), Line2D([], [], color="k", ls="--", lw=1.0)],
               ["actual (seed mean)", rf"neighbours read at $t\,(N/N_\mathrm{{neighbour}})^{{{k}}}$, averaged"],
               loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, frameon=False)
    return fig

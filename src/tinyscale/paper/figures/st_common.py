"""What the scale–time figures share: size labels and colours, one arm's rows, a note on an empty axis."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pandas as pd

from .style import plt

SIZE_CMAP = "viridis"  # sequential in log N: small sizes dark, large ones light

def size_label(n: float) -> str:
    """A parameter count as the legends print it: 22436 → "22K", 1234567 → "1.2M"."""
    n = float(n)
    for scale, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if n >= scale:
            x = n / scale
            text = f"{x:.0f}" if round(x, 1) >= 10 else f"{x:.1f}".removesuffix(".0")
            return text + suffix
    return f"{n:.0f}"


def size_colours(sizes) -> dict[float, tuple]:
    """One colour per size from a sequential colormap, spaced in log N (stops before its lightest end)."""
    sizes = sorted({float(s) for s in sizes})
    cmap = plt.get_cmap(SIZE_CMAP)
    if len(sizes) < 2:
        return {s: cmap(0.0) for s in sizes}
    logs = np.log(sizes)
    pos = 0.85 * (logs - logs[0]) / (logs[-1] - logs[0])
    return {s: cmap(p) for s, p in zip(sizes, pos)}




def exponent_text(k: float) -> str:
    """An exponent for a label: 1/3 as "1/3" (a fraction with a small denominator), else 3 digits."""
    f = Fraction(float(k)).limit_denominator(12)
    if f.denominator > 1 and abs(float(f) - k) < 1e-9:
        return f"{f.numerator}/{f.denominator}"
    return f"{k:.3g}"



def size_curves(curves: pd.DataFrame) -> dict[float, pd.DataFrame]:
    """Per size (ascending), its seed-mean curve with positive steps, sorted by step."""
    out = {}
    for n, g in curves.groupby("n_params", sort=True):
        g = g[(g["step"] > 0) & g["test_error"].notna()].sort_values("step")
        if len(g):
            out[float(n)] = g
    return out


# ---------------------------------------------------------------------------------------------

"""The tiny-regime width sweep (Alnemari et al. 2026): every family × width × seed under the
paper's cosine recipe; power laws, local exponents, error overlap, specialisation, calibration."""

from __future__ import annotations

from ..runs import sweep
from . import Figure, Study, register

RECIPE = "cosine"
FIG = "tinyscale.paper.figures."


def runs(config: dict):
    return sweep(config["models"], RECIPE, config["seeds"])


def recipes(config: dict) -> dict:
    from ..engine.recipes import cosine_recipe

    return {RECIPE: cosine_recipe(config, RECIPE)}


def headline(ws: dict) -> list:
    rows = [("runs", ws["n_runs"])]
    for f in ws["families"].values():
        fit = f.get("fit") or {}
        rows += [(f"{f['label']}: power-law exponent α", fit.get("alpha")), (f"{f['label']}: R² of the fit", fit.get("r2")),
                 (f"{f['label']}: accuracy of the smallest / largest", f"{f['acc_smallest']:.4f} / {f['acc_largest']:.4f}")]
    return rows


STUDY = register(Study(
    name="width_sweep",
    title="Scaling laws in the tiny regime",
    runs=runs,
    recipes=recipes,
    figures=(
        Figure("error_vs_params", FIG + "error_vs_params", ("runs", "summary", "fits")),
        Figure("local_exponents", FIG + "local_exponents", ("local_exponents",),
               lambda c: {"kaplan_alpha": c["analysis"]["kaplan_alpha"]}),
        Figure("jaccard", FIG + "jaccard", ("jaccard", "summary")),
        Figure("class_heatmap", FIG + "class_heatmap", ("per_class", "summary")),
        Figure("specialisation", FIG + "specialisation", ("specialisation", "summary"),
               lambda c: {"bottom_k": sorted(c["analysis"]["bottom_k"])}),
        Figure("ece", FIG + "ece", ("summary",)),
        Figure("reliability", FIG + "reliability", ("reliability", "summary")),
        Figure("forecast_backtest", FIG + "forecast_backtest", ("forecast_backtest",)),
    ),
    paper_tables=("summary", "fits", "local_exponents", "specialisation", "comparison", "jaccard"),
    abstract="width_sweep/abstract.tex.j2",
    section="width_sweep/section.tex.j2",
    captions="width_sweep/captions.tex.j2",
    headline=headline,
))

"""The scale–time study's figures and paper text, from synthetic curves through the real analysis.

Curves are err(N, t) = g(t·N^γ) with a per-size floor (small models plateau higher), two seeds,
on four sizes of a ×4 grid, in four arms: the primary (γ = 1/3), a secondary (γ = 1/4), one with a
single size (skipped: too few sizes) and one whose middle size never learns (skipped: no threshold
every size reaches). ``analyse_scale_time`` gives the numbers; ``study_tables`` writes the tables
the study's figures and template read, in the study's formats, and reads them back from CSV as
the workflow's rules do.
"""

import io
import json
import re
import shutil

import matplotlib.image
import numpy as np
import pandas as pd
import pytest
from conftest import compile_section

from tinyscale.analysis.scale_time import EXAMPLE_CONFIG, METHODS, analyse_scale_time, predict_curve
from tinyscale.paper.figures import plot
from tinyscale.paper.figures.st_collapse import exponent_text, size_label
from tinyscale.paper.figures.style import plt, save
from tinyscale.paper.render import TEMPLATES, paper_context, render

PRIMARY = "lr0.05-mse"
ARMS = {  # arm: (lr, loss, label)
    "lr0.05-mse": (0.05, "mse", "lr 0.05, MSE"),
    "lr0.01-mse": (0.01, "mse", "lr 0.01, MSE"),
    "lr0.05-ce": (0.05, "cross_entropy", "lr 0.05, cross-entropy"),
    "lr0.01-ce": (0.01, "cross_entropy", "lr 0.01, cross-entropy"),
}
WIDTHS = [4, 8, 16, 32]
SIZES = [int(22e3 * 4 ** i) for i in range(len(WIDTHS))]
STEPS = 2.0 ** np.arange(15)
SEEDS = [0, 1]
K_CLAIM = EXAMPLE_CONFIG["verdict"]["k_claim"]
ENV = {"n_runs": 1, "code_version": ["x"], "python": ["3"], "torch": ["t"], "torchvision": ["tv"], "numpy": ["n"],
       "device": ["cpu"], "platform": ["linux"], "total_wall_time_s": 36.0, "max_wall_time_s": 12.0, "resumed_runs": 0,
       "gpu_setups": []}
FIGURE_PARAMS = {
    "st_tradeoff": {"arm": PRIMARY, "k_claim": K_CLAIM},
    "st_collapse": {"arm": PRIMARY},
    "st_prediction": {"arm": PRIMARY, "k_claim": K_CLAIM},
    "st_residuals": {"arm": PRIMARY},
}
# The study's tables and their columns (what its analysis script writes; empty tables keep their header).
COLUMNS = {
    "st_curves": ["arm", "width", "n_params", "step", "test_error", "n_seeds"],
    "st_t_min": ["arm", "n_params", "eps", "t_min", "censored", "used"],
    "st_collapse_residuals": ["arm", "n_params", "step", "error", "tau", "log_tau", "master_error", "residual_log",
                              "residual_points", "n_ref", "pre_plateau"],
    "st_summary": ["arm", "lr", "loss", "k_hat", "ci_lo", "ci_hi", "gamma_hat", "r2_collapse",
                   *[f"mae_{m}" for m in METHODS], "interaction_p", "verdict", "skipped"],
}


def g(x):
    """A sigmoid in log x from 0.99 down to 0.05."""
    return 0.05 + 0.94 / (1 + np.exp((np.log(x) - 9) / 1.5))


def long_curves(arms: dict, sigma: float = 0.01, rng: int = 0) -> pd.DataFrame:
    """arm → (γ, widths, stuck widths): one row per logged point, as the study's curve table."""
    r = np.random.default_rng(rng)
    rows = []
    for arm, (gamma, widths, stuck) in arms.items():
        for w in widths:
            i = WIDTHS.index(w)
            n = SIZES[i]
            err = np.full(len(STEPS), 0.99) if w in stuck else np.maximum(g(STEPS * n ** gamma), 0.40 - 0.08 * i)
            for s in SEEDS:
                e = np.clip(err * np.exp(sigma * r.standard_normal(len(STEPS))), 0, 1)
                rows.append(pd.DataFrame({"arm": arm, "width": w, "n_params": n, "seed": s, "step": STEPS,
                                          "test_error": e}))
    return pd.concat(rows, ignore_index=True)


def config() -> dict:
    cfg = json.loads(json.dumps(EXAMPLE_CONFIG))
    cfg["bootstrap"]["samples"] = 200  # enough for an interval; the analysis' own tests check its width
    return cfg


def _csv(frame: pd.DataFrame) -> pd.DataFrame:
    """Through CSV and back, as the figure and render rules read the tables."""
    buf = io.StringIO()
    frame.to_csv(buf, index=False)
    buf.seek(0)
    return pd.read_csv(buf)


def study_tables(tables: dict, numbers: dict, width_of: dict) -> dict[str, pd.DataFrame]:
    """The study's tables from the analysis: seed-mean curves with the width, t_min, residuals,
    and one summary row per arm; each in COLUMNS's layout, read back from CSV."""
    curves = tables["curves"].assign(width=tables["curves"]["n_params"].astype(int).map(width_of))
    summary = []
    for arm, a in numbers.items():
        mae = a.get("mae_points") or {}
        summary.append({"arm": arm, "lr": ARMS[arm][0], "loss": ARMS[arm][1],
                        **{k: a.get(k) for k in ("k_hat", "ci_lo", "ci_hi", "gamma_hat", "r2_collapse")},
                        **{f"mae_{m}": mae.get(m) for m in METHODS},
                        "interaction_p": a.get("interaction_p"), "verdict": a.get("verdict"), "skipped": a.get("skipped")})
    out = {"st_curves": curves, "st_t_min": tables.get("t_min"), "st_collapse_residuals": tables.get("collapse_residuals"),
           "st_summary": pd.DataFrame(summary)}
    return {name: _csv(pd.DataFrame(columns=COLUMNS[name]) if out[name] is None else out[name][COLUMNS[name]])
            for name in COLUMNS}


def layout(numbers: dict, widths: list) -> dict:
    """n.scale_time as the study's analysis script writes it into numbers.json: the widths the curves
    hold (as floats, like the script), epochs keyed by the configured width, the arms' rates and losses."""
    caps = dict(zip(WIDTHS, [300, 300, 150, 60]))
    return {
        "family": "scalecnn", "family_label": "ScaleCNN", "widths": [float(w) for w in widths],
        "n_params": [SIZES[WIDTHS.index(w)] for w in widths], "seeds": SEEDS,
        "lrs": list(dict.fromkeys(ARMS[a][0] for a in numbers)),
        "losses": list(dict.fromkeys(ARMS[a][1] for a in numbers)), "primary_arm": PRIMARY,
        "epochs": {str(w): caps[w] for w in widths}, "batch_size": 128, "momentum": 0.0,
        "weight_decay": 0.0, "train_subset": 10000, "k_claim": K_CLAIM, "rule": dict(EXAMPLE_CONFIG["verdict"]),
        "arms": numbers, "arm_labels": {arm: ARMS[arm][2] for arm in numbers},
        # optional: the collapse window's margin (the section says "a margin" without it)
        "plateau_margin": EXAMPLE_CONFIG["collapse"]["plateau_margin"],
    }


def study(arms: dict):
    tables, numbers = analyse_scale_time(long_curves(arms), config())
    json.dumps(numbers, allow_nan=False)
    return study_tables(tables, numbers, dict(zip(SIZES, WIDTHS))), numbers


def context(numbers: dict, tables: dict) -> dict:
    widths = sorted(set(tables["st_curves"]["width"]))
    ctx = paper_context({"scale_time": layout(numbers, widths), "dataset": "digits", "name": "t"},
                        {"title": "T", "authors": "A"}, ENV, {"st_summary": tables["st_summary"]},
                        {name: f"{name}.pdf" for name in FIGURE_PARAMS})
    ctx["studies"] = [{"name": "scale_time", "abstract": "scale_time/abstract.tex.j2",
                       "section": "scale_time/section.tex.j2"}]
    return ctx


def render_both(numbers, tables) -> tuple[str, str]:
    ctx = context(numbers, tables)
    return (render(TEMPLATES, "scale_time/section.tex.j2", ctx), render(TEMPLATES, "scale_time/abstract.tex.j2", ctx))


def assert_clean(tex: str) -> None:
    assert not re.search(r"\bnan\b", tex, re.IGNORECASE), "a NaN reached the paper"
    assert not re.search(r"\bNone\b", tex), "a None reached the paper"
    assert "\\VAR" not in tex and "\\BLOCK" not in tex


FULL = {"lr0.05-mse": (1 / 3, WIDTHS, ()), "lr0.01-mse": (0.25, WIDTHS, ()),
        "lr0.05-ce": (1 / 3, WIDTHS[:1], ()), "lr0.01-ce": (1 / 3, WIDTHS, (WIDTHS[2],))}


@pytest.fixture(scope="module")
def full():
    return study(FULL)


def draw(name: str, tables: dict, path, **params) -> plt.Figure:
    """Draw a figure, write it as PNG, and check the PNG is not blank."""
    fig = plot(f"tinyscale.paper.figures.{name}", tables, {**FIGURE_PARAMS[name], **params})
    fig.savefig(path, format="png", dpi=60)
    pixels = matplotlib.image.imread(path)
    assert pixels[..., :3].std() > 0.02, f"{name} drew a blank image"
    return fig


# ---------------------------------------------------------------------------------------------
# figures


def test_size_labels_and_the_claim_as_a_fraction():
    assert [size_label(n) for n in (22_436, 88_000, 352_000, 1_234_567, 5_600_000, 18_800_000, 950)] == \
        ["22K", "88K", "352K", "1.2M", "5.6M", "19M", "950"]
    assert exponent_text(1 / 3) == "1/3" and exponent_text(0.25) == "1/4" and exponent_text(0.3141) == "0.314"


def test_every_figure_draws_the_primary_arm(full, tmp_path):
    tables, numbers = full
    a = numbers[PRIMARY]
    for name in FIGURE_PARAMS:
        fig = draw(name, tables, tmp_path / f"{name}.png")
        save(fig, tmp_path / f"{name}.pdf")  # the workflow's writer
        assert (tmp_path / f"{name}.pdf").stat().st_size > 1000

    # trade-off: one line per threshold every size reaches, plus the claim's slope
    ax = plot("tinyscale.paper.figures.st_tradeoff", tables, FIGURE_PARAMS["st_tradeoff"]).axes[0]
    lines = ax.get_lines()
    assert len(lines) == len(a["thresholds_used"]) + 1
    ref = lines[-1]
    slope = np.diff(np.log(ref.get_ydata()))[0] / np.diff(np.log(ref.get_xdata()))[0]
    assert slope == pytest.approx(-K_CLAIM) and ref.get_linestyle() == "--"

    # collapse: the right panel's x is N^γ̂·t with the analysis' γ̂
    raw, col = plot("tinyscale.paper.figures.st_collapse", tables, FIGURE_PARAMS["st_collapse"]).axes[:2]
    first = col.get_lines()[0]
    np.testing.assert_allclose(first.get_xdata(), raw.get_lines()[0].get_xdata() * SIZES[0] ** a["gamma_hat"])
    assert f"{a['gamma_hat']:.3f}" in col.get_title()

    # prediction: the two interior sizes, each its actual curve and the neighbours' mean prediction
    fig = plot("tinyscale.paper.figures.st_prediction", tables, FIGURE_PARAMS["st_prediction"])
    shown = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in shown] == [f"$N$ = {size_label(n)}" for n in SIZES[1:-1]]
    curves = tables["st_curves"][tables["st_curves"]["arm"] == PRIMARY]
    c = {n: curves[curves["n_params"] == n].sort_values("step") for n in SIZES}
    want = np.mean([predict_curve(c[m]["step"], c[m]["test_error"], m, SIZES[1], K_CLAIM, c[SIZES[1]]["step"])
                    for m in (SIZES[0], SIZES[2])], axis=0)
    np.testing.assert_allclose(shown[0].get_lines()[1].get_ydata(), 100 * want)

    # residuals: every point with a master curve, hollow exactly on the plateau
    ax = plot("tinyscale.paper.figures.st_residuals", tables, FIGURE_PARAMS["st_residuals"]).axes[0]
    res = tables["st_collapse_residuals"]
    res = res[(res["arm"] == PRIMARY) & res["residual_points"].notna()]
    markers = [ln for ln in ax.get_lines() if ln.get_marker() == "o"]
    hollow = sum(len(ln.get_xdata()) for ln in markers if ln.get_markerfacecolor() in ("white", (1.0, 1.0, 1.0, 1.0)))
    filled = sum(len(ln.get_xdata()) for ln in markers) - hollow
    assert hollow == (~res["pre_plateau"]).sum() > 0 and filled == res["pre_plateau"].sum() > 0
    assert "1/3" in ax.get_xlabel()
    plt.close("all")


@pytest.mark.parametrize("arm", ["lr0.05-ce", "lr0.01-ce", "no-such-arm"])
def test_figures_draw_a_skipped_arm_with_a_note(full, tmp_path, arm):
    tables, _ = full
    for name in FIGURE_PARAMS:
        draw(name, tables, tmp_path / f"{name}.png", arm=arm)
    texts = [t.get_text() for t in plot("tinyscale.paper.figures.st_tradeoff", tables,
                                        {**FIGURE_PARAMS["st_tradeoff"], "arm": arm}).axes[0].texts]
    assert texts == ["no threshold reached by every size"]
    plt.close("all")


def test_collapse_falls_back_to_one_third_without_gamma_hat(full):
    tables, _ = full
    tables = {**tables, "st_summary": tables["st_summary"].assign(gamma_hat=np.nan)}
    raw, col = plot("tinyscale.paper.figures.st_collapse", tables, FIGURE_PARAMS["st_collapse"]).axes[:2]
    assert "no $\\hat\\gamma$ fitted" in col.get_title() and "1/3" in col.get_title()
    np.testing.assert_allclose(col.get_lines()[0].get_xdata(), raw.get_lines()[0].get_xdata() * SIZES[0] ** (1 / 3))
    plt.close("all")


# ---------------------------------------------------------------------------------------------
# the section and the abstract


def test_section_states_the_primary_arms_numbers_and_verdict(full):
    tables, numbers = full
    a = numbers[PRIMARY]
    assert a["verdict"] and a["k_hat"] is not None and a["ci_lo"] is not None
    section, abstract = render_both(numbers, tables)
    for tex in (section, abstract):
        assert_clean(tex)
        assert f"$\\hat k = {a['k_hat']:.3f}$" in tex
        assert f"[{a['ci_lo']:.3f}, {a['ci_hi']:.3f}]" in tex
        assert a["verdict"] in tex
        assert "\\citep{boopathy2024unified}" in tex
    assert "\\section{Scale--time equivalence}" in section and "\\label{sec:scale-time}" in section
    paper = render(TEMPLATES, "paper.tex.j2", context(numbers, tables))  # as the paper includes them
    assert abstract in paper and section in paper
    holds = a["ci_lo"] <= K_CLAIM <= a["ci_hi"]
    assert f"[{a['ci_lo']:.3f}, {a['ci_hi']:.3f}], {'holds' if holds else 'excludes'} the claimed $k = 1/3$" in section
    assert f"$\\hat\\gamma = {a['gamma_hat']:.3f}$" in section and f"{a['r2_collapse']:.3f}" in section
    for m in METHODS:
        assert f"{a['mae_points'][m]:.2f}" in section
    ks = [k for k in a["k_per_threshold"] if k is not None]
    assert f"ranges from {min(ks):.3f} to {max(ks):.3f}" in section
    assert f"= {a['interaction_F']:.2f}$" in section
    # the recipe, every number from the layout
    assert "constant learning rates 0.01 and 0.05" in section and "10,000 training images" in section
    assert "c=32 (1,408,000 parameters) 60." in section and "32 runs in all" in section
    assert "first comes within 2 points of its own minimum" in section
    # the figures, and the table: one row per arm, the skipped ones with their reason
    for name in FIGURE_PARAMS:
        assert re.search(r"\\includegraphics\[width=[0-9.]*\\linewidth\]\{" + name + r"\.pdf\}", section)
    body = section.split("\\midrule")[1].split("\\bottomrule")[0]
    assert body.count("\\\\") == len(ARMS)
    assert "not analysed: 1 size(s); the study needs at least 3" in body
    assert "none$^{*}$" in body
    assert "No verdict:\n  lr 0.01, cross-entropy, no threshold is reached by every size." in section


def test_a_primary_arm_with_one_size_says_why(tmp_path):
    tables, numbers = study({PRIMARY: (1 / 3, WIDTHS[:1], ())})
    assert numbers[PRIMARY]["skipped"] == "1 size(s); the study needs at least 3"
    section, abstract = render_both(numbers, tables)
    for tex in (section, abstract):
        assert_clean(tex)
        assert "1 size(s); the study needs at least 3" in tex
        assert "\\hat k =" not in tex
    assert "is not analysed" in section and "one width of ScaleCNN (22,000 parameters)" in section
    assert "constant learning rate 0.05\n" in section and "With one learning rate, this build does not separate" in section
    assert "the others are secondary" not in section and "c=4 (22,000 parameters) 300." in section
    assert "one size of ScaleCNN (22,000 parameters)" in abstract
    for name in FIGURE_PARAMS:  # every figure still renders, with its note
        draw(name, tables, tmp_path / f"{name}.png")
    plt.close("all")


def test_a_primary_arm_without_a_common_threshold_reports_the_rest():
    tables, numbers = study({PRIMARY: (1 / 3, WIDTHS, (WIDTHS[1],))})
    a = numbers[PRIMARY]
    assert a["skipped"] == "no threshold is reached by every size" and a["verdict"] is None
    section, abstract = render_both(numbers, tables)
    for tex in (section, abstract):
        assert_clean(tex)
        assert "no threshold is reached by every size" in tex
    assert "No trade-off exponent is fitted" in section and "There is no verdict" in section
    assert "Leaving one size out" in section  # collapse and prediction are still reported


@pytest.mark.skipif(shutil.which("latexmk") is None or shutil.which("pdflatex") is None, reason="no TeX")
def test_section_compiles_with_its_figures_and_citation(full, tmp_path):
    tables, numbers = full
    for name in FIGURE_PARAMS:
        save(plot(f"tinyscale.paper.figures.{name}", tables, FIGURE_PARAMS[name]), tmp_path / f"{name}.pdf")
    section, abstract = render_both(numbers, tables)
    log = compile_section(tmp_path, abstract, section)
    assert "Citation `boopathy2024unified' undefined" not in log
    assert not re.search(r"Reference `(tab|fig):st?-?[a-z-]*' .*undefined", log)

"""The precision study's figures and paper text, from a hand-made runs table through the real analysis.

Two budgets (c=4, c=8) × weight bits {32, 4, 2} × three seeds, in the primary arm (W_b A8) and a
secondary arm (W_b A_b) that shares the fp32 models: at c=4 2-bit weights win clearly, at c=8
4-bit weights win significantly, so the primary arm's claim fails (and 8-bit runs are missing, as in
the quick config). ``analyse_precision`` gives the tables and numbers; the tables go through CSV and
back as the workflow's rules read them; the figures and the section are drawn from them.
"""

import io
import re
import shutil

import matplotlib.image
import numpy as np
import pandas as pd
import pytest
from conftest import compile_section

from tinyscale.analysis.precision import RUN_COLUMNS, across_tasks, analyse_precision
from tinyscale.paper.figures import plot
from tinyscale.paper.figures.style import plt, save
from tinyscale.paper.render import TEMPLATES, paper_context, render
from tinyscale.studies.precision import STUDY

RULE = {"reference_bits": 2, "compared_bits": [32, 8], "tie_bits": [4], "fail_bits": [4, 8], "level": 0.95}
COEF, ALPHA = 5.0, 0.3
SEEDS = [0, 1, 2]
BUDGETS = {4: 22_000, 8: 88_000}  # budget id (fp32 width) → fp32 parameters
# (budget, bits) → seed-mean error: 2-bit wins at c=4; 4-bit wins significantly at c=8.
ERRORS = {(4, 32): 0.25, (4, 4): 0.20, (4, 2): 0.15, (8, 32): 0.16, (8, 4): 0.08, (8, 2): 0.12}
NOISE = [-0.004, 0.001, 0.003]  # per seed, differing by bit-width so the differences have a spread
ENV = {"n_runs": 1, "code_version": ["x"], "python": ["3"], "torch": ["t"], "torchvision": ["tv"], "numpy": ["n"],
       "device": ["cpu"], "platform": ["linux"], "total_wall_time_s": 36.0, "max_wall_time_s": 12.0, "resumed_runs": 0,
       "gpu_setups": []}
FIGURES = {f.name: f for f in STUDY.figures}
TABLE_NAMES = {"budgets": "pp_budgets", "differences": "pp_differences", "winners": "pp_winners",
               "kappa": "pp_kappa", "kappa_check": "pp_kappa_check"}


def runs_table(arms=("a8", "ab")) -> pd.DataFrame:
    rows = []
    for budget, p32 in BUDGETS.items():
        for bits in (32, 4, 2):
            params = p32 * 32 // bits
            for arm in arms:
                act = 32 if bits == 32 else (8 if arm == "a8" else bits)
                for i, seed in enumerate(SEEDS):
                    err = ERRORS[budget, bits] + NOISE[i] * (1 + bits / 64) + (0.01 if arm == "ab" and bits < 32 else 0)
                    rows.append({"budget": budget, "budget_bits": 32 * p32, "bits": bits, "act_bits": act, "arm": arm,
                                 "width": round(budget * (32 / bits) ** 0.5), "seed": seed, "params": params,
                                 "storage_bits": int(32 * p32 * (1 + 0.01 * (bits < 32))), "macs": 40 * params,
                                 "peak_act_bytes": 1000 * budget, "error": err})
    return pd.DataFrame(rows, columns=RUN_COLUMNS)


def _csv(frame: pd.DataFrame) -> pd.DataFrame:
    buf = io.StringIO()
    frame.to_csv(buf, index=False)
    buf.seek(0)
    return pd.read_csv(buf)


def layout(numbers: dict) -> dict:
    """n.precision as workflow/scripts/analyse_precision.py writes it into numbers.json."""
    return {**numbers, "family": "scalecnn", "family_label": "ScaleCNN", "seeds": SEEDS, "act_bits": 8,
            "bits": [32, 4, 2], "secondary_bits": [4, 2], "tolerance": 0.05,
            "finetune": {"epochs": 3, "lr": 0.005, "lr_min": 0.0}, "rule": RULE,
            "fp32_law": {"coef": COEF, "alpha": ALPHA}, "budget_widths": list(BUDGETS),
            "budget_labels": {str(b): f"c={b}" for b in BUDGETS}}


def study(runs, coef=COEF, alpha=ALPHA):
    tables, numbers = analyse_precision(runs, coef, alpha, RULE)
    n = layout(numbers)
    if coef is None:
        n["fp32_law"] = {"coef": None, "alpha": None}
    out = {TABLE_NAMES[k]: _csv(v) for k, v in tables.items()}
    out["pp_task_budgets"] = out["pp_budgets"].assign(arm_key="digits-scalecnn")
    out["pp_tasks"] = pd.DataFrame(columns=["arm_key", "task", "dataset", "family", "budget", "budget_label", "metric",
                                            "winner_bits", "winner_metric", "outcome", "verdict"])
    return out, n


def with_tasks(n: dict, tables: dict) -> tuple[dict, dict]:
    """The study with a language-modelling arm beside the image one, as analyse_precision writes it."""
    a8 = n["arms"]["a8"]
    lm = {"key": "text-lm", "task": "language_modelling", "task_label": "language modelling", "family_label": "Transformer",
          "dataset_label": "a book", "metric_label": "bits per byte", "verdict": "claim holds"}
    image = {"key": "digits-scalecnn", "task": "image_classification", "task_label": "image classification",
             "family_label": "ScaleCNN", "dataset_label": "digits", "metric_label": "top-1 error",
             "verdict": a8["verdict"]["verdict"]}
    n = {**n, "tasks": {"image_classification": {"label": "image classification", "arms": {image["key"]: image}},
                        "language_modelling": {"label": "language modelling", "arms": {lm["key"]: lm}}},
         "across_tasks": across_tasks({a["key"]: a for a in (image, lm)})}
    rows = [{"arm_key": image["key"], "task": image["task_label"], "dataset": "digits", "family": "ScaleCNN",
             "budget": float(b), "budget_label": f"c={b}", "metric": "top-1 error", "winner_bits": w["bits"],
             "winner_metric": w["error"], "outcome": a8["verdict"]["budgets"][b], "verdict": image["verdict"]}
            for b, w in a8["winners"].items()]
    rows.append({"arm_key": "text-lm", "task": "language modelling", "dataset": "a book", "family": "Transformer",
                 "budget": 16.0, "budget_label": "d=16", "metric": "bits per byte", "winner_bits": 2,
                 "winner_metric": 2.345, "outcome": "holds", "verdict": "claim holds"})
    lm_budgets = tables["pp_budgets"].assign(arm_key="text-lm", error_mean=tables["pp_budgets"]["error_mean"] * 30)
    return n, {**tables, "pp_tasks": pd.DataFrame(rows),
               "pp_task_budgets": pd.concat([tables["pp_task_budgets"], lm_budgets], ignore_index=True)}


def test_the_section_states_the_verdict_per_task_and_across_tasks(full, tmp_path):
    n, tables = with_tasks(full[1], full[0])
    assert n["across_tasks"]["verdict"] == "claim fails"  # it fails on the image task
    section, _ = render_both(n, tables)
    assert_clean(section)
    assert "In image classification the verdict is \\textbf{claim fails}" in section
    assert "In language modelling the verdict is \\textbf{claim holds}" in section
    assert "regardless of the task is: \\textbf{claim fails}" in section
    assert "2.345 bits/B" in section and "\\label{tab:pp-tasks}" in section and "fig:pp-tasks" in section
    fig = draw("pp_tasks", tables, tmp_path / "tasks.png")
    assert [ax.get_title() for ax in fig.axes] == ["ScaleCNN, image classification", "Transformer, language modelling"]
    assert fig.axes[1].get_ylabel() == "bits per byte"


def context(n: dict, tables: dict) -> dict:
    ctx = paper_context({"precision": n, "dataset": "digits", "name": "t"}, {"title": "T", "authors": "A"}, ENV,
                        {name: tables[name] for name in STUDY.paper_tables}, {name: f"{name}.pdf" for name in FIGURES})
    ctx["studies"] = [{"name": "precision", "abstract": STUDY.abstract, "section": STUDY.section}]
    return ctx


def render_both(n, tables) -> tuple[str, str]:
    ctx = context(n, tables)
    return render(TEMPLATES, STUDY.section, ctx), render(TEMPLATES, STUDY.abstract, ctx)


def assert_clean(tex: str) -> None:
    assert not re.search(r"\bnan\b", tex, re.IGNORECASE), "a NaN reached the paper"
    assert not re.search(r"\bNone\b", tex), "a None reached the paper"
    assert "\\VAR" not in tex and "\\BLOCK" not in tex
    assert "−" not in tex and "α" not in tex  # Unicode that pdflatex cannot set


def draw(name: str, tables: dict, path) -> plt.Figure:
    f = FIGURES[name]
    fig = plot(f.module, {t: tables[t] for t in f.tables}, f.params({}))
    fig.savefig(path, format="png", dpi=60)
    pixels = matplotlib.image.imread(path)
    assert pixels[..., :3].std() > 0.02, f"{name} drew a blank image"
    return fig


@pytest.fixture(scope="module")
def full():
    return study(runs_table())


def test_the_hand_made_study_fails_with_the_expected_winners(full):
    _, n = full
    a = n["arms"]["a8"]
    assert {b: w["bits"] for b, w in a["winners"].items()} == {"4": 2, "8": 4}
    assert a["verdict"]["verdict"] == "claim fails"
    assert a["verdict"]["budgets"] == {"4": "inconclusive", "8": "fails"}  # no 8-bit runs at c=4
    assert a["capacity"] is not None and n["arms"]["ab"]["verdict"]["verdict"]


def test_figures_draw_every_bit_width_and_the_front(full, tmp_path):
    tables, _ = full
    for name in FIGURES:
        fig = draw(name, tables, tmp_path / f"{name}.png")
        save(fig, tmp_path / f"{name}.pdf")
        assert (tmp_path / f"{name}.pdf").stat().st_size > 1000

    budgets = tables["pp_budgets"]
    primary = budgets[budgets["arm"] == "a8"]
    for name, x, label in (("pp_storage", "storage_bits", "weight storage (bits)"),
                           ("pp_macs", "macs", "multiply-accumulates per image")):
        f = FIGURES[name]
        ax = plot(f.module, {"pp_budgets": budgets}, f.params({})).axes[0]
        assert ax.get_xlabel() == label and ax.get_xscale() == "log"
        front = [ln for ln in ax.get_lines() if ln.get_label() == "lower envelope"]
        assert len(front) == 1
        on = primary[primary[f"on_front_{x}"].astype(bool)].sort_values(x)
        np.testing.assert_allclose(front[0].get_xdata(), on[x])
        np.testing.assert_allclose(front[0].get_ydata(), 100 * on["error_mean"])
        legend = [t.get_text() for t in ax.get_legend().get_texts()]
        # primary: fp32, 4-bit, 2-bit; secondary: only its own W_b A_b models (the fp32 ones are shared)
        assert legend == ["fp32", "4-bit", "2-bit", "4-bit (W$_b$A$_b$)", "2-bit (W$_b$A$_b$)", "lower envelope"]

    ax = plot(FIGURES["pp_kappa"].module, {"pp_kappa": tables["pp_kappa"]}).axes[0]
    assert [ln.get_label() for ln in ax.get_lines()] == ["fp32", "4-bit", "2-bit"]
    k = tables["pp_kappa"]
    k2 = k[(k["arm"] == "a8") & (k["bits"] == 2)].sort_values("budget")
    np.testing.assert_allclose(ax.get_lines()[2].get_ydata(), k2["kappa_per_bit"])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["4", "8"]
    plt.close("all")


def test_section_states_winners_differences_capacity_and_verdict(full):
    tables, n = full
    a = n["arms"]["a8"]
    section, abstract = render_both(n, tables)
    for tex in (section, abstract):
        assert_clean(tex)
        assert "\\citep{precision2025tradeoff}" in tex
        assert "claim fails" in tex
        assert "$b^* = 2$ at c=4" in tex and "$b^* = 4$ at c=8" in tex
    assert "\\section{Parameters versus precision at equal storage}" in section and "\\label{sec:precision}" in section
    assert "\\citep{esser2020lsq}" in section
    assert "Under the rule above, the precision claim's verdict in the primary arm is: \\textbf{claim fails}." in section
    assert "for 3 epochs on a cosine schedule from a learning rate of 0.005" in section
    assert "seeds 0, 1, 2" in section and "within 5\\% of it" in section
    assert "4-bit wins significantly" in section and "no paired 8-bit runs" in section
    assert f"({100 * a['winners']['4']['error']:.1f}\\%)" in section

    # the budget table: one row per (budget, bits) of the primary arm, the winner in bold
    body = section.split("\\label{tab:pp-budgets}")[1].split("\\bottomrule")[0]
    assert body.count("\\\\") == 1 + 6
    b = tables["pp_budgets"]
    r = b[(b["arm"] == "a8") & (b["budget"] == 4) & (b["bits"] == 2)].iloc[0]
    assert f"{{\\boldmath${100 * r['error_mean']:.2f} \\pm {100 * r['error_std']:.2f}^\\dagger$}}" in body
    assert f"{int(r['params']):,}" in body

    # the differences: every arm's rows with their t-intervals in points
    d = tables["pp_differences"]
    body = section.split("\\label{tab:pp-differences}")[1].split("\\bottomrule")[0]
    assert body.count("\\\\") == 1 + len(d)
    r = d[(d["arm"] == "a8") & (d["budget"] == 8) & (d["bits"] == 4)].iloc[0]
    assert f"{100 * r['mean']:.2f} & [{100 * r['lo']:.2f}, {100 * r['hi']:.2f}]" in body and r["hi"] < 0

    # capacity per bit
    body = section.split("\\label{tab:pp-kappa}")[1].split("\\bottomrule")[0]
    assert body.count("\\\\") == 1 + 6
    opt = a["capacity"]["reference_optimal"]
    for budget, o in opt.items():
        assert f"{'holds' if o else 'does not hold'} at c={budget}" in section
    for name in set(FIGURES) - {"pp_tasks"}:  # drawn only with task arms
        assert re.search(r"\\includegraphics\[width=[0-9.]*\\linewidth\]\{" + name + r"\.pdf\}", section)
    assert "In the secondary arm (W$_b$A$_b$)" in section

    paper = render(TEMPLATES, "paper.tex.j2", context(n, tables))  # as the paper includes them
    assert abstract in paper and section in paper


def test_without_the_fp32_law_capacity_is_skipped_with_the_reason(tmp_path):
    tables, n = study(runs_table(("a8",)), coef=None, alpha=None)
    assert tables["pp_kappa"].empty
    section, abstract = render_both(n, tables)
    for tex in (section, abstract):
        assert_clean(tex)
        assert "claim fails" in tex
    assert "Capacity per bit is not computed: no fp32 power law (coef/alpha missing)." in section
    assert "tab:pp-kappa" not in section and "tab:pp-budgets" in section
    fig = draw("pp_kappa", tables, tmp_path / "k.png")
    assert [t.get_text() for t in fig.axes[0].texts] == ["no fp32 power law to invert"]
    draw("pp_storage", tables, tmp_path / "s.png")
    plt.close("all")


def test_no_runs_renders_the_reason(tmp_path):
    tables, n = study(pd.DataFrame(columns=RUN_COLUMNS))
    assert n["skipped"] == "no precision runs"
    section, abstract = render_both(n, tables)
    for tex in (section, abstract):
        assert_clean(tex)
        assert "not analysed: no precision runs" in tex
        assert not re.search(r"b\^\* = \d\$ at", tex)  # no winner
    assert "\\begin{table}" not in section
    for name in FIGURES:  # every figure still draws, with its note
        draw(name, tables, tmp_path / f"{name}.png")
    plt.close("all")


@pytest.mark.skipif(shutil.which("latexmk") is None or shutil.which("pdflatex") is None, reason="no TeX")
def test_section_compiles_with_its_figures_and_citations(full, tmp_path):
    tables, n = full
    for name, f in FIGURES.items():
        save(plot(f.module, {t: tables[t] for t in f.tables}, f.params({})), tmp_path / f"{name}.pdf")
    section, abstract = render_both(n, tables)
    log = compile_section(tmp_path, abstract, section)
    assert "Citation `precision2025tradeoff' undefined" not in log
    assert "Citation `esser2020lsq' undefined" not in log
    assert not re.search(r"Reference `(tab|fig):pp-[a-z-]*' .*undefined", log)

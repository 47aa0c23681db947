"""The paper as its reader sees it: statistics printed only where they mean something, floats beside
the section that cites them, no text faults, figures that are drawn and styled by family — checked on
hand-made cases and on a paper of the original's shape (18 sizes)."""

import shutil

import matplotlib.colors
import matplotlib.image
import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, synthetic_tables

from tinyscale import families
from tinyscale.analysis.aggregate import jaccard_table, reliability_rows
from tinyscale.analysis.forecast import study_forecast
from tinyscale.analysis.reference import compare, load_reference
from tinyscale.analysis.width_sweep import analyse, defined_bottom_k, interior_peak
from tinyscale.paper.figures import plot
from tinyscale.paper.figures.style import plt, save
from tinyscale.paper.latex import compile_pdf
from tinyscale.paper.pages import page_texts, render_page
from tinyscale.paper.pdfcheck import (
    latex_log,
    misplaced,
    overfull_boxes,
    placements,
    text_problems,
)
from tinyscale.paper.render import TEMPLATES, paper_context, render
from tinyscale.studies import width_sweep

CFG = {"bootstrap_samples": 50, "bootstrap_seed": 0, "bottom_k": [5, 10, 20], "kaplan_alpha": 0.076, "ece_bins": 15}
ENV = {"n_runs": 90, "code_version": ["x"], "python": ["3"], "torch": ["t"], "torchvision": ["tv"], "numpy": ["n"],
       "device": ["cpu"], "platform": ["linux"], "total_wall_time_s": 36.0, "max_wall_time_s": 12.0, "resumed_runs": 0,
       "gpu_setups": []}
RECIPE = {"lr": 0.1, "momentum": 0.9, "nesterov": False, "weight_decay": 5e-4, "lr_min": 1e-5, "epochs": 200,
          "batch_size": 128, "drop_last": True, "label_smoothing": 0.0,
          "augment": {"crop_padding": 4, "flip": True, "cutout": 8}}
FIGURES = {f.name: f for f in width_sweep.STUDY.figures}
needs_tex = pytest.mark.skipif(shutil.which("latexmk") is None or shutil.which("pdftotext") is None,
                               reason="TeX or poppler not installed (setup.sh installs both)")


def context(tables: dict, numbers: dict, dataset: str = "digits") -> dict:
    ctx = paper_context({"name": "t", "dataset": dataset, "width_sweep": numbers}, {"title": "T", "authors": "A"},
                        ENV, tables, {name: f"{name}.pdf" for name in FIGURES})
    ctx["studies"] = [{"name": "width_sweep", "abstract": width_sweep.STUDY.abstract, "section": width_sweep.STUDY.section}]
    return ctx


def width_sweep_paper(runs, per_class, classes, jaccard=None, reference=False, dataset="digits"):
    """(analysis, every table the figures and the templates read, rendered .tex)."""
    a = analyse(runs, per_class, classes, CFG, jaccard)
    forecast_tables, forecast = study_forecast(runs, runs if reference else None, len(classes), samples=100)
    numbers = {**a.numbers, "recipe": RECIPE, "reference": a.numbers if reference else None, "forecast": forecast}
    comparison = compare(numbers, a.numbers, a.summary, a.summary) if reference else pd.DataFrame()
    tables = {**a.tables(), **forecast_tables, "runs": runs, "per_class": per_class, "comparison": comparison,
              "jaccard": jaccard if jaccard is not None else pd.DataFrame(columns=["arch", "width_a", "width_b"])}
    return a, tables, render(TEMPLATES, "paper.tex.j2", context(tables, numbers, dataset))


def prose(tex: str) -> str:
    """The running text of a rendered paper (floats and the appendix cut out)."""
    body = tex.split("\\begin{document}")[1].split("\\appendix")[0]
    out, depth = [], 0
    for line in body.splitlines():
        depth += line.count("\\begin{figure}") + line.count("\\begin{table}")
        if depth == 0:
            out.append(line)
        depth -= line.count("\\end{figure}") + line.count("\\end{table}")
    return " ".join(" ".join(out).split())


# --- statistics that mean nothing are not printed -------------------------------------------------

def test_bottom_k_is_defined_only_below_the_number_of_classes():
    assert defined_bottom_k([20, 5, 10, 5], 10) == [5]
    assert defined_bottom_k([5, 10, 20], 100) == [5, 10, 20]
    assert defined_bottom_k([5], 5) == []  # the mean of all classes is no "hardest classes" statistic


def test_a_peak_is_only_a_maximum_inside_the_sweep():
    assert interior_peak([0.1, 0.3, 0.2]) == 1
    assert interior_peak([0.3, 0.2, 0.1]) is None and interior_peak([0.1, 0.2, 0.3]) is None
    assert interior_peak([0.1, 0.3]) is None  # two sizes have no inside


def test_ten_classes_print_one_bottom_k_and_no_end_point_peak():
    """Digits (10 classes) with bottom_k 5, 10, 20: only bottom-5 is printed; 10 and 20 would both be
    the mean class accuracy. ECE falls with size here, so there is no peak to report."""
    runs, per_class = synthetic_tables({"scalecnn": [2, 3, 4], "mobilenetv2": [0.1, 0.25, 0.5]}, seeds=[0, 1])
    runs["ece"] = 0.2 - 0.01 * runs.groupby("arch")["params"].rank(method="dense")  # highest at the smallest size
    a, tables, tex = width_sweep_paper(runs, per_class, [f"class_{i}" for i in range(10)])
    assert a.numbers["bottom_k"] == [5] and list(a.numbers["families"]["scalecnn"]["bottom"]) == ["5"]
    assert {"bottom10", "bottom20"}.isdisjoint(a.specialisation.columns)
    fam = a.numbers["families"]["scalecnn"]
    assert fam["ece_peak"] is None and fam["ece_highest_at"] == "smallest"
    text = prose(tex)
    assert "10 hardest" not in text and "20 hardest" not in text and "5 hardest classes" in text
    assert "peak" not in text.replace("does not peak inside the sweep", "")
    assert "a star marks" not in tex  # nor in Figure 6's caption
    ax = plot(FIGURES["specialisation"].module, tables, {"bottom_k": [5, 10, 20]}).axes[1]
    assert len(ax.get_lines()) == 2  # one bottom-5 curve per family, no coinciding 10 and 20
    stars = [ln for ln in plot(FIGURES["ece"].module, tables).axes[0].get_lines() if ln.get_marker() == "*"]
    assert not stars
    plt.close("all")


def test_an_inside_peak_is_printed_and_starred():
    runs, per_class = synthetic_tables({"scalecnn": [2, 3, 4]}, seeds=[0, 1])
    runs["ece"] = runs["width"].map({2: 0.05, 3: 0.09, 4: 0.04})
    a, tables, tex = width_sweep_paper(runs, per_class, [f"class_{i}" for i in range(10)])
    fam = a.numbers["families"]["scalecnn"]
    assert fam["ece_peak_width"] == 3 and fam["ece_highest_at"] == "inside"
    assert "ECE peaks at" in prose(tex) and "c=3" in prose(tex)
    assert "a star marks a peak inside the sweep" in tex
    stars = [ln for ln in plot(FIGURES["ece"].module, tables).axes[0].get_lines() if ln.get_marker() == "*"]
    assert len(stars) == 1
    plt.close("all")


def test_a_family_with_fewer_than_three_sizes_gets_a_sentence_not_a_fit():
    runs, per_class = synthetic_tables({"scalecnn": [2, 3, 4], "mobilenetv2": [0.1, 0.25]}, seeds=[0, 1])
    _, _, tex = width_sweep_paper(runs, per_class, [f"class_{i}" for i in range(10)])
    text = prose(tex)
    assert "No power law is fitted for MobileNetV2 (2 size(s) in the sweep" in text
    assert "for MobileNetV2 ($R^2" not in text
    # the caveat on Kaplan et al.'s exponent once in the results, once in the abstract
    assert text.count("only approximate") == 2
    # families listed in a sentence, not as a run of parentheses
    assert "ScaleCNN at 3 widths (" in text and "and MobileNetV2 at 2 widths (" in text and "), (" not in text


# --- the PDF checks themselves can fail -----------------------------------------------------------

@needs_tex
def test_text_check_finds_each_fault(tmp_path):
    sentence = "This sentence is long enough to count as a sentence in the check."
    tex = tmp_path / "doc.tex"
    tex.write_text("\\documentclass{article}\\begin{document}\n"
                   f"{sentence} {sentence}\nAccuracy was 97.2\\%.The end. Both (ScaleCNN)Kaplan. A value of nan here. See Figure~\\ref{{x}}.\n"
                   "\\noindent\\hbox to 1.2\\textwidth{wide}\n\\end{document}\n")
    compile_pdf(tex, tmp_path / "doc.pdf")
    problems = "\n".join(text_problems(tmp_path / "doc.pdf", latex_log(tmp_path / "doc.pdf"), max_overfull=0))
    assert "printed 2 times" in problems and "97.2%.The" in problems and "(ScaleCNN)Kaplan" in problems and "'nan' printed" in problems
    assert "'??' printed" in problems and "overfull" in problems
    assert overfull_boxes("Overfull \\hbox (12.5pt too wide) in paragraph\nOverfull \\vbox (3.0pt too high)") == [12.5, 3.0]


@needs_tex
def test_placement_check_finds_a_float_that_drifts_past_its_section(tmp_path):
    """Without the paper's barriers a tall float cited in section 1 lands after section 2 starts."""
    tall = "\\begin{figure}[t]\\centering\\rule{1cm}{0.7\\textheight}\\caption{Tall.}\\label{f}\\end{figure}\n"
    filler = "Words fill the page. " * 120
    tex = tmp_path / "doc.tex"
    tex.write_text("\\documentclass{article}\\begin{document}\n\\section{One}\nSee Figure~\\ref{f}. "
                   + filler + tall + "\\begin{table}[t]\\caption{Cited nowhere.}\\end{table}\n"
                   + "\\section{Two}\n" + filler + filler + "\\end{document}\n")
    compile_pdf(tex, tmp_path / "doc.pdf")
    (fig,) = [p for p in placements(tmp_path / "doc.pdf") if p.kind == "Figure"]
    assert fig.citation_section == "1 One" and fig.caption_section == "2 Two"
    problems = misplaced(tmp_path / "doc.pdf")
    assert any("Figure 1 is printed in '2 Two'" in p for p in problems)
    assert any("Table 1" in p and "never cited" in p for p in problems)


# --- a paper of the original's shape -------------------------------------------------------------

def synthetic_predictions(runs: pd.DataFrame, per_class: pd.DataFrame, n_per_class: int = 100, seed: int = 0) -> dict:
    """Per released run, test-set predictions with exactly its released per-class accuracy (which
    images are right drawn at random, a wrong one predicting a random other class) and its released
    mean confidence on right and on wrong predictions; the rest of the probability is spread evenly."""
    rng = np.random.default_rng(seed)
    out = {}
    for r in runs.itertuples():
        acc = per_class.loc[per_class["run_id"] == r.run_id].sort_values("class_index")["accuracy"].to_numpy()
        k = len(acc)
        labels = np.repeat(np.arange(k), n_per_class)
        right = np.concatenate([rng.permutation(n_per_class) < round(a * n_per_class) for a in acc])
        preds = np.where(right, labels, (labels + rng.integers(1, k, labels.size)) % k)
        conf = np.clip(rng.normal(np.where(right, r.conf_correct, r.conf_incorrect), 0.1), 2 / k, 1.0)
        probs = np.repeat(((1 - conf) / (k - 1))[:, None], k, axis=1)
        probs[np.arange(labels.size), preds] = conf
        out[r.run_id] = {"probs": probs.astype(np.float32), "labels": labels, "preds": preds}
    return out


@pytest.fixture(scope="module")
def released_paper(tmp_path_factory):
    """The width-sweep paper built from the original's 90 released runs (ScaleCNN at 8 widths,
    MobileNetV2 at 10, 5 seeds, CIFAR-100): the runs, per-class tables and every number the analysis
    computes from them are real. The release has no predictions, so the two tables that need them —
    reliability bins and error-set overlaps — are computed by the workflow's own writers from
    synthetic predictions drawn to match each run's released per-class accuracy and mean confidences.
    The comparison with the original compares the released runs with themselves (every difference 0):
    it is there for its table's size, not its numbers. Figures are drawn by their real modules."""
    out = tmp_path_factory.mktemp("released")
    runs, per_class, classes = load_reference(ROOT / "data" / "reference" / "alnemari2026_cifar100_runs.jsonl")
    preds = synthetic_predictions(runs, per_class)
    reliability = pd.concat([reliability_rows({"run_id": r.run_id, "arch": r.arch, "width": r.width, "seed": r.seed},
                                              preds[r.run_id], CFG["ece_bins"]) for r in runs.itertuples()])
    jaccard = jaccard_table(runs[["run_id", "arch", "width", "seed"]],
                            {rid: p["preds"] != p["labels"] for rid, p in preds.items()})
    a, tables, tex = width_sweep_paper(runs, per_class, classes, jaccard, reference=True, dataset="cifar100")
    tables["reliability"] = reliability
    (out / "paper").mkdir()
    for name, f in FIGURES.items():
        save(plot(f.module, {t: tables[t] for t in f.tables}, f.params({"analysis": CFG})), out / f"{name}.pdf")
    (out / "paper" / "paper.tex").write_text(tex.replace("\\graphicspath{{../figures/}}", "\\graphicspath{{../}}"))
    shutil.copy(TEMPLATES.parent / "references.bib", out / "paper" / "references.bib")
    return a, out


def test_the_released_runs_have_the_originals_shape(released_paper):
    a, _ = released_paper
    fam = a.numbers["families"]
    assert a.numbers["n_runs"] == 90 and fam["scalecnn"]["n_sizes"] + fam["mobilenetv2"]["n_sizes"] == 18
    assert a.numbers["bottom_k"] == [5, 10, 20]  # 100 classes: every k is defined


@needs_tex
def test_released_paper_keeps_floats_beside_their_sections_and_reads_cleanly(released_paper):
    _, out = released_paper
    pdf = out / "paper" / "paper.pdf"
    compile_pdf(out / "paper" / "paper.tex", pdf)
    found = placements(pdf)
    assert {(p.kind, p.number) for p in found} >= {("Figure", n) for n in range(1, 8)} | {("Table", n) for n in range(1, 4)}
    assert misplaced(pdf) == []
    assert text_problems(pdf, latex_log(pdf)) == []
    text = " ".join(" ".join(page_texts(pdf)).split())
    assert text.index("Table 3:") < text.index("References") < text.index("Reproducibility")


def not_blank(png) -> bool:
    """More than 1% of the pixels differ from the background, in more than two colours."""
    img = matplotlib.image.imread(png)[..., :3]
    ink = np.abs(img - img[0, 0]).sum(axis=-1) > 0.05
    return ink.mean() > 0.01 and len(np.unique(img.reshape(-1, 3).round(2), axis=0)) > 2


@needs_tex
def test_every_released_figure_renders_to_a_picture_that_is_not_blank(released_paper, tmp_path):
    _, out = released_paper
    for name in FIGURES:
        render_page(out / f"{name}.pdf", tmp_path / f"{name}.png", dpi=40)
        assert not_blank(tmp_path / f"{name}.png"), name


def test_family_colours_and_markers_are_the_registrys_in_every_figure():
    """A line in a family's colour carries that family's marker (or none: fits, or a starred peak)."""
    runs, per_class = synthetic_tables({"scalecnn": [2, 3, 4], "mobilenetv2": [0.1, 0.25, 0.5]}, seeds=[0, 1])
    runs["ece"] = runs["width"].map({2: 0.05, 3: 0.09, 4: 0.04, 0.1: 0.05, 0.25: 0.09, 0.5: 0.04})
    _, tables, _ = width_sweep_paper(runs, per_class, [f"class_{i}" for i in range(10)])
    style = {matplotlib.colors.to_hex(f.colour): f.marker for f in families.FAMILIES.values()}
    seen = set()
    for name in ("error_vs_params", "local_exponents", "specialisation", "ece"):
        f = FIGURES[name]
        fig = plot(f.module, {t: tables[t] for t in f.tables}, f.params({"analysis": CFG}))
        for ax in fig.axes:
            for ln in ax.get_lines():
                c = matplotlib.colors.to_hex(ln.get_color())
                if c in style and ln.get_marker() not in ("None", "", None, "*", "_", "|"):  # errorbar caps: "_"
                    assert ln.get_marker() == style[c], (name, c, ln.get_marker())
                    seen.add(c)
    assert seen == {matplotlib.colors.to_hex(families.get(a).colour) for a in ("scalecnn", "mobilenetv2")}
    plt.close("all")


def test_a_reason_shared_by_every_budget_is_stated_once():
    from tinyscale.paper.render import common_items

    reasons = {"4": ["no paired 8-bit runs", "tied"], "8": ["wins", "no paired 8-bit runs"]}
    assert common_items(["4", "8"], reasons) == ["no paired 8-bit runs"]
    assert common_items(["4", "8", "16"], reasons) == []  # a budget without reasons shares none
    assert common_items(["4"], reasons) == []  # one budget: nothing to factor out

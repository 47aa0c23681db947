import re
import shutil
import subprocess

import jinja2
import pandas as pd
import pytest
from conftest import synthetic_tables

from tinyscale.analysis.reference import COMPARISON_COLUMNS
from tinyscale.analysis.width_sweep import analyse
from tinyscale.paper.latex import compile_pdf
from tinyscale.paper.pdfcheck import latex_log, text_problems
from tinyscale.paper.render import TEMPLATES, environment, fmt, paper_context, pm, render, tex_escape
from tinyscale.studies import width_sweep

CFG = {"bootstrap_samples": 50, "bootstrap_seed": 0, "bottom_k": [5, 10, 20], "kaplan_alpha": 0.076, "ece_bins": 15}
ENV = {"n_runs": 1, "code_version": ["x"], "python": ["3"], "torch": ["t"], "torchvision": ["tv"], "numpy": ["n"],
       "device": ["cpu"], "platform": ["linux"], "total_wall_time_s": 36.0, "max_wall_time_s": 12.0, "resumed_runs": 0,
       "gpu_setups": []}


def test_escape_is_one_pass():
    assert tex_escape(r"50% of a_b & {c} \ $x$ #1 ~^") == (
        r"50\% of a\_b \& \{c\} \textbackslash{} \$x\$ \#1 \textasciitilde{}\textasciicircum{}"
    )


def test_latex_safe_delimiters_and_strict_undefined(tmp_path):
    (tmp_path / "t.tex.j2").write_text(
        "\\section{A}\n\\BLOCK{for x in xs}\\VAR{x|tex} \\BLOCK{endfor}\n\\#{ a comment }%# line comment\n{\\bf \\VAR{v|fmt(2)}}\n"
    )
    out = render(tmp_path, "t.tex.j2", {"xs": ["a_b", "c&d"], "v": 0.12345})
    assert out == "\\section{A}\na\\_b c\\&d \n{\\bf 0.12}\n"  # both comment kinds vanish
    with pytest.raises(jinja2.UndefinedError, match="'v' is undefined"):
        render(tmp_path, "t.tex.j2", {"xs": []})


def test_numbers_never_print_as_nan():
    assert fmt(None) == "--" and fmt(0.5, 1) == "0.5"
    with pytest.raises(ValueError, match="non-finite"):
        fmt(float("nan"))
    assert pm(0.1234, None) == "0.123" and pm(0.1234, 0.01) == r"0.123 \pm 0.010"
    assert not environment(TEMPLATES).autoescape


def _context(runs, per_class, dataset="digits"):
    a = analyse(runs, per_class, [f"class_{i}" for i in range(10)], CFG)
    recipe = {"lr": 0.1, "momentum": 0.9, "nesterov": False, "weight_decay": 5e-4, "lr_min": 1e-5, "epochs": 2,
              "batch_size": 8, "drop_last": True, "label_smoothing": 0.0,
              "augment": {"crop_padding": 1, "flip": False, "cutout": 2}}
    numbers = {"name": "t", "dataset": dataset, "width_sweep": {**a.numbers, "recipe": recipe, "reference": None}}
    tables = {"summary": a.summary, "fits": a.fits, "local_exponents": a.local, "specialisation": a.specialisation,
              "comparison": pd.DataFrame(columns=COMPARISON_COLUMNS), "jaccard": pd.DataFrame()}
    study = width_sweep.STUDY
    context = paper_context(numbers, {"title": "T", "authors": "A"}, ENV, tables, {"x": "x.pdf"})
    context["studies"] = [{"name": study.name, "abstract": study.abstract, "section": study.section}]
    return a, context


def test_small_sweep_degrades_gracefully(tmp_path):
    """One seed; two ScaleCNN sizes and one MobileNetV2: no fit, no ±, no NaN, and a stated reason."""
    runs, per_class = synthetic_tables({"scalecnn": [2, 4], "mobilenetv2": [0.1]}, seeds=[0])
    a, ctx = _context(runs, per_class)
    fam = a.numbers["families"]
    assert fam["scalecnn"]["fit"] is None and "2 size(s)" in fam["scalecnn"]["fit_skipped"]
    assert fam["mobilenetv2"]["local_last"] is None and fam["scalecnn"]["acc_smallest_std"] is None
    ctx["figures"] = {k: "missing.pdf" for k in ["error_vs_params", "local_exponents", "jaccard", "class_heatmap",
                                                 "specialisation", "ece", "reliability"]}
    tex = render(TEMPLATES, "paper.tex.j2", ctx)
    assert not re.search(r"\bnan\b", tex, re.IGNORECASE)
    assert "\\pm" not in tex.split("\\section{Results}")[1].split("\\begin{figure}")[0]
    assert "not fitted: 2 size(s) in the sweep; a power-law fit needs at least 3" in tex


def test_a_sweep_at_chance_prints_why_it_has_no_fit():
    """Diverged or untrained models (every error at chance, 1 − 1/10) get no exponent, R² or ratio: the reason instead."""
    runs, per_class = synthetic_tables({"scalecnn": [2, 3, 4], "mobilenetv2": [0.1, 0.25, 0.5]}, seeds=[0, 1])
    chance = runs["arch"] == "scalecnn"
    runs.loc[chance, "error"], runs.loc[chance, "top1"] = 0.9, 0.1
    a, ctx = _context(runs, per_class)
    fam = a.numbers["families"]
    assert fam["scalecnn"]["fit"] is None and fam["mobilenetv2"]["fit"] is not None
    ctx["figures"] = {k: "f.pdf" for k in ["error_vs_params", "local_exponents", "jaccard", "class_heatmap",
                                           "specialisation", "ece", "reliability"]}
    tex = " ".join(render(TEMPLATES, "paper.tex.j2", ctx).split())
    reason = "3 of 3 sizes are at or above chance error (0.900 for 10 classes), so they learned nothing to fit"
    assert f"No power law is fitted for ScaleCNN: {reason}" in tex and f"not fitted: {reason}" in tex
    assert f"No power law is fitted for ScaleCNN ({reason})." in tex  # the abstract
    assert a.fits.set_index("arch").loc["scalecnn", "skipped"] == reason


def test_fit_with_seeds_renders_alpha_with_spread():
    runs, per_class = synthetic_tables({"scalecnn": [2, 3, 4]}, seeds=[0, 1, 2])
    a, ctx = _context(runs, per_class)
    ctx["figures"] = {k: "f.pdf" for k in ["error_vs_params", "local_exponents", "jaccard", "class_heatmap",
                                           "specialisation", "ece", "reliability"]}
    tex = render(TEMPLATES, "paper.tex.j2", ctx)
    fit = a.numbers["families"]["scalecnn"]["fit"]
    assert f"\\alpha = {fit['alpha']:.3f} \\pm {fit['alpha_seed_std']:.3f}" in tex


@pytest.mark.skipif(shutil.which("latexmk") is None, reason="latexmk not installed (README setup installs TeX)")
def test_compile_pdf_and_clear_latex_error(tmp_path):
    tex = tmp_path / "doc.tex"
    tex.write_text("\\documentclass{article}\\begin{document}Hello 0.156\\end{document}\n")
    compile_pdf(tex, tmp_path / "doc.pdf")
    text = subprocess.run(["pdftotext", str(tmp_path / "doc.pdf"), "-"], capture_output=True, text=True).stdout
    assert "Hello 0.156" in text
    assert text_problems(tmp_path / "doc.pdf", latex_log(tmp_path / "doc.pdf")) == []
    tex.write_text("\\documentclass{article}\\begin{document}\\undefinedmacro\\end{document}\n")
    with pytest.raises(RuntimeError, match="Undefined control sequence"):
        compile_pdf(tex, tmp_path / "bad.pdf")


def test_appendix_says_when_runs_were_trained_by_different_code_versions():
    runs, per_class = synthetic_tables({"scalecnn": [2, 3, 4]}, seeds=[0, 1])
    _, ctx = _context(runs, per_class)
    ctx["figures"] = {k: "f.pdf" for k in ["error_vs_params", "local_exponents", "jaccard", "class_heatmap",
                                           "specialisation", "ece", "reliability"]}
    assert "different code versions" not in render(TEMPLATES, "paper.tex.j2", ctx)
    ctx["env"] = {**ENV, "code_version": ["0.1.0+abc1234", "0.1.0+def5678"]}
    tex = render(TEMPLATES, "paper.tex.j2", ctx)
    assert "trained by 2 different code versions" in " ".join(tex.split())


def test_outputs_follow_the_umask(tmp_path):
    """Written files are readable by the user's group on a shared file system (mkstemp's 0600 is not kept)."""
    import os

    from tinyscale.io import write_text

    old = os.umask(0o022)
    try:
        write_text(tmp_path / "a.txt", "x")
        os.umask(0o077)
        write_text(tmp_path / "b.txt", "x")
    finally:
        os.umask(old)
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "b.txt").stat().st_mode & 0o777 == 0o600

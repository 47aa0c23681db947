"""The HTML report's texts: each figure's caption is the paper's (one template renders both), turned
into reStructuredText that docutils renders cleanly; each study's headline numbers."""

import re
from html import unescape

import pytest
from conftest import synthetic_tables
from docutils.core import publish_parts

from tinyscale.paper.render import TEMPLATES, render
from tinyscale.paper.report import caption_rst, figure_captions, headline_rows, latex_to_rst
from tinyscale.studies import precision, scale_time, width_sweep


def paper_captions(tex: str) -> dict[str, str]:
    """Figure file stem → the text of its \\caption{…} (braces balanced), whitespace normalised."""
    out = {}
    for body in re.findall(r"\\begin\{figure\}(.*?)\\end\{figure\}", tex, re.DOTALL):
        stem = re.search(r"\\includegraphics(?:\[[^\]]*\])?\{([^}]+?)(?:\.pdf)?\}", body).group(1)
        start = body.index("\\caption{") + len("\\caption{")
        depth, end = 1, start
        while depth:
            depth += {"{": 1, "}": -1}.get(body[end], 0) if body[end - 1] != "\\" else 0
            end += 1
        out[stem] = " ".join(body[start:end - 1].split())
    return out


def width_sweep_context():
    from test_paper import _context

    from tinyscale.analysis.forecast import study_forecast

    runs, per_class = synthetic_tables({"scalecnn": [2, 3, 4, 6], "mobilenetv2": [0.1, 0.25]}, seeds=[0, 1, 2])
    _, ctx = _context(runs, per_class)
    # with the original's runs (here these runs again) the paper prints the forecast's backtest and its figure
    ws = ctx["n"]["width_sweep"]
    ws["reference"] = dict(ws)
    ws["forecast"] = study_forecast(runs, runs, 10, samples=50)[1]
    ctx["figures"] = {f.name: f.name for f in width_sweep.STUDY.figures}
    return ctx


def scale_time_context():
    import test_scale_time_paper as t

    tables, numbers = t.study(t.FULL)
    ctx = t.context(numbers, tables)
    ctx["figures"] = {f.name: f.name for f in scale_time.STUDY.figures}
    return ctx


def precision_context():
    import test_precision_paper as t

    tables, numbers = t.study(t.runs_table())
    ctx = t.context(numbers, tables)
    ctx["figures"] = {f.name: f.name for f in precision.STUDY.figures}
    return ctx


STUDIES = {"width_sweep": (width_sweep.STUDY, width_sweep_context), "scale_time": (scale_time.STUDY, scale_time_context),
           "precision": (precision.STUDY, precision_context)}


@pytest.mark.parametrize("name", STUDIES)
def test_report_captions_are_the_papers_captions(name):
    study, make_context = STUDIES[name]
    ctx = make_context()
    in_paper = paper_captions(render(TEMPLATES, study.section, ctx))
    captions = figure_captions(ctx, [study])
    # every figure has a caption; the paper prints those its config draws (st_unified and pp_tasks
    # only with the unified law's arms and task arms)
    assert set(captions) == {f.name for f in study.figures}
    assert set(in_paper) == {f.name for f in study.figures} - {"st_unified", "pp_tasks"}
    for figure, text in in_paper.items():
        assert text == captions[figure] and text
        assert "\\VAR" not in text and "\\BLOCK" not in text
        html = publish_parts(latex_to_rst(text), writer="html")["body"]
        assert "system-message" not in html and "problematic" not in html, (figure, html)


def test_a_study_with_figures_needs_a_caption_for_each():
    import dataclasses

    ctx = width_sweep_context()
    extra = dataclasses.replace(width_sweep.STUDY, figures=(*width_sweep.STUDY.figures,
                                                             dataclasses.replace(width_sweep.STUDY.figures[0], name="new")))
    with pytest.raises(ValueError, match="no caption macro for the figure 'new'"):
        figure_captions(ctx, [extra])
    with pytest.raises(ValueError, match="no captions template"):
        figure_captions(ctx, [dataclasses.replace(width_sweep.STUDY, captions=None)])


def test_latex_becomes_restructured_text():
    rst = latex_to_rst(r"Error (W$_b$A8) against $N^{\gamma} t$, log--log; 50\% of a\_b*c \& `d' --- see Figure~\ref{fig:pp-storage}.")
    assert rst == (r"Error (W\ :math:`_b`\ A8) against \ :math:`N^{\gamma} t`\ , log–log; 50% of a\_b\*c & \`d' — "
                   r"see Figure pp-storage.")
    html = publish_parts(rst, writer="html")["body"]
    assert "system-message" not in html
    text = unescape(re.sub(r"<[^>]+>", "", html))
    assert "Error (WbA8) against" in text and "a_b*c & `d'" in text and "$" not in text and "\\" not in text
    assert latex_to_rst(r"\emph{not} \texttt{a_b}") == r"*not*\  \ ``a_b``"


def test_caption_files_are_raw_for_snakemakes_jinja():
    import jinja2

    tex = r"$x^{{2}}$ and ${#1}$"  # Jinja's {{ and {# in LaTeX math
    assert "{{" in latex_to_rst(tex) and "{#" in latex_to_rst(tex)
    assert jinja2.Environment().from_string(caption_rst(tex)).render().strip() == latex_to_rst(tex)


def test_headline_numbers_come_from_numbers_json():
    ctx = scale_time_context()
    rows = {r["quantity"]: r["value"] for r in headline_rows(scale_time.STUDY, ctx["n"])}
    arm = ctx["n"]["scale_time"]["arms"][ctx["n"]["scale_time"]["primary_arm"]]
    assert rows["trade-off exponent k̂"] == f"{arm['k_hat']:.4g}" and rows["verdict"] == arm["verdict"]

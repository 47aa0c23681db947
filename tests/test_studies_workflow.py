"""The two further studies end to end on a tiny config: the PDF states the scale–time k̂ and the
winning bit-width of numbers.json, and the runs the studies share with the width sweep train once."""

import json
import re

import pytest
import yaml
from conftest import TINY, assert_reads_cleanly, copy_project, pdf_text, snakemake

pytestmark = pytest.mark.workflow

STUDIES = {
    **TINY,
    "name": "studies",
    "models": {"scalecnn": [2, 3, 4]},
    "studies": {
        "width_sweep": {"enabled": True},
        "scale_time": {"enabled": True, "widths": [2, 3, 4], "seeds": [0, 1], "lrs": [0.1], "losses": ["mse"],
                       "train_subset": 200, "epoch_caps": [{"max_params": None, "epochs": 6}],
                       "analysis": {"bootstrap": {"samples": 50}}},
        "precision": {"enabled": True, "budget_widths": [2, 3], "bits": [32, 4, 2], "secondary_bits": [],
                      "tolerance": 0.3, "seeds": [0, 1], "finetune": {"epochs": 1, "lr": 0.005}},
    },
}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    project = copy_project(tmp_path_factory.mktemp("studies"))
    (project / "studies.yaml").write_text(yaml.safe_dump(STUDIES))
    snakemake(project, config="studies.yaml")
    text = pdf_text(project / "results/studies/paper/paper.pdf")
    return project, json.loads((project / "results/studies/numbers.json").read_text()), text


def test_pdf_states_the_scale_time_exponent(built):
    _, numbers, text = built
    st = numbers["scale_time"]
    arm = st["arms"][st["primary_arm"]]
    assert numbers["studies"] == ["width_sweep", "scale_time", "precision"]  # the paper's order
    assert "Scale–time equivalence" in text
    if arm["k_hat"] is not None:
        assert f"{arm['k_hat']:.3f}" in text
    else:  # a tiny sweep may reach no common threshold: the section must say why
        assert arm["skipped"] and arm["skipped"].split(";")[0][:20] in text
    assert not re.search(r"\bnan\b|\bNone\b", text)


def test_the_three_study_paper_reads_cleanly_and_every_figure_is_drawn(built):
    """The same three studies and figures as the quick build: floats beside their sections, no text
    faults, and every figure rendered to a picture that is not blank."""
    project, _, _ = built
    from test_paper_layout import not_blank

    from tinyscale.paper.pages import render_page

    assert_reads_cleanly(project / "results/studies/paper/paper.pdf")
    figures = sorted((project / "results/studies/figures").glob("*.pdf"))
    assert len(figures) == 14  # 7 width sweep, 4 scale-time, 3 precision
    for pdf in figures:
        render_page(pdf, pdf.with_suffix(".png"), dpi=40)
        assert not_blank(pdf.with_suffix(".png")), pdf.name


def test_pdf_states_the_winning_bit_width(built):
    project, numbers, text = built
    pp = numbers["precision"]
    winners = pp["arms"]["a8"]["winners"]
    assert winners, pp
    for budget, win in winners.items():
        assert f"b∗ = {win['bits']} at c={budget}" in text
    assert pp["arms"]["a8"]["verdict"]["verdict"] in text


def test_shared_runs_train_once_and_curves_are_written(built):
    project, _, _ = built
    runs = project / "results/studies/runs"
    # the precision study's fp32 starting points include the width sweep's c=2 and c=3 runs: one target each
    assert (runs / "scalecnn-c2-cosine-s0/model.pt").exists()
    assert len(list(runs.glob("scalecnn-c2-cosine-s*"))) == 2  # seeds 0 and 1, shared by both studies
    curve = (runs / "scalecnn-c3-st_lr0.1_mse_e6-s1/curve.csv").read_text().splitlines()
    assert curve[0] == "step,epoch,test_error,test_loss,train_error,train_loss" and len(curve) > 8
    qat = json.loads((runs / next(p.name for p in runs.glob("scalecnn-*-qat_w2a8-s0")) / "run.json").read_text())
    assert qat["recipe"] == "qat_w2a8" and qat["epochs_done"] == 1

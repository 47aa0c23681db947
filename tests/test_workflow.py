"""The workflow end to end on a tiny config: a PDF that states the computed α, minimal rebuilds, lint."""

import html
import json
import re
import shutil
import subprocess
import sys
import tarfile
import time

import pytest
import yaml
from conftest import TINY, assert_reads_cleanly, copy_project, pdf_text, snakemake

pytestmark = pytest.mark.workflow



def planned_jobs(project, config="tiny.yaml"):
    """{rule: count} of what a dry run would execute."""
    out = snakemake(project, "--dry-run", config=config).stdout
    if "Nothing to be done" in out:
        return {}
    table = out.split("Job stats:")[1].split("total")[0]
    return {m[0]: int(m[1]) for m in re.findall(r"^(\w+)\s+(\d+)$", table, re.MULTILINE)}


def write_config(project, name, **changes):
    (project / name).write_text(yaml.safe_dump({**TINY, **changes}))


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A copy of the project with the tiny config, built once to the PDF."""
    project = copy_project(tmp_path_factory.mktemp("project"))
    write_config(project, "tiny.yaml")
    snakemake(project)
    return project


def test_pdf_states_the_alpha_of_numbers_json(project):
    pdf = project / "results/tiny/paper/paper.pdf"
    assert pdf.stat().st_size > 10_000
    numbers = json.loads((project / "results/tiny/numbers.json").read_text())
    ws = numbers["width_sweep"]
    alpha = ws["families"]["scalecnn"]["fit"]["alpha"]
    text = pdf_text(pdf)
    assert f"{alpha:.3f}" in text
    assert ws["families"]["mobilenetv2"]["fit"] is None
    assert "not fitted: 1 size(s) in the sweep" in text
    assert not re.search(r"\bnan\b", text, re.IGNORECASE)
    assert ws["n_runs"] == 8 and numbers["compute"]["n_runs"] == 8 and numbers["studies"] == ["width_sweep"]
    assert_reads_cleanly(pdf)


def test_run_outputs_and_provenance(project):
    run = project / "results/tiny/runs/scalecnn-c2-cosine-s1"
    record = json.loads((run / "run.json").read_text())
    assert record["epochs_done"] == 2 and record["num_params"] > 0 and record["wall_time_s"] > 0
    assert record["run_id"] == "scalecnn-c2-cosine-s1" and record["recipe"] == "cosine"
    assert {"code_version", "torch", "torchvision", "numpy", "device", "python"} <= set(record)
    log = (run / "train_log.csv").read_text().splitlines()
    assert log[0] == "epoch,lr,train_loss,test_acc,epoch_time_s" and len(log) == 3
    assert not (project / "results/tiny/state/scalecnn-c2-cosine-s1.pt").exists()  # removed once complete
    import numpy as np

    with np.load(run / "predictions.npz") as z:
        assert z["probs"].dtype == np.float32 and z["probs"].shape == (450, 10) and z["preds"].shape == (450,)
    progress = (project / "results/tiny/logs/train/scalecnn-c2-cosine-s1.log").read_text()
    assert "epoch 2/2" in progress and "ETA" in progress


def test_arxiv_tarball_compiles_alone_to_the_same_text(project, tmp_path):
    with tarfile.open(project / "results/tiny/paper/arxiv.tar.gz") as tar:
        names = tar.getnames()
        tar.extractall(tmp_path, filter="data")
    figures = sorted(p.name for p in (project / "results/tiny/figures").glob("*.pdf"))
    assert sorted(names) == sorted(["paper.tex", "paper.bbl", *(f"figures/{f}" for f in figures)])  # no .bib, no junk
    assert "../" not in (tmp_path / "paper.tex").read_text()
    # an empty folder, no network, no bibtex: pdflatex twice (citations and references settle)
    for _ in range(2):
        proc = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape", "paper.tex"],
                              cwd=tmp_path, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout[-3000:]
    assert "undefined" not in (tmp_path / "paper.log").read_text(errors="replace").lower()
    assert pdf_text(tmp_path / "paper.pdf") == pdf_text(project / "results/tiny/paper/paper.pdf")


# Run inside the report page: show each figure as its entry's view button and info do (the
# app's own setView/showResultInfo), record whether its image decoded and what the info panel
# says, leave the last one on screen, and write the record into the page for --dump-dom.
BROWSE_FIGURES = """
<script>
window.addEventListener("load", () => {
  const figures = Object.entries(results).filter(([path, r]) => r.mime_type === "image/png");
  const seen = [];
  const show = (i) => {
    if (i === figures.length) {
      const out = document.createElement("pre");
      out.id = "tinyscale-check";
      out.textContent = JSON.stringify({categories: Object.keys(categories), figures: seen});
      document.body.appendChild(out);
      return;
    }
    const [path, r] = figures[i];
    app.setView({content: "img", contentPath: r.data_uri, resultPath: path});
    setTimeout(() => app.showResultInfo(path), 100);  // after the first state change lands
    setTimeout(() => {
      const img = document.querySelector("#app img[src^='data:image/png']");
      seen.push({name: r.name, labels: r.labels, decoded: Boolean(img && img.complete && img.naturalWidth > 100),
                 page: document.querySelector("#app").innerText});
      show(i + 1);
    }, 300);
  };
  setTimeout(() => show(0), 500);
});
</script>
"""


def chromium(*args, timeout=120):
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=20000", "--window-size=1400,1000", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=True)


@pytest.mark.skipif(not (shutil.which("chromium") or shutil.which("chromium-browser")),
                    reason="chromium not installed (./setup.sh --test installs it)")
def test_report_shows_every_figure_with_the_papers_caption(project, tmp_path):
    report = tmp_path / "report.html"
    snakemake(project, "--report", str(report))
    page = tmp_path / "browse.html"
    head, end, tail = report.read_text().rpartition("</body>")  # the page's own; its scripts hold others
    page.write_text(head + BROWSE_FIGURES + end + tail)

    dom = chromium("--dump-dom", page.as_uri()).stdout
    check = json.loads(html.unescape(re.search(r'<pre id="tinyscale-check">(.*?)</pre>', dom, re.DOTALL).group(1)))
    assert {"Paper", "Scaling laws in the tiny regime"} <= set(check["categories"])
    tex = (project / "results/tiny/paper/paper.tex").read_text()
    shown = {f["labels"]["figure"]: f for f in check["figures"]}
    assert set(shown) == {p.stem for p in (project / "results/tiny/figures").glob("*.pdf")}
    for name, f in shown.items():
        assert f["decoded"], f"{name}: the figure's image did not render"
        # the caption the paper prints, up to its first markup, is in the page beside the figure
        caption = re.search(r"\\includegraphics[^{]*\{[^}]*/" + name + r"\.pdf\}\s*\\caption\{([^$\\~{}]+)", tex).group(1)
        caption = " ".join(caption.split()).replace("---", "—").replace("--", "–")
        assert len(caption) > 10 and caption in " ".join(f["page"].split()), name

    shot = tmp_path / "shot.png"
    chromium(f"--screenshot={shot}", page.as_uri())
    import matplotlib.image

    pixels = matplotlib.image.imread(shot)[..., :3]
    content = pixels[:, int(0.55 * pixels.shape[1]):]  # right of the navigation bar (at most half): the figure
    assert content.std() > 0.05 and (content.mean(axis=2) < 0.9).mean() > 0.01, "the report's figure view is blank"
    # a family's coloured points and lines: a grey page or a broken image has none
    colourful = (content.max(axis=2) - content.min(axis=2) > 0.3).sum()
    assert colourful > 300, f"{colourful} coloured pixels on screen: not a figure"


def test_nothing_to_do_after_a_build(project):
    assert planned_jobs(project) == {}


def edit(path):
    """A real edit (Snakemake compares checksums, so touching alone would not count)."""
    with open(path, "a") as fh:
        fh.write("\n# edited by a test\n" if path.suffix == ".py" else "\n%# edited by a test\n")


TEMPLATES = "src/tinyscale/paper/templates"
FIGURES = "src/tinyscale/paper/figures"


def test_editing_a_template_reruns_only_render_and_compile(project):
    edit(project / TEMPLATES / "width_sweep/results.tex.j2")
    assert planned_jobs(project) == {"render_paper": 1, "compile_paper": 1, "arxiv": 1, "all": 1}
    snakemake(project)
    assert planned_jobs(project) == {}


def test_editing_a_figures_code_reruns_only_that_figure_and_the_paper(project):
    edit(project / FIGURES / "ece.py")
    assert planned_jobs(project) == {"figure_ece": 1, "compile_paper": 1, "arxiv": 1, "all": 1}
    snakemake(project)
    assert planned_jobs(project) == {}


def test_adding_a_seed_or_a_width_trains_only_the_new_runs(project):
    write_config(project, "more_seeds.yaml", seeds=[0, 1, 2])
    jobs = planned_jobs(project, "more_seeds.yaml")
    assert jobs["train"] == 4 and "predict" not in jobs  # three ScaleCNN sizes + one MobileNetV2, seed 2; training predicts
    write_config(project, "more_widths.yaml", models={"scalecnn": [2, 3, 4, 5], "mobilenetv2": [0.1]})
    jobs = planned_jobs(project, "more_widths.yaml")
    assert jobs["train"] == 2 and "prepare_data" not in jobs


# Settings that cannot change a run's weights, each changed on the built project.
OPERATIONAL = [
    ("device", {"device": "auto"}),
    ("jobs_per_gpu", {"jobs_per_gpu": 2}),
    ("checkpoint_every", {"train": {**TINY["train"], "checkpoint_every": 2}}),
    ("eval_every", {"train": {**TINY["train"], "eval_every": 2}}),
    ("keep_resume_state", {"train": {**TINY["train"], "keep_resume_state": True}}),
    ("compile_cache", {"train": {**TINY["train"], "compile_cache": "/tmp/elsewhere"}}),
]


@pytest.mark.parametrize("key,change", OPERATIONAL, ids=[k for k, _ in OPERATIONAL])
def test_operational_settings_retrain_nothing(project, key, change):
    write_config(project, f"op_{key}.yaml", **change)
    assert planned_jobs(project, f"op_{key}.yaml") == {}


def test_title_and_authors_rebuild_only_the_paper(project):
    write_config(project, "retitled.yaml", title="Another title", authors="Someone Else")
    assert planned_jobs(project, "retitled.yaml") == {"render_paper": 1, "compile_paper": 1, "arxiv": 1, "all": 1}


def test_a_weight_changing_setting_retrains(project):
    write_config(project, "lr.yaml", train={**TINY["train"], "lr": 0.04})
    assert planned_jobs(project, "lr.yaml")["train"] == 8


def test_scripts_run_outside_snakemake(project):
    """A workflow script runs as a plain Python program through the mock snakemake object."""
    pdf = project / "results/tiny/figures/ece.pdf"
    pdf.unlink()
    code = (
        "import sys; sys.path.insert(0, 'workflow/scripts')\n"
        "from _helpers import mock_snakemake\n"
        "snakemake = mock_snakemake('figure_ece', configfile='tiny.yaml')\n"
        "exec(open('workflow/scripts/figure.py').read())\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=project, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert pdf.stat().st_size > 1000


def test_a_deleted_checkpoint_is_rebuilt(project):
    (project / "results/tiny/runs/scalecnn-c3-cosine-s0/model.pt").unlink()
    assert train_jobs(planned_jobs(project)) == 1
    snakemake(project)
    assert planned_jobs(project) == {}  # the retrained run is bit-identical: its tables did not change


def test_deleted_predictions_logs_and_tables_are_rebuilt(project):
    """Files nothing downstream reads (a training log, tables the paper does not print) are rebuilt too."""
    root = project / "results/tiny"
    for path in ("runs/scalecnn-c3-cosine-s1/predictions.npz", "runs/scalecnn-c4-cosine-s0/train_log.csv",
                 "tables/runs.csv", "tables/per_class.csv", "tables/reliability.csv", "tables/calibration.csv",
                 "tables/summary.csv", "reference/runs.csv"):
        (root / path).unlink()
    jobs = planned_jobs(project)
    assert train_jobs(jobs) == 2 and jobs["aggregate"] == 1 and jobs["analyse_width_sweep"] == 1 and jobs["reference"] == 1
    snakemake(project)
    assert planned_jobs(project) == {}


def train_jobs(jobs: dict) -> int:
    """Training jobs planned, over the rules of every resource class (train, train_r1, …)."""
    return sum(n for rule, n in jobs.items() if re.fullmatch(r"train(_r\d+)?", rule))


def truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


# (damaged file, the rule that rebuilds it): each is found by the first job that reads it
# (aggregate, environment, a train job), which sets it aside and names it.
TRUNCATED = [
    ("runs/scalecnn-c3-cosine-s1/predictions.npz", "train"),
    ("runs/scalecnn-c2-cosine-s0/model.pt", "train"),
    ("data/dataset.npz", "prepare_data"),
]


@pytest.mark.parametrize("file,rule", TRUNCATED, ids=[f.split("/")[-1] for f, _ in TRUNCATED])
def test_a_truncated_file_is_named_and_the_same_command_rebuilds_it(project, file, rule):
    path = project / "results/tiny" / file
    truncate(path)
    failed = snakemake(project, check=False)
    assert failed.returncode != 0
    out = failed.stdout + failed.stderr
    assert f"results/tiny/{file}: not a readable" in out, out[-3000:]
    moved = f"Moved it to results/tiny/{file}.corrupt; run the same command again and Snakemake rebuilds it (rule {rule}"
    assert re.search(re.escape(moved) + r"(_r\d+)?\)", out), out[-3000:]
    assert not path.exists() and path.with_name(path.name + ".corrupt").exists()
    snakemake(project)  # the same command
    assert path.exists() and planned_jobs(project) == {}

def test_figures_are_byte_stable(project):
    fig = project / "results/tiny/figures/error_vs_params.pdf"
    before = fig.read_bytes()
    time.sleep(1)
    snakemake(project, "--forcerun", "figure_error_vs_params", "--until", "figure_error_vs_params")
    assert fig.read_bytes() == before


def test_lint_is_clean(project):
    proc = snakemake(project, "--lint", check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_bad_config_fails_before_any_job(project):
    write_config(project, "bad.yaml", device="tpu")
    proc = snakemake(project, "--dry-run", config="bad.yaml", check=False)
    assert proc.returncode != 0
    assert "config key 'device' is 'tpu'; allowed values: 'auto', 'cpu', 'cuda'" in proc.stdout + proc.stderr

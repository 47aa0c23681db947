"""Nothing silently wrong: a resume state from other data or other start weights, a damaged table,
curve or JSON file, a plugin that replaces a built-in family, a reordered config, a full disk. Each
is named and set aside (then rebuilt or trained again), never used as if it were right."""

import dataclasses
import re

import pytest
from conftest import ROOT
from test_train import AUG, CFG, SETTINGS, tiny_dataset, train_run, weights_checksum

from tinyscale.engine.loop import train
from tinyscale.engine.signals import Interrupted
from tinyscale.runs import Run


def test_a_resume_state_from_other_data_is_set_aside_and_the_run_starts_over(tmp_path):
    run, state = Run("scalecnn", 2, "cosine", 0), tmp_path / "state.pt"
    old, new = tiny_dataset(seed=0), tiny_dataset(seed=1)  # e.g. another data.split_seed
    with pytest.raises(Interrupted):
        train_run(run, old, CFG, AUG, state_path=state, stop_after_steps=4)
    lines = []
    resumed = train_run(run, new, CFG, AUG, state_path=state, progress=lines.append)
    assert re.match(rf"warning: the resume state {re.escape(str(state))} was trained on other data \(the prepared "
                    rf"dataset's content differs.*\): it is moved to {re.escape(str(state))}\.stale; training this run from the start", lines[0])
    assert not any("resuming" in line for line in lines)
    assert resumed.resumed_from is None and state.with_name("state.pt.stale").exists()  # kept, not deleted
    assert weights_checksum(resumed.model) == weights_checksum(train_run(run, new, CFG, AUG).model)


def test_the_same_data_still_resumes(tmp_path):
    run, state, ds = Run("scalecnn", 2, "cosine", 0), tmp_path / "state.pt", tiny_dataset()
    with pytest.raises(Interrupted):
        train_run(run, ds, CFG, AUG, state_path=state, stop_after_steps=4)
    resumed = train_run(run, tiny_dataset(), CFG, AUG, state_path=state)  # equal content, another object
    assert resumed.resumed_from == {"epoch": 1, "step": 1}


@pytest.mark.parametrize("packed", [False, True])
def test_a_qat_state_from_other_start_weights_is_set_aside(tmp_path, packed):
    """The fp32 run a QAT run starts from was retrained (e.g. train.epochs changed): its interrupted
    QAT state fine-tuned the old weights, so it must not be continued."""
    ds = tiny_dataset()
    seeds = (0, 1) if packed else (0,)
    qat = dataclasses.replace(CFG, name="qat", epochs=2, lr=0.01, weight_bits=4, act_bits=8, init_from="cosine")
    fp32 = lambda cfg: [train_run(Run("scalecnn", 2, "cosine", s), ds, cfg, AUG).model.state_dict() for s in seeds]  # noqa: E731
    old, new = fp32(CFG), fp32(dataclasses.replace(CFG, epochs=2))
    runs = [Run("scalecnn", 2, "qat", s) for s in seeds]
    states = [tmp_path / f"{r.id}.pt" for r in runs]
    with pytest.raises(Interrupted):
        train(runs, ds, qat, SETTINGS, state_paths=states, progress=lambda _: None, init_states=old, stop_after_steps=4)
    lines = []
    resumed = train(runs, ds, qat, SETTINGS, state_paths=states, progress=lines.append, init_states=new)
    assert "was trained on other start weights (the init_from run's model.pt differs" in lines[0]
    assert not any("resuming" in line for line in lines)
    clean = train(runs, ds, qat, SETTINGS, progress=lambda _: None, init_states=new)
    for a, b in zip(clean, resumed):
        assert weights_checksum(a.model) == weights_checksum(b.model)


def test_a_state_saved_without_digests_starts_over(tmp_path):
    import torch

    run, state, ds = Run("scalecnn", 2, "cosine", 0), tmp_path / "state.pt", tiny_dataset()
    with pytest.raises(Interrupted):
        train_run(run, ds, CFG, AUG, state_path=state, stop_after_steps=4)
    saved = torch.load(state, weights_only=False)
    del saved["depends"]  # as an older tinyscale wrote it
    torch.save(saved, state)
    lines = []
    assert train_run(run, ds, CFG, AUG, state_path=state, progress=lines.append).resumed_from is None
    assert "records no digest of its data or start weights" in lines[0]


def _plan(root, run):
    from tinyscale.status import plan_entry, write_plan

    p = {"record": root / f"runs/{run.id}/run.json", "state": root / f"state/{run.id}.pt",
         "log": root / f"logs/train/{run.id}.log"}
    write_plan(root, "tiny", [plan_entry(run, CFG.epochs, str(root), **{k: str(v) for k, v in p.items()})])
    return p


def test_status_names_a_truncated_plan_and_the_command_says_how_to_rewrite_it(tmp_path, capsys):
    from tinyscale.__main__ import main
    from tinyscale.io import CorruptFile
    from tinyscale.status import sweep_status

    root = tmp_path / "results/tiny"
    _plan(root, Run("scalecnn", 2, "cosine", 0))
    plan = root / "plan.json"
    plan.write_bytes(plan.read_bytes()[:40])
    with pytest.raises(CorruptFile, match=re.escape(str(plan)) + r": not a readable JSON file.*run the build, or a dry run"):
        sweep_status(root)
    assert main(["status", str(root)]) == 2
    assert str(plan) in capsys.readouterr().err
    plan.write_text('{"name": "tiny"}')  # whole JSON, but no plan
    with pytest.raises(CorruptFile, match="not a build plan"):
        sweep_status(root)


@pytest.mark.parametrize("beat", ['{"epoch": 1}', '{"epoch": 1, "step": 2, "steps_per_epoch": 0, "time": 1.0}',
                                  '{"epoch": 1, "step": 2, "steps_per_epoch": 3, "time": 1.0, "saved": {"epoch": 1}}',
                                  '[1, 2]', '{"epoch'])
def test_status_reads_past_a_damaged_heartbeat(tmp_path, beat):
    from tinyscale.engine.heartbeat import heartbeat_path
    from tinyscale.status import format_status, sweep_status

    root, run = tmp_path / "results/tiny", Run("scalecnn", 2, "cosine", 0)
    p = _plan(root, run)
    p["state"].parent.mkdir(parents=True)
    p["state"].write_bytes(b"state")
    heartbeat_path(p["state"]).write_text(beat)
    status = sweep_status(root, now=1e10)
    (r,) = status["configurations"][0]["runs"]
    assert r["state"] == "interrupted" and r["resume_from"] is None
    assert "resumes from its saved state" in format_status(status)


def test_status_does_not_promise_to_resume_a_state_it_refuses(tmp_path):
    from tinyscale.engine.checkpoint import StateMismatch
    from tinyscale.io import log_to
    from tinyscale.status import format_status, sweep_status

    root, run, ds = tmp_path / "results/tiny", Run("scalecnn", 2, "cosine", 0), tiny_dataset()
    p = _plan(root, run)
    with log_to(p["log"]), pytest.raises(Interrupted):
        train_run(run, ds, CFG, AUG, state_path=p["state"], stop_after_steps=4)
    assert "resumes from epoch 1 step 1" in format_status(sweep_status(root, now=1e10))
    with pytest.raises(StateMismatch), log_to(p["log"]):  # the recipe changed: refused by name, traceback logged
        train_run(run, ds, dataclasses.replace(CFG, lr=0.01), AUG, state_path=p["state"])
    text = format_status(sweep_status(root, now=1e10))
    assert "resumes from epoch" not in text and "saved under another config and is refused" in text
    assert "recipe.lr" in text


def test_a_params_mapping_reads_the_same_in_any_key_order_and_stays_plain_in_a_job():
    import pickle

    from tinyscale.config import unordered

    a = {"dataset": "digits", "test_fraction": 0.25, "split_seed": 0, "nested": {"x": 1, "y": [{"b": 2, "a": 1}]}}
    b = {"nested": {"y": [{"a": 1, "b": 2}], "x": 1}, "split_seed": 0, "dataset": "digits", "test_fraction": 0.25}
    assert repr(unordered(a)) == repr(unordered(b))  # what Snakemake compares to decide a rerun
    assert repr(unordered(a)) != repr(unordered({**a, "split_seed": 1}))
    assert list(unordered(a)) == list(a)  # the config's order where a job writes it out
    back = pickle.loads(pickle.dumps(unordered(a)))
    assert back == a and type(back) is dict and type(back["nested"]["y"][0]) is dict


def _table(tmp_path, rows=6):
    import pandas as pd

    from tinyscale.io import write_csv

    path = tmp_path / "tables/runs.csv"
    write_csv(path, pd.DataFrame({"run_id": [f"r{i}" for i in range(rows)], "error": [0.1 * i for i in range(rows)]}))
    return path


@pytest.mark.parametrize("cut", ["half", "line", "garble", "header"])
def test_a_damaged_table_is_named_not_read_short(tmp_path, cut):
    from tinyscale.io import CorruptFile, read_csv

    path = _table(tmp_path)
    assert len(read_csv(path, columns=("run_id",), rows=6)) == 6
    raw = path.read_bytes()
    damaged = {"half": raw[: len(raw) // 2],  # mid-line
               "line": raw[: raw.index(b"\n", len(raw) // 2) + 1],  # at a line's end: parses, too short
               "garble": raw[:10] + b"\xff\xfe\x00" + raw[13:],
               "header": b"run_id\n" + b"\n".join(raw.split(b"\n")[1:])}[cut]
    path.write_bytes(damaged)
    with pytest.raises(CorruptFile, match=re.escape(str(path)) + ": not a readable table") as err:
        read_csv(path)
    assert err.value.paths == [path]


def test_a_table_from_elsewhere_is_checked_against_what_its_reader_expects(tmp_path):
    from tinyscale.io import CorruptFile, read_csv, shape_path

    path = _table(tmp_path)
    shape_path(path).unlink()  # written before shapes were recorded
    assert len(read_csv(path)) == 6
    with pytest.raises(CorruptFile, match=r"it holds 6 rows where 7 are expected"):
        read_csv(path, rows=7)
    with pytest.raises(CorruptFile, match=r"lacks the column\(s\) \['top1'\]"):
        read_csv(path, columns=("top1",))
    shape_path(path).write_text("{")
    with pytest.raises(CorruptFile, match="shape record .* is damaged"):
        read_csv(path)


def test_garbled_json_names_its_file(tmp_path):
    from tinyscale.io import CorruptFile, read_json, write_json

    path = tmp_path / "numbers/width_sweep.json"
    write_json(path, {"a": 1})
    for damaged in (b'{"a": ', b'{"a": 1}\xff\xfe'):
        path.write_bytes(damaged)
        with pytest.raises(CorruptFile, match=re.escape(str(path)) + ": not a readable JSON file"):
            read_json(path)
    with pytest.raises(FileNotFoundError):
        read_json(tmp_path / "none.json")


def test_a_truncated_figure_pdf_is_named(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from tinyscale.io import CorruptFile, check_pdfs

    whole, cut = tmp_path / "a.pdf", tmp_path / "b.pdf"
    plt.plot([0, 1])
    plt.savefig(whole)
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    check_pdfs([whole])
    with pytest.raises(CorruptFile, match=re.escape(str(cut)) + r": not a whole PDF figure.*%%EOF.*draw it again") as err:
        check_pdfs([whole, cut])
    assert err.value.paths == [cut]


def test_two_plugins_of_one_file_name_are_both_imported(tmp_path):
    from tinyscale import families
    from tinyscale.config import load_plugins

    for folder, name in (("a", "fama"), ("b", "famb")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "family.py").write_text(
            "from tinyscale.families import Family, register, get\n"
            f"register(Family(**{{**get('scalecnn').__dict__, 'name': {name!r}}}))\n")
    try:
        load_plugins({"plugins": [str(tmp_path / "a/family.py"), str(tmp_path / "b/family.py")]})
        assert "fama" in families.FAMILIES and "famb" in families.FAMILIES
    finally:
        families.FAMILIES.pop("fama", None)
        families.FAMILIES.pop("famb", None)


def test_a_family_re_registered_by_a_plugin_has_another_build_digest(tmp_path):
    from tinyscale import families
    from tinyscale.config import load_plugins
    from tinyscale.families.identity import build_digest, build_source

    builtin = families.get("scalecnn")
    before = build_digest("scalecnn")
    assert build_source("scalecnn").name == "scalecnn.py" and build_digest("scalecnn") == before  # stable
    plugin = tmp_path / "mine.py"
    plugin.write_text("from tinyscale.families import Family, register, get\nfrom torch import nn\n\n"
                      "def build(width, num_classes, in_channels):\n"
                      "    return nn.Sequential(nn.Flatten(), nn.LazyLinear(num_classes))\n\n"
                      "register(Family(**{**get('scalecnn').__dict__, 'build': build}))\n")
    try:
        load_plugins({"plugins": [str(plugin)]})
        assert build_source("scalecnn") == plugin and build_digest("scalecnn") != before
    finally:
        families.register(builtin)
    assert build_digest("scalecnn") == before


# ---- the same cases through the workflow: one small build, then each damage and its rebuild ----

SMALL = {**__import__("conftest").TINY, "name": "robust", "models": {"scalecnn": [2, 3, 4]}, "seeds": [0],
         "train": {**__import__("conftest").TINY["train"], "epochs": 1}}


def _jobs(project, config="robust.yaml"):
    from conftest import snakemake

    out = snakemake(project, "--dry-run", config=config).stdout
    if "Nothing to be done" in out:
        return {}
    table = out.split("Job stats:")[1].split("total")[0]
    return {m[0]: int(m[1]) for m in re.findall(r"^(\w+)\s+(\d+)$", table, re.MULTILINE)}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    import yaml
    from conftest import copy_project, snakemake

    project = copy_project(tmp_path_factory.mktemp("robust"))
    (project / "robust.yaml").write_text(yaml.safe_dump(SMALL))
    snakemake(project, config="robust.yaml")
    return project


def _rebuild_after_setting_aside(project, damaged):
    """The first build names the damaged file and moves it aside; the same command then rebuilds."""
    from conftest import snakemake

    proc = snakemake(project, config="robust.yaml", check=False)
    assert proc.returncode != 0
    assert f"{damaged}" in proc.stderr and f"Moved it to {damaged}.corrupt" in proc.stderr, proc.stderr[-3000:]
    snakemake(project, config="robust.yaml")
    assert _jobs(project) == {}


@pytest.mark.workflow
def test_reordered_config_keys_retrain_nothing(built):
    import yaml

    reordered = {k: (dict(reversed(list(v.items()))) if isinstance(v, dict) else v) for k, v in reversed(list(SMALL.items()))}
    reordered["data"] = {"split_seed": 0, "test_fraction": 0.25, **reordered["data"]}  # also defaults given by hand
    (built / "reordered.yaml").write_text(yaml.safe_dump(reordered, sort_keys=False))
    assert _jobs(built, "reordered.yaml") == {}


@pytest.mark.workflow
@pytest.mark.parametrize("table", ["tables/runs.csv", "numbers/width_sweep.json", "figures/ece.pdf"])
def test_a_damaged_table_json_or_figure_is_set_aside_and_rebuilt(built, table):
    import json

    numbers = json.loads((built / "results/robust/numbers.json").read_text())
    path = built / "results/robust" / table
    if not path.exists():  # a figure of another name in this build
        path = sorted((built / "results/robust/figures").glob("*.pdf"))[0]
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    _rebuild_after_setting_aside(built, path.relative_to(built))
    after = json.loads((built / "results/robust/numbers.json").read_text())
    assert {k: v for k, v in after.items() if k != "compute"} == {k: v for k, v in numbers.items() if k != "compute"}


@pytest.mark.workflow
def test_a_truncated_plan_is_written_again_by_a_dry_run(built):
    from tinyscale.status import sweep_status

    plan = built / "results/robust/plan.json"
    plan.write_bytes(plan.read_bytes()[:100])
    assert _jobs(built) == {}
    assert sweep_status(built / "results/robust")["totals"]["done"] == 3


@pytest.mark.workflow
def test_a_plugin_that_replaces_a_built_in_family_retrains_its_runs(built):
    import yaml

    source = (built / "src/tinyscale/families/scalecnn.py").read_text()
    (built / "myscalecnn.py").write_text(
        "from tinyscale.families import Family, get, register\n\n\n"
        "def build(width, num_classes, in_channels):  # another architecture under the built-in name\n"
        "    from torch import nn\n\n"
        "    return nn.Sequential(nn.Flatten(), nn.LazyLinear(width), nn.ReLU(), nn.Linear(width, num_classes))\n\n\n"
        "register(Family(**{**get('scalecnn').__dict__, 'build': build}))\n")
    (built / "plugin.yaml").write_text(yaml.safe_dump({**SMALL, "plugins": ["myscalecnn.py"]}))
    jobs = _jobs(built, "plugin.yaml")
    assert sum(n for rule, n in jobs.items() if rule.startswith("train")) == 3
    assert source == (built / "src/tinyscale/families/scalecnn.py").read_text()


def test_a_family_with_the_wrong_number_of_outputs_is_refused_at_the_first_batch():
    from torch import nn

    from tinyscale import families

    builtin = families.get("scalecnn")

    def wrong(width, num_classes, in_channels):  # three logits too many
        return nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(in_channels, num_classes + 3))

    families.register(dataclasses.replace(builtin, build=wrong))
    try:
        with pytest.raises(ValueError, match=r"outputs logits of shape \(2, 7\) .* the dataset has 4 classes"):
            train_run(Run("scalecnn", 2, "cosine", 0), tiny_dataset(), CFG, AUG)
    finally:
        families.register(builtin)


@pytest.mark.parametrize("reference", ["data", "data/reference", "README.md"])
def test_a_reference_that_is_no_jsonl_file_is_refused_by_the_config(reference):
    from tinyscale.config import ConfigError, validate_config

    cfg = {"name": "t", "data": {"dataset": "digits"}, "models": {"scalecnn": [2]}, "seeds": [0], "reference": reference}
    with pytest.raises(ConfigError, match=rf"'reference' is '{reference}': it must name the released runs, a \.jsonl file"):
        validate_config(cfg)


def test_a_reference_file_of_other_lines_is_named_with_its_line(tmp_path):
    from tinyscale.analysis.reference import load_reference

    good = (ROOT / "data/reference/alnemari2026_cifar100_runs.jsonl").read_text().splitlines()
    path = tmp_path / "runs.jsonl"
    path.write_text(good[0] + "\n" + good[1][: len(good[1]) // 2] + "\n")
    with pytest.raises(ValueError, match=r"line 2 of reference .*runs\.jsonl is not JSON"):
        load_reference(path)
    path.write_text(good[0] + "\n" + '{"arch": "ScaleCNN"}\n')
    with pytest.raises(ValueError, match=r"line 2 of reference .*lacks avg_confidence_correct, "):
        load_reference(path)
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ValueError, match=r"is not text"):
        load_reference(path)
    assert len(load_reference(ROOT / "data/reference/alnemari2026_cifar100_runs.jsonl")[0]) == 90


def test_a_cpu_job_given_fewer_cores_than_its_run_takes_keeps_the_runs_threads():
    from tinyscale.runs import cpus, torch_threads

    run = Run("mobilenetv2", 1.0, "cosine", 0)
    own = cpus(run, "cifar100", 128, gpu=False)
    assert own == 8
    assert torch_threads(run, "cifar100", 128, gpu=False, given=own) == (own, None)
    threads, note = torch_threads(run, "cifar100", 128, gpu=False, given=2)
    assert threads == own and "given 2 (--cores 2 or fewer); training with 8" in note
    assert torch_threads(run, "cifar100", 128, gpu=True, given=2) == (2, None)  # a GPU's threads only drive it


@pytest.mark.workflow
def test_a_build_with_fewer_cores_trains_with_the_runs_own_threads(built):
    """Snakemake caps a job's threads at --cores; a CPU run's weights depend on its threads."""
    import json

    import yaml
    from conftest import snakemake

    (built / "bigsteps.py").write_text(
        "import dataclasses\n\nfrom tinyscale.families import get, register\n\n"
        "# scalecnn whose steps count as large: 8 threads\n"
        "register(dataclasses.replace(get('scalecnn'), name='bigsteps', step_mb=lambda width: 1e6))\n")
    (built / "threads.yaml").write_text(yaml.safe_dump({**SMALL, "name": "threads", "models": {"bigsteps": [2]},
                                                        "plugins": ["bigsteps.py"]}))
    run_json = "results/threads/runs/bigsteps-c2-cosine-s0/run.json"
    proc = snakemake(built, "--cores", "1", run_json, config="threads.yaml", cores=False)
    log = (built / "results/threads/logs/train/bigsteps-c2-cosine-s0.log").read_text()
    assert "its steps take 8 threads and this job was given 1" in log, proc.stderr[-2000:]
    assert "8 threads" in json.loads((built / run_json).read_text())["device"]


@pytest.mark.workflow
def test_a_deleted_figure_is_drawn_again(built):
    from conftest import snakemake

    figure = sorted((built / "results/robust/figures").glob("*.pdf"))[0]
    figure.unlink()
    assert _jobs(built).get(f"figure_{figure.stem}") == 1  # the paper that shows it is up to date
    snakemake(built, config="robust.yaml")
    assert figure.exists() and _jobs(built) == {}


@pytest.fixture
def small_disk(tmp_path):
    """A 100 MB file system of its own (tmpfs), unmounted afterwards; root only."""
    import os
    import subprocess

    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=100m", "tmpfs", str(mount)],
                                           capture_output=True).returncode != 0:
        pytest.skip("mounting a small file system needs root (and a machine that allows mount)")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=True)


@pytest.mark.workflow
def test_a_full_or_read_only_disk_under_a_symlinked_results_folder_stops_clearly_and_a_rerun_completes(tmp_path, small_disk):
    """results/<name> a symlink onto its own small disk; the disk fills, then turns read-only, mid-build."""
    import json
    import shutil
    import subprocess

    import yaml
    from conftest import copy_project, snakemake

    (tmp_path / "project").mkdir()
    project = copy_project(tmp_path / "project")
    (project / "robust.yaml").write_text(yaml.safe_dump(SMALL))
    (small_disk / "robust").mkdir()
    (project / "results").mkdir()
    (project / "results/robust").symlink_to(small_disk / "robust")
    snakemake(project, config="robust.yaml")
    assert _jobs(project) == {}  # the symlink is followed, nothing retrains
    out = project / "results/robust"
    numbers = json.loads((out / "numbers.json").read_text())
    shutil.rmtree(out / "figures")
    shutil.rmtree(out / "paper")

    filler = small_disk / "filler"  # all but 250 kB: the figures' first files fit, the rest do not
    free_kb = shutil.disk_usage(small_disk).free // 1024
    subprocess.run(["dd", "if=/dev/zero", f"of={filler}", "bs=1k", f"count={free_kb - 250}"], check=True, capture_output=True)
    proc = snakemake(project, config="robust.yaml", check=False)
    assert proc.returncode != 0
    said = re.findall(r"^\w+: cannot write (\S+): the disk that holds it is full .* run the same command again$",
                      proc.stderr, re.MULTILINE)
    assert said and "Traceback" not in proc.stderr, proc.stderr[-3000:]
    leftovers = [p for p in out.rglob(".*") if not p.name.endswith(".shape.json")]
    assert leftovers == []  # no half-written file left beside a finished one
    filler.unlink()

    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    try:
        proc = snakemake(project, config="robust.yaml", check=False)
        assert proc.returncode != 0 and ("read-only" in proc.stderr or "Write-protected" in proc.stderr), proc.stderr[-3000:]
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)

    snakemake(project, config="robust.yaml")
    assert _jobs(project) == {} and (out / "paper/paper.pdf").exists()
    after = json.loads((out / "numbers.json").read_text())
    assert {k: v for k, v in after.items() if k != "compute"} == {k: v for k, v in numbers.items() if k != "compute"}

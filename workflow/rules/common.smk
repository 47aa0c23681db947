# The run table, the recipes and every path, computed once from the config.

import dataclasses
import os
import re
import shutil
from pathlib import Path

from tinyscale import datasets, studies
from tinyscale.config import science, unordered
from tinyscale.families.identity import build_digest
from tinyscale.runs import any_of, config_id_pattern, cpus, memory_mb, run_id_pattern, runtime_minutes
from tinyscale.status import plan_entry, plan_is_whole, write_plan

STUDIES = studies.enabled(config)
STUDY_NAMES = [s.name for s in STUDIES]
RUNS = studies.run_table(config)
RUN_BY_ID = {r.id: r for r in RUNS}
RECIPES = studies.recipes(config)
RECIPE_PARAMS = {name: recipe.as_dict() for name, recipe in RECIPES.items()}
# What builds each family's models (its build code: a plugin's file or the built-in module): a
# training param, so a plugin that replaces a built-in family, or an edit of that code, retrains.
FAMILY_CODE = {name: build_digest(name) for name in sorted({r.family for r in RUNS})}
ROOT = f"results/{config['name']}"
PAPER_PDF = f"{ROOT}/paper/paper.pdf"
ARXIV_TAR = f"{ROOT}/paper/arxiv.tar.gz"
# A plain path, never rules.prepare_data.output…: next to a rule's per-run lists a `rules.`
# reference makes Snakemake 9.27 (Rule.expand_input) hash each whole list once per input file,
# N² work for N runs.
DATASET_NPZ = f"{ROOT}/data/dataset.npz"


def dataset_npz(name=""):
    """The prepared file of a dataset: the config's own (name ""), or another one a study trains on."""
    return DATASET_NPZ if not name or name == config["data"]["dataset"] else f"{ROOT}/data/{name}.npz"


# Resume states live outside the declared outputs, so a failed job's cleanup keeps them.
STATE_DIR = f"{ROOT}/state"
# Each training job's log: one per run, or one per configuration when its seeds are packed.
TRAIN_LOG = f"{ROOT}/logs/train/{{run}}.log"
PACKED_LOG = f"{ROOT}/logs/train/{{config_id}}.log"
DATASET = datasets.get(config["data"]["dataset"])
DATA_DIR = config["data"]["dir"]
# Declare a GPU per training job only when training runs on CUDA: the config says so, this
# machine has one, or a cluster's GPU model is named (a login node often has no GPU itself).
USE_GPU = config["device"] == "cuda" or (
    config["device"] == "auto" and (shutil.which("nvidia-smi") is not None or config["gpu_model"] is not None)
)
# Conda environments per family of rules (--sdm conda), by absolute path, as rules live at several depths.
TORCH_ENV = str(TINYSCALE_DIR / "envs" / "torch.yaml")
ANALYSIS_ENV = str(TINYSCALE_DIR / "envs" / "analysis.yaml")


def portable(path):
    """A path of the workflow's own code or templates as an input: relative to the working directory
    where it lies inside it, so that moving or renaming the project folder changes no rule's set of
    inputs (and reruns nothing); absolute otherwise (the workflow used from elsewhere)."""
    path = os.path.abspath(path)
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


wildcard_constraints:
    run=run_id_pattern(),
    config_id=config_id_pattern(),


def run_file(name):
    """Per-run path pattern, e.g. run_file('model.pt') → results/{name}/runs/{run}/model.pt."""
    return f"{ROOT}/runs/{{run}}/{name}"


def runs_files(runs, name):
    return [f"{ROOT}/runs/{r.id}/{name}" for r in runs]


def table(name):
    return f"{ROOT}/tables/{name}.csv"


def study_numbers(study):
    return f"{ROOT}/numbers/{study}.json"


def train_resources(run, n=1):
    """(threads, mem_mb, runtime at the first attempt) of a job training `n` runs like `run`,
    from the dataset and the run's size (tinyscale.runs): threads are also SLURM's CPUs."""
    dataset, batch = run.dataset or config["data"]["dataset"], RECIPES[run.recipe].batch_size
    return (
        cpus(run, dataset, batch, gpu=USE_GPU),
        memory_mb(run, dataset, batch, gpu=USE_GPU, runs=n),
        n * runtime_minutes(run, RECIPES[run.recipe].epochs, dataset),
    )


def train_runtime(run, n=1):
    """Minutes for a job training `n` runs like `run`, growing with each retry."""
    epochs, dataset = RECIPES[run.recipe].epochs, run.dataset or config["data"]["dataset"]
    return lambda wildcards, attempt: n * runtime_minutes(run, epochs, dataset, attempt)


# A run on another dataset, a training subset or noisy labels (tinyscale.engine.trainset) trains in
# a training class of its own; its dataset is its input, and the split seed that draws its subset and
# noise is a param (so it retrains when that seed changes, and no other run does).
def train_data_key(run):
    return (run.dataset, bool(run.data_size or run.noise))


def train_data_params(data_key):
    return {"split_seed": config["data"]["split_seed"]} if data_key[1] else {}


# What a training job asks of a cluster besides its size. SIGUSR1 five minutes before the time
# limit lets a run save its resume state in time (a local run never sees the option).
TRAIN_SLURM = {"slurm_extra": "'--signal=USR1@300'"}
if USE_GPU and config["gpu_model"]:
    TRAIN_SLURM["gpu_model"] = config["gpu_model"]


# Configurations (family, width, recipe) → their runs, for packed training.
CONFIG_RUNS = {}
for _run in RUNS:
    CONFIG_RUNS.setdefault(_run.config_id, []).append(_run)


def _reference_path():
    """The original's released runs: relative to the working directory, else to the workflow's own folder."""
    path = config["reference"]
    if path is None or Path(path).exists() or Path(path).is_absolute():
        return path
    return str(TINYSCALE_DIR / path)


REFERENCE = _reference_path()


def init_model(run_id):
    """The checkpoint a run starts from: the same family, width and seed under `init_from`."""
    run = RUN_BY_ID[run_id]
    recipe = RECIPES[run.recipe]
    if not recipe.init_from:
        return []
    return runs_files([dataclasses.replace(run, recipe=recipe.init_from)], "model.pt")[0]


def write_sweep_plan():
    write_plan(
        ROOT,
        config["name"],
        [
            plan_entry(
                r,
                RECIPES[r.recipe].epochs,
                ROOT,
                runs_files([r], "run.json")[0],
                f"{STATE_DIR}/{r.id}.pt",  # as workflow/scripts/train.py names them
                PACKED_LOG.format(config_id=r.config_id) if config["train"]["pack_seeds"] else TRAIN_LOG.format(run=r.id),
            )
            for r in RUNS
        ],
    )


# The plan `tinyscale status` reads (every run with its epochs, record, resume state and log): no
# rule's output, so it retrains nothing. Every build that starts rewrites it (dry runs and cluster
# jobs do not); where none exists yet (a build finished before status existed) or it is damaged,
# parsing writes it, and the start of that build need not write it again.
PLAN_WRITTEN_AT_PARSE = not plan_is_whole(ROOT)
if PLAN_WRITTEN_AT_PARSE:
    write_sweep_plan()


onstart:
    if not PLAN_WRITTEN_AT_PARSE:
        write_sweep_plan()


# Targets a user asks for by name, not part of the default build.
OPTIONAL_RULES = {"all", "paper_page1"}


def build_outputs():
    """Every output of this build's rules without wildcards (analyses, tables, figures, the paper);
    the reference's only where the config names one, no download's (a dataset this build may not use)."""
    return [
        r.output
        for r in workflow.rules
        if r.name not in OPTIONAL_RULES
        and not r.has_wildcards()
        and all(str(f).startswith(f"{ROOT}/") for f in r.output)
        and (r.name != "reference" or REFERENCE)
    ]

# The run table and every path, computed once from the config.

import shutil
from pathlib import Path

from tinyscale.runs import RUN_ID_PATTERN, parse_run_id, run_table, runtime_minutes

RUNS = run_table(config)
RUN_IDS = [r.id for r in RUNS]
ROOT = f"results/{config['name']}"
PAPER_PDF = f"{ROOT}/paper/paper.pdf"
HAS_REFERENCE = config["reference"] is not None
# Declare a GPU per training/prediction job only when training runs on CUDA.
USE_GPU = config["device"] == "cuda" or (config["device"] == "auto" and shutil.which("nvidia-smi") is not None)
TORCH_ENV = "../../envs/torch.yaml"
ANALYSIS_ENV = "../../envs/analysis.yaml"
LATEX_ENV = "../../envs/latex.yaml"


wildcard_constraints:
    run=RUN_ID_PATTERN,


def run_file(name):
    """Per-run path pattern, e.g. run_file('model.pt') → results/{name}/runs/{run}/model.pt."""
    return f"{ROOT}/runs/{{run}}/{name}"


def all_runs(name):
    return expand(run_file(name), run=RUN_IDS)


def state_path(wildcards):
    """Resume state: outside the declared outputs, so a failed job's cleanup keeps it."""
    return f"{ROOT}/state/{wildcards.run}.pt"


def cifar_archive():
    return config["data"]["archive"] or "resources/cifar-100-python.tar.gz"


def dataset_inputs(wildcards):
    return [cifar_archive()] if config["data"]["dataset"] == "cifar100" else []


def train_runtime(wildcards, attempt):
    """Minutes, from the run's size and epochs, growing with each retry."""
    return runtime_minutes(parse_run_id(wildcards.run), config["train"]["epochs"], config["data"]["dataset"], attempt)


FIGURES = ["error_vs_params", "local_exponents", "jaccard", "class_heatmap", "specialisation", "ece", "reliability"]


def figure_pdf(name):
    return f"{ROOT}/figures/{name}.pdf"


def figure_log(name):
    return f"{ROOT}/logs/figures/{name}.log"

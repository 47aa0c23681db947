"""One further arm of the precision study (a dataset, family and budgets of studies.precision.tasks)
→ its runs table and statistics, with κ from the arm's own fp32 models."""

import pandas as pd
from _helpers import job

from tinyscale import datasets, families, tasks
from tinyscale.analysis.precision import analyse_precision, own_fp32_law, runs_table
from tinyscale.datasets import load_dataset
from tinyscale.io import load_predictions, read_json, write_csv, write_json
from tinyscale.studies.precision import model_costs

with job(snakemake):
    p = snakemake.params
    arm, s, ds = p.arm, p.settings, load_dataset(snakemake.input.dataset)
    task = tasks.get(datasets.get(arm["dataset"]).task)
    costs = lambda width, act_bits: model_costs(arm["family"], width, ds.num_classes, ds.example_shape, act_bits)  # noqa: E731
    runs = runs_table(p.models, [load_predictions(f) for f in snakemake.input.predictions],
                      [read_json(f) for f in snakemake.input.records], costs, task.metric_of)
    starts = pd.DataFrame([{"params": read_json(r)["num_params"], "seed": read_json(r)["seed"],
                            "error": task.metric_of(load_predictions(f))}
                           for f, r in zip(snakemake.input.start_predictions, snakemake.input.start_records)])
    coef, alpha, law_skipped = own_fp32_law(starts.drop_duplicates(["params", "seed"]))
    tables, numbers = analyse_precision(runs, coef, alpha, s["rule"])
    write_csv(snakemake.output.runs, runs)
    for name in ("budgets", "differences", "winners", "kappa"):
        write_csv(snakemake.output[name], tables[name].assign(arm_key=arm["key"]))
    fam = families.get(arm["family"])
    write_json(snakemake.output.numbers, {
        **numbers, "key": arm["key"], "task": task.name, "task_label": task.label, "dataset": arm["dataset"],
        "dataset_label": datasets.get(arm["dataset"]).label, "family": arm["family"], "family_label": fam.label,
        "metric": task.metric, "metric_label": task.metric_label,
        "fp32_law": {"coef": coef, "alpha": alpha, "skipped": law_skipped, "sizes": int(starts["params"].nunique())},
        "budget_widths": arm["budget_widths"],
        "budget_labels": {str(b): fam.width_label(b) for b in arm["budget_widths"]},
    })

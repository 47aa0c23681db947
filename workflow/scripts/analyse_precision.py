"""The precision study's fine-tuned runs → its runs table (error, storage, MACs, peak activations)
and its statistics (every scalar its section cites)."""

import pandas as pd
from _helpers import job

from tinyscale import datasets, families, tasks
from tinyscale.analysis.precision import across_tasks, analyse_precision, runs_table
from tinyscale.datasets import load_dataset
from tinyscale.io import load_predictions, read_csv, read_json, write_csv, write_json
from tinyscale.studies.precision import model_costs

TASK_COLUMNS = ["arm_key", "task", "dataset", "family", "budget", "budget_label", "metric", "winner_bits",
                "winner_metric", "outcome", "verdict"]

with job(snakemake):
    s, ds = snakemake.params.settings, load_dataset(snakemake.input.dataset)
    runs = runs_table(
        snakemake.params.models,
        [load_predictions(path) for path in snakemake.input.predictions],
        [read_json(path) for path in snakemake.input.records],
        lambda width, act_bits: model_costs(s["family"], width, ds.num_classes, ds.example_shape, act_bits),
        tasks.get(datasets.get(ds.name).task).metric_of,
    )
    law = (read_json(snakemake.input.law)["families"].get(s["family"]) or {}).get("fit") if snakemake.input.law else None
    coef, alpha = (law["coef"], law["alpha"]) if law else (None, None)
    tables, numbers = analyse_precision(runs, coef, alpha, s["rule"])
    write_csv(snakemake.output.runs, runs)
    for name in ("budgets", "differences", "winners", "kappa", "kappa_check"):
        write_csv(snakemake.output[name], tables[name])
    fam = families.get(s["family"])
    task = tasks.get(datasets.get(ds.name).task)
    main = {"key": snakemake.params.main_arm, "task": task.name, "task_label": task.label, "dataset": ds.name,
            "dataset_label": datasets.get(ds.name).label, "family": s["family"], "family_label": fam.label,
            "metric": task.metric, "metric_label": task.metric_label, "arms": numbers["arms"],
            "budget_labels": {str(b): fam.width_label(b) for b in s["budget_widths"]}}
    others = [read_json(path) for path in snakemake.input.arms]
    rows, budgets = [], [tables["budgets"].assign(arm_key=main["key"])]
    for arm, path in zip([main, *others], [None, *snakemake.input.arm_budgets]):
        primary = arm["arms"].get("a8") or {}
        for budget, w in sorted((primary.get("winners") or {}).items(), key=lambda kv: float(kv[0])):
            rows.append({"arm_key": arm["key"], "task": arm["task_label"], "dataset": arm["dataset_label"],
                         "family": arm["family_label"], "budget": float(budget),
                         "budget_label": arm["budget_labels"].get(budget, budget), "metric": arm["metric_label"],
                         "winner_bits": w["bits"], "winner_metric": w["error"],
                         "outcome": (primary.get("verdict") or {}).get("budgets", {}).get(budget),
                         "verdict": (primary.get("verdict") or {}).get("verdict")})
        if path:
            budgets.append(read_csv(path, "precision arm's budget table"))
    write_csv(snakemake.output.tasks, pd.DataFrame(rows, columns=TASK_COLUMNS))
    write_csv(snakemake.output.task_budgets, pd.concat(budgets, ignore_index=True))
    if others:  # the study across tasks: each arm's results under its task's name, and the verdict across them
        by_key = {a["key"]: {**a, "verdict": ((a["arms"].get("a8") or {}).get("verdict") or {}).get("verdict")}
                  for a in [main, *others]}
        numbers["tasks"] = {}
        for a in by_key.values():
            numbers["tasks"].setdefault(a["task"], {"label": a["task_label"], "arms": {}})["arms"][a["key"]] = a
        numbers["across_tasks"] = across_tasks(by_key)
    write_json(snakemake.output.numbers, {
        **numbers, "family": s["family"], "family_label": fam.label, "seeds": s["seeds"], "act_bits": s["act_bits"],
        "bits": s["bits"], "secondary_bits": s["secondary_bits"], "tolerance": s["tolerance"],
        "finetune": s["finetune"], "rule": s["rule"], "fp32_law": {"coef": coef, "alpha": alpha},
        "budget_widths": s["budget_widths"],
        "budget_labels": {str(b): fam.width_label(b) for b in s["budget_widths"]},
    })

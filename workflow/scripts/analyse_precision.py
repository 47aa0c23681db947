"""The precision study's fine-tuned runs → its runs table (error, storage, MACs, peak activations)
and its statistics (every scalar its section cites)."""

import pandas as pd
from _helpers import job

from tinyscale import families
from tinyscale.analysis.precision import analyse_precision
from tinyscale.datasets import load_dataset
from tinyscale.io import load_predictions, read_json, write_csv, write_json
from tinyscale.studies.precision import model_costs

with job(snakemake):
    s, ds = snakemake.params.settings, load_dataset(snakemake.input.dataset)
    rows, costs_of = [], {}  # a model's costs are the same for every seed: computed once
    for model, pred_path, rec_path in zip(snakemake.params.models, snakemake.input.predictions, snakemake.input.records):
        pred, record = load_predictions(pred_path), read_json(rec_path)
        key = (model["width"], model["act_bits"])
        if key not in costs_of:
            costs_of[key] = model_costs(s["family"], model["width"], ds.num_classes, ds.train_x.shape[1:], model["act_bits"])
        costs = costs_of[key]
        for arm in model["arms"]:
            rows.append({"budget": model["budget"], "budget_bits": model["budget_bits"], "bits": model["bits"],
                         "act_bits": model["act_bits"], "arm": arm, "width": model["width"], "seed": record["seed"],
                         "params": record["num_params"], "storage_bits": model["storage_bits"], **costs,
                         "error": float((pred["preds"] != pred["labels"]).mean()), "run_id": record["run_id"]})
    runs = pd.DataFrame(rows)
    law = (read_json(snakemake.input.law)["families"].get(s["family"]) or {}).get("fit") if snakemake.input.law else None
    coef, alpha = (law["coef"], law["alpha"]) if law else (None, None)
    tables, numbers = analyse_precision(runs, coef, alpha, s["rule"])
    write_csv(snakemake.output.runs, runs)
    for name in ("budgets", "differences", "winners", "kappa", "kappa_check"):
        write_csv(snakemake.output[name], tables[name])
    fam = families.get(s["family"])
    write_json(snakemake.output.numbers, {
        **numbers, "family": s["family"], "family_label": fam.label, "seeds": s["seeds"], "act_bits": s["act_bits"],
        "bits": s["bits"], "secondary_bits": s["secondary_bits"], "tolerance": s["tolerance"],
        "finetune": s["finetune"], "rule": s["rule"], "fp32_law": {"coef": coef, "alpha": alpha},
        "budget_widths": s["budget_widths"],
        "budget_labels": {str(b): fam.width_label(b) for b in s["budget_widths"]},
    })

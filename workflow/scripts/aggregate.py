"""The width sweep's predictions and run records → runs table, per-class accuracy, reliability bins,
and the error-set overlap (Jaccard) of every pair of sizes in each family over all seed pairs."""

import pandas as pd
from _helpers import job

from tinyscale.analysis.aggregate import jaccard_table, per_class_rows, reliability_rows, run_row
from tinyscale.datasets import load_dataset
from tinyscale.io import load_predictions, read_json, write_csv

with job(snakemake):
    classes = load_dataset(snakemake.input.dataset).classes
    bins = snakemake.params.ece_bins
    runs, per_class, reliability, errors = [], [], [], {}
    for pred_path, record_path in zip(snakemake.input.predictions, snakemake.input.records):
        record, pred = read_json(record_path), load_predictions(pred_path)
        errors[record["run_id"]] = pred["preds"] != pred["labels"]
        runs.append(run_row(record, pred, bins))
        per_class.append(per_class_rows(record, pred, classes))
        reliability.append(reliability_rows(record, pred, bins))
    write_csv(snakemake.output.runs, pd.DataFrame(runs))
    write_csv(snakemake.output.per_class, pd.concat(per_class, ignore_index=True))
    write_csv(snakemake.output.reliability, pd.concat(reliability, ignore_index=True))
    runs = pd.DataFrame(runs)
    write_csv(snakemake.output.jaccard, jaccard_table(runs[["run_id", "arch", "width", "seed"]], errors))
    print(f"aggregated {len(runs)} runs")

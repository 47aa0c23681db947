"""Predictions and run records → runs table, per-class accuracy, reliability bins, environment."""

import pandas as pd

from tinyscale.aggregate import environment_summary, per_class_rows, reliability_rows, run_row
from tinyscale.data import load_dataset
from tinyscale.io import log_to, read_json, write_csv, write_json
from tinyscale.predict import load_predictions

with log_to(snakemake.log[0]):
    classes = load_dataset(snakemake.input.dataset).classes
    bins = snakemake.params.ece_bins
    runs, per_class, reliability, records = [], [], [], []
    for pred_path, record_path in zip(snakemake.input.predictions, snakemake.input.records):
        record, pred = read_json(record_path), load_predictions(pred_path)
        records.append(record)
        runs.append(run_row(record, pred, bins))
        per_class.append(per_class_rows(record, pred, classes))
        reliability.append(reliability_rows(record, pred, bins))
    write_csv(snakemake.output.runs, pd.DataFrame(runs))
    write_csv(snakemake.output.per_class, pd.concat(per_class, ignore_index=True))
    write_csv(snakemake.output.reliability, pd.concat(reliability, ignore_index=True))
    write_json(snakemake.output.environment, environment_summary(records))
    print(f"aggregated {len(runs)} runs")

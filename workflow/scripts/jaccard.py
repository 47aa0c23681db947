"""Error-set overlap (Jaccard) between every pair of sizes in each family, over all seed pairs."""

import pandas as pd
from _helpers import job

from tinyscale.analysis.aggregate import jaccard_table
from tinyscale.io import load_predictions, read_json, write_csv

with job(snakemake):
    records = [read_json(p) for p in snakemake.input.records]
    errors = {}
    for record, path in zip(records, snakemake.input.predictions):
        pred = load_predictions(path)
        errors[record["run_id"]] = pred["preds"] != pred["labels"]
    runs = pd.DataFrame(records)[["run_id", "arch", "width", "seed"]]
    write_csv(snakemake.output.jaccard, jaccard_table(runs, errors))

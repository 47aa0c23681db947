"""Error-set overlap (Jaccard) between every pair of sizes in each family, over all seed pairs."""

import pandas as pd

from tinyscale.aggregate import jaccard_table
from tinyscale.io import log_to, read_json, write_csv
from tinyscale.predict import load_predictions

with log_to(snakemake.log[0]):
    records = [read_json(p) for p in snakemake.input.records]
    errors = {}
    for record, path in zip(records, snakemake.input.predictions):
        pred = load_predictions(path)
        errors[record["run_id"]] = pred["preds"] != pred["labels"]
    runs = pd.DataFrame(records)[["run_id", "arch", "width", "seed"]]
    write_csv(snakemake.output.jaccard, jaccard_table(runs, errors))

"""Runs and per-class tables → every analysis table and numbers.json (all the paper cites)."""

import pandas as pd

from tinyscale.analysis import analyse
from tinyscale.io import log_to, read_json, write_csv, write_json
from tinyscale.reference import COMPARISON_COLUMNS, compare

with log_to(snakemake.log[0]):
    runs = pd.read_csv(snakemake.input.runs)
    per_class = pd.read_csv(snakemake.input.per_class)
    classes = per_class.drop_duplicates("class_index").sort_values("class_index")["class_name"].astype(str).tolist()
    result = analyse(runs, per_class, classes, snakemake.params.analysis, pd.read_csv(snakemake.input.jaccard))
    numbers = {**snakemake.params.meta, **result.numbers, "compute": read_json(snakemake.input.environment)}
    comparison = pd.DataFrame(columns=COMPARISON_COLUMNS)
    if snakemake.input.reference:
        reference = read_json(snakemake.input.reference)
        comparison = compare(numbers, reference, result.summary, pd.read_csv(snakemake.input.reference_summary))
        numbers["reference"] = reference
    for name, table in result.tables().items():
        write_csv(snakemake.output[name], table)
    write_csv(snakemake.output.comparison, comparison)
    write_json(snakemake.output.numbers, numbers)

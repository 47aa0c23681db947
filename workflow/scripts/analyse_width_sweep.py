"""The width sweep's runs and per-class tables → its analysis tables and numbers (all its section cites)."""

import pandas as pd
from _helpers import job

from tinyscale.analysis.forecast import study_forecast
from tinyscale.analysis.reference import COMPARISON_COLUMNS, compare
from tinyscale.analysis.width_sweep import analyse
from tinyscale.io import CorruptFile, read_csv, read_json, write_csv, write_json

with job(snakemake):
    runs = read_csv(snakemake.input.runs, columns=("run_id", "arch", "width", "seed", "params", "error"),
                    rows=len(snakemake.params.runs))
    if sorted(runs["run_id"]) != sorted(snakemake.params.runs):
        raise CorruptFile({snakemake.input.runs: "it holds other runs than the width sweep's"})
    per_class = read_csv(snakemake.input.per_class, columns=("run_id", "class_index", "class_name", "accuracy"))
    classes = per_class.drop_duplicates("class_index").sort_values("class_index")["class_name"].astype(str).tolist()
    result = analyse(runs, per_class, classes, snakemake.params.analysis, read_csv(snakemake.input.jaccard))
    numbers = {**result.numbers, "recipe": snakemake.params.recipe, "reference": None}
    comparison = pd.DataFrame(columns=COMPARISON_COLUMNS)
    if snakemake.input.reference:
        numbers["reference"] = read_json(snakemake.input.reference)
        comparison = compare(numbers, numbers["reference"], result.summary, read_csv(snakemake.input.reference_summary))
    reference_runs = read_csv(snakemake.input.reference_runs) if snakemake.input.reference_runs else None
    forecast_tables, numbers["forecast"] = study_forecast(runs, reference_runs, len(classes))
    for name, frame in {**result.tables(), **forecast_tables}.items():
        write_csv(snakemake.output[name], frame)
    write_csv(snakemake.output.comparison, comparison)
    write_json(snakemake.output.numbers, numbers)

"""The original's released runs through this project's own analysis (their numbers, our code)."""

from _helpers import job

from tinyscale.analysis.reference import load_reference
from tinyscale.analysis.width_sweep import analyse
from tinyscale.io import write_csv, write_json

with job(snakemake):
    runs, per_class, classes = load_reference(snakemake.input.runs)
    result = analyse(runs, per_class, classes, snakemake.params.analysis)
    write_json(snakemake.output.numbers, {"source": snakemake.input.runs, **result.numbers})
    write_csv(snakemake.output.summary, result.summary)
    write_csv(snakemake.output.runs, runs)

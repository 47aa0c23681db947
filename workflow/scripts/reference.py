"""The original's released runs through this project's own analysis (their numbers, our code)."""

from tinyscale.analysis import analyse
from tinyscale.io import log_to, write_csv, write_json
from tinyscale.reference import load_reference

with log_to(snakemake.log[0]):
    runs, per_class, classes = load_reference(snakemake.input.runs)
    result = analyse(runs, per_class, classes, snakemake.params.analysis)
    write_json(snakemake.output.numbers, {"source": snakemake.input.runs, **result.numbers})
    write_csv(snakemake.output.summary, result.summary)
    write_csv(snakemake.output.runs, runs)

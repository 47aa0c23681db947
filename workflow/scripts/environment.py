"""What every run ran on (code and library versions, devices, compute), for the appendix."""

from _helpers import job

from tinyscale.analysis.aggregate import environment_summary
from tinyscale.io import read_json, write_json

with job(snakemake):
    write_json(snakemake.output.environment, environment_summary([read_json(p) for p in snakemake.input.records]))

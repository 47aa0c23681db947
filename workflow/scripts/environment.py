"""What every run ran on (code and library versions, devices, compute), for the appendix; and a
check that every run's checkpoint is whole (nothing else reads the width sweep's checkpoints)."""

from _helpers import job

from tinyscale.analysis.aggregate import environment_summary
from tinyscale.io import check_zips, read_json, write_json

with job(snakemake):
    check_zips(snakemake.input.checkpoints, "checkpoint", fix="delete it and train the run again")
    write_json(snakemake.output.environment, environment_summary([read_json(p) for p in snakemake.input.records]))

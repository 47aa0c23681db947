"""numbers.json: every scalar the paper cites, one key per study, plus the build's name, data and compute."""

from _helpers import job

from tinyscale.io import read_json, write_json

with job(snakemake):
    studies = {name: read_json(path) for name, path in zip(snakemake.params.studies, snakemake.input.studies)}
    write_json(snakemake.output.numbers, {**snakemake.params.meta, "studies": snakemake.params.studies, **studies,
                                          "compute": read_json(snakemake.input.environment)})

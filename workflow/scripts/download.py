"""Download one file of the configured dataset from its registry url and verify its md5."""

from _helpers import job

from tinyscale.datasets import fetch

with job(snakemake):
    fetch(snakemake.params.file, snakemake.output[0], snakemake.params.verify)

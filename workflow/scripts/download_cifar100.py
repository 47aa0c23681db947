"""Download the official CIFAR-100 python archive and verify its md5."""

from tinyscale.data import fetch_cifar100
from tinyscale.io import log_to

with log_to(snakemake.log[0]):
    fetch_cifar100(snakemake.output.archive, snakemake.params.url, snakemake.params.md5)

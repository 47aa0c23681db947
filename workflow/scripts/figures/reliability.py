"""Reliability diagrams of the smallest, a mid-size and the largest model of each family."""

import pandas as pd

from tinyscale import figures
from tinyscale.io import log_to

with log_to(snakemake.log[0]):
    i = snakemake.input
    figures.save(figures.reliability(pd.read_csv(i.reliability), pd.read_csv(i.summary)), snakemake.output.pdf)

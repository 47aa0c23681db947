"""Figure 2: local scaling exponents between adjacent sizes, against Kaplan et al.'s α."""

import pandas as pd

from tinyscale import figures
from tinyscale.io import log_to, read_json

with log_to(snakemake.log[0]):
    i = snakemake.input
    fig = figures.local_exponents(pd.read_csv(i.local_exponents), read_json(i.numbers)["kaplan_alpha"])
    figures.save(fig, snakemake.output.pdf)

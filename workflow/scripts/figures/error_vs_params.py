"""Figure 1: test error vs parameters (log-log), every seed, seed means, fits, residuals."""

import pandas as pd

from tinyscale import figures
from tinyscale.io import log_to

with log_to(snakemake.log[0]):
    i = snakemake.input
    fig = figures.error_vs_params(pd.read_csv(i.runs), pd.read_csv(i.summary), pd.read_csv(i.fits))
    figures.save(fig, snakemake.output.pdf)

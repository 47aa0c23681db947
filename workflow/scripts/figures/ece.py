"""Figure 6: expected calibration error vs parameters, the peak marked."""

import pandas as pd

from tinyscale import figures
from tinyscale.io import log_to

with log_to(snakemake.log[0]):
    figures.save(figures.ece_vs_params(pd.read_csv(snakemake.input.summary)), snakemake.output.pdf)

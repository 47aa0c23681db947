"""Figure 3: error-set Jaccard of each size against its family's largest model."""

import pandas as pd

from tinyscale import figures
from tinyscale.io import log_to

with log_to(snakemake.log[0]):
    i = snakemake.input
    figures.save(figures.jaccard_vs_largest(pd.read_csv(i.jaccard), pd.read_csv(i.summary)), snakemake.output.pdf)

"""Figure 5: Gini of per-class accuracy and bottom-k class accuracy vs parameters."""

import pandas as pd

from tinyscale import figures
from tinyscale.io import log_to, read_json

with log_to(snakemake.log[0]):
    i = snakemake.input
    bottom_k = sorted(int(k) for k in next(iter(read_json(i.numbers)["families"].values()))["bottom"])
    fig = figures.specialisation(pd.read_csv(i.specialisation), pd.read_csv(i.summary), bottom_k)
    figures.save(fig, snakemake.output.pdf)

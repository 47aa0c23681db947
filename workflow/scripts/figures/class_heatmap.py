"""Figure 4: seed-averaged per-class accuracy, ScaleCNN sizes × classes sorted by difficulty."""

import pandas as pd

from tinyscale import figures
from tinyscale.io import log_to

with log_to(snakemake.log[0]):
    i = snakemake.input
    summary = pd.read_csv(i.summary)
    arch = "scalecnn" if (summary["arch"] == "scalecnn").any() else summary["arch"].iloc[0]
    figures.save(figures.class_heatmap(pd.read_csv(i.per_class), summary, arch), snakemake.output.pdf)

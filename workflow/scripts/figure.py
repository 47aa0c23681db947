"""Draw one figure: its tables in, its plotting module's plot(tables, **params) out, as a PDF and a PNG."""

from _helpers import job

from tinyscale.io import read_csv
from tinyscale.paper.figures import plot
from tinyscale.paper.figures.style import save

with job(snakemake):
    tables = {name: read_csv(path) for name, path in zip(snakemake.params.tables, snakemake.input.tables)}
    save(plot(snakemake.params.module, tables, snakemake.params.figure), snakemake.output.pdf, snakemake.output.png)

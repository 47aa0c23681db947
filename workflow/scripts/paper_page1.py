"""The paper's first page as a PNG (pdftoppm)."""

from _helpers import job

from tinyscale.paper.pages import render_page

with job(snakemake):
    render_page(snakemake.input.pdf, snakemake.output.png, page=1, dpi=snakemake.params.dpi)

"""The arXiv archive: the flattened .tex, the figures it includes and its .bbl (tinyscale.paper.arxiv)."""

from _helpers import job

from tinyscale.io import check_pdfs
from tinyscale.paper.arxiv import pack

with job(snakemake):
    check_pdfs(snakemake.input.figures)
    members = pack(snakemake.input.tex, snakemake.input.bbl, snakemake.output.tar)
    print("packed", ", ".join(members))

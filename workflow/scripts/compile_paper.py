"""Compile the rendered paper offline (latexmk → pdflatex + bibtex)."""

import shutil
from pathlib import Path

from _helpers import job

from tinyscale.io import check_pdfs
from tinyscale.paper.latex import compile_pdf

with job(snakemake):
    check_pdfs(snakemake.input.figures)  # pdflatex fails on a truncated one without naming it
    tex = Path(snakemake.input.tex)
    shutil.copyfile(snakemake.input.bib, tex.parent / "references.bib")
    compile_pdf(tex, snakemake.output.pdf, tex.parent / "latexmk.log")

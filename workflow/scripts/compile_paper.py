"""Compile the rendered paper offline (latexmk → pdflatex + bibtex)."""

import shutil
from pathlib import Path

from _helpers import job

from tinyscale.paper.latex import compile_pdf

with job(snakemake):
    tex = Path(snakemake.input.tex)
    shutil.copyfile(snakemake.input.bib, tex.parent / "references.bib")
    compile_pdf(tex, snakemake.output.pdf, tex.parent / "latexmk.log")

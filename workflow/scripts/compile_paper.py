"""Compile the rendered paper offline (latexmk → pdflatex + bibtex)."""

import shutil
from pathlib import Path

from tinyscale.io import log_to
from tinyscale.paper import compile_pdf

with log_to(snakemake.log[0]):
    tex = Path(snakemake.input.tex)
    shutil.copyfile(snakemake.input.bib, tex.parent / "references.bib")
    compile_pdf(tex, snakemake.output.pdf, tex.parent / "latexmk.log")

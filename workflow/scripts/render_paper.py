"""Render the paper's templates with numbers.json and the tables (StrictUndefined)."""

from _helpers import job

from tinyscale.io import read_csv, read_json, write_text
from tinyscale.paper.render import TEMPLATES, paper_context, render

with job(snakemake):
    i, p = snakemake.input, snakemake.params
    tables = {name: read_csv(path) for name, path in zip(p.tables, i.tables)}
    context = paper_context(read_json(i.numbers), p.meta, read_json(i.environment), tables, p.figures)
    write_text(snakemake.output.tex, render(TEMPLATES, "paper.tex.j2", {**context, "studies": p.studies}))

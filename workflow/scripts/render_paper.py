"""Render paper/templates/paper.tex.j2 with numbers.json and the tables (StrictUndefined)."""

import pandas as pd

from tinyscale.io import log_to, read_json, write_text
from tinyscale.paper import paper_context, render

with log_to(snakemake.log[0]):
    i = snakemake.input
    tables = {key: pd.read_csv(i[key]) for key in ("summary", "fits", "local", "specialisation", "comparison", "jaccard")}
    context = paper_context(read_json(i.numbers), read_json(i.environment), tables, snakemake.params.figures)
    write_text(snakemake.output.tex, render(snakemake.params.template_dir, "paper.tex.j2", context))

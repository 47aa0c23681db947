"""The report's captions (each figure's, rendered from the paper's caption templates, as .rst) and
each study's headline numbers (tinyscale.paper.report)."""

import pandas as pd
from _helpers import job

from tinyscale import studies
from tinyscale.io import read_csv, read_json, write_csv, write_text
from tinyscale.paper.render import paper_context
from tinyscale.paper.report import caption_rst, figure_captions, headline_rows

with job(snakemake):
    i, o, p = snakemake.input, snakemake.output, snakemake.params
    tables = {name: read_csv(path) for name, path in zip(p.tables, i.tables)}
    numbers = read_json(i.numbers)
    context = paper_context(numbers, p.meta, read_json(i.environment), tables, p.figures)
    enabled = [studies.get(name) for name in p.studies]
    captions = figure_captions(context, enabled)
    for path, name in zip(o.captions, p.figure_names):
        write_text(path, caption_rst(captions[name]))
    for path, study in zip(o.headlines, enabled):
        write_csv(path, pd.DataFrame(headline_rows(study, numbers), columns=["quantity", "value"]))

"""Render paper/templates/paper.tex.j2 with numbers.json and the tables (StrictUndefined)."""

import pandas as pd

from tinyscale.io import log_to, read_json, write_text
from tinyscale.analysis import FAMILY_LABELS
from tinyscale.paper import DATASETS, render

with log_to(snakemake.log[0]):
    i = snakemake.input
    records = lambda path: pd.read_csv(path).astype(object).where(lambda d: d.notna(), None).to_dict("records")  # noqa: E731
    numbers = read_json(i.numbers)
    name, description = DATASETS[numbers["dataset"]]
    context = {
        "n": numbers,
        "dataset_name": name,
        "dataset_description": description,
        "family_labels": FAMILY_LABELS,
        "env": read_json(i.environment),
        "summary": records(i.summary),
        "fits": records(i.fits),
        "local": records(i.local_exponents),
        "specialisation": records(i.specialisation),
        "comparison": records(i.comparison),
        "jaccard": records(i.jaccard),
        "figures": snakemake.params.figures,
    }
    write_text(snakemake.output.tex, render(snakemake.params.template_dir, "paper.tex.j2", context))

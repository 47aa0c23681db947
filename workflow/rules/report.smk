# The HTML report: `snakemake --report results/{name}/report.html` (workflow/report/workflow.rst
# describes the workflow). Grouped by study: each figure as a PNG (figures.smk) with the caption
# the paper prints — rendered here from the same caption templates, not a second copy — the
# study's tables and headline numbers; and the paper. Snakemake collects report() files from
# the jobs of the default target, so REPORT_FILES are inputs of rule all (which marks the paper).

CAPTION_TEMPLATES = [portable(TEMPLATES / s.captions) for s in STUDIES if s.captions]
# Each table under the first study whose paper section reads it.
TABLE_STUDY = {}
for _study in STUDIES:
    for _t in _study.paper_tables:
        TABLE_STUDY.setdefault(_t, _study)
HEADLINES = {s.name: f"{ROOT}/report/{s.name}_headline.csv" for s in STUDIES}


rule report_captions:
    input:
        templates=CAPTION_TEMPLATES,
        numbers=rules.numbers.output.numbers,
        environment=rules.environment.output.environment,
        tables=[table(t) for t in PAPER_TABLES],
    output:
        captions=[figure_caption(f.name) for f in FIGURES],
        headlines=list(HEADLINES.values()),
    log:
        f"{ROOT}/logs/report_captions.log",
    conda:
        ANALYSIS_ENV
    resources:
        runtime=10,  # minutes; CPU-only
    params:
        tables=PAPER_TABLES,
        meta={},  # captions never print the title or authors, and changing those rebuilds only the paper
        figures=rules.render_paper.params.figures,
        figure_names=[f.name for f in FIGURES],
        studies=STUDY_NAMES,
    script:
        "../scripts/report_captions.py"


HEADLINE_LABELS = {"table": "headline numbers"}
# One line each: a line that starts with "report(" reads to Snakemake as its report directive.
REPORT_FILES = [
    *(report(HEADLINES[s.name], category=s.title, subcategory="Headline numbers", labels=HEADLINE_LABELS) for s in STUDIES),
    *(report(table(t), category=s.title, subcategory="Tables", labels={"table": t}) for t, s in TABLE_STUDY.items()),
    *(figure_caption(f.name) for f in FIGURES),
]

# One rule per figure, generated from the enabled studies' figure tables (tinyscale.studies).
# A figure's own plotting module is an input of its rule, so editing it redraws that figure
# and recompiles the paper, nothing else; the shared style module redraws them all.
# Each figure is also saved as a PNG for the HTML report (`snakemake --report`), grouped by
# study, with the caption the paper prints (rule report_captions writes it; report.smk).

from tinyscale.paper.figures import module_path

FIGURES = studies.figures(config)
FIGURE_STYLE = portable(module_path("tinyscale.paper.figures.style"))


def figure_pdf(name):
    return f"{ROOT}/figures/{name}.pdf"


def figure_caption(name):
    """The report caption of a figure (reStructuredText; rule report_captions writes it)."""
    return f"{ROOT}/report/captions/{name}.rst"


for _study, _fig in [(s, f) for s in STUDIES for f in s.figures if f.when(config)]:

    rule:
        name:
            f"figure_{_fig.name}"
        input:
            tables=[table(t) for t in _fig.tables],
            code=[portable(module_path(m)) for m in (_fig.module, *_fig.shared)],
            style=FIGURE_STYLE,
        output:
            pdf=figure_pdf(_fig.name),
            # an absolute caption path: Snakemake reads a relative one from the Snakefile's folder
            png=report(
                f"{ROOT}/figures/{_fig.name}.png",
                caption=os.path.abspath(figure_caption(_fig.name)),
                category=_study.title,
                subcategory="Figures",
                labels={"figure": _fig.name},
            ),
        log:
            f"{ROOT}/logs/figures/{_fig.name}.log",
        conda:
            ANALYSIS_ENV
        resources:
            runtime=30,  # minutes; CPU-only
        params:
            module=_fig.module,
            tables=list(_fig.tables),
            figure=unordered(_fig.params(config)),
        script:
            "../scripts/figure.py"

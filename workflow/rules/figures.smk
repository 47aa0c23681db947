# One rule per figure, generated from the enabled studies' figure tables (tinyscale.studies).
# A figure's own plotting module is an input of its rule, so editing it redraws that figure
# and recompiles the paper, nothing else; the shared style module redraws them all.

from tinyscale.paper.figures import module_path

FIGURES = studies.figures(config)
FIGURE_STYLE = module_path("tinyscale.paper.figures.style")


def figure_pdf(name):
    return f"{ROOT}/figures/{name}.pdf"


for _fig in FIGURES:

    rule:
        name:
            f"figure_{_fig.name}"
        input:
            tables=[table(t) for t in _fig.tables],
            code=[module_path(m) for m in (_fig.module, *_fig.shared)],
            style=FIGURE_STYLE,
        output:
            pdf=figure_pdf(_fig.name),
        params:
            module=_fig.module,
            tables=list(_fig.tables),
            figure=_fig.params(config),
        log:
            f"{ROOT}/logs/figures/{_fig.name}.log",
        resources:
            runtime=30,  # minutes; CPU-only
        conda:
            ANALYSIS_ENV
        script:
            "../scripts/figure.py"

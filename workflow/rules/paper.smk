TEMPLATES = sorted(str(p) for p in Path("paper/templates").glob("*.tex.j2"))
FIGURE_PDFS = [figure_pdf(f) for f in FIGURES]


rule render_paper:
    input:
        templates=TEMPLATES,
        numbers=rules.analyse.output.numbers,
        summary=rules.analyse.output.summary,
        fits=rules.analyse.output.fits,
        local=rules.analyse.output.local_exponents,
        specialisation=rules.analyse.output.specialisation,
        comparison=rules.analyse.output.comparison,
        jaccard=rules.jaccard.output.jaccard,
        environment=rules.aggregate.output.environment,
    output:
        tex=f"{ROOT}/paper/paper.tex",
    params:
        template_dir=lambda wildcards, input: str(Path(input.templates[0]).parent),
        figures={f: f"../figures/{f}.pdf" for f in FIGURES},
    log:
        f"{ROOT}/logs/render_paper.log",
    resources:
        runtime=30,  # minutes; CPU-only
    conda:
        ANALYSIS_ENV
    script:
        "../scripts/render_paper.py"


rule compile_paper:
    input:
        tex=rules.render_paper.output.tex,
        bib="paper/references.bib",
        figures=FIGURE_PDFS,
    output:
        pdf=PAPER_PDF,
    log:
        f"{ROOT}/logs/compile_paper.log",
    resources:
        runtime=30,  # minutes; CPU-only
    conda:
        LATEX_ENV
    script:
        "../scripts/compile_paper.py"

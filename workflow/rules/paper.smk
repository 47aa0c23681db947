# numbers.json from every study's numbers, then render the templates and compile the PDF.
# Title and authors reach only the render rule: changing them rebuilds the paper alone.

from tinyscale.paper.render import TEMPLATES

TEMPLATE_FILES = sorted(portable(p) for p in TEMPLATES.rglob("*.tex.j2"))
PAPER_TABLES = sorted({t for s in STUDIES for t in s.paper_tables})


rule numbers:
    input:
        studies=[study_numbers(s) for s in STUDY_NAMES],
        environment=rules.environment.output.environment,
    output:
        numbers=f"{ROOT}/numbers.json",
    log:
        f"{ROOT}/logs/numbers.log",
    conda:
        ANALYSIS_ENV
    resources:
        runtime=10,  # minutes; CPU-only
    params:
        studies=STUDY_NAMES,
        meta={"name": config["name"], "dataset": config["data"]["dataset"]},
    script:
        "../scripts/merge_numbers.py"


rule render_paper:
    input:
        templates=TEMPLATE_FILES,
        numbers=rules.numbers.output.numbers,
        environment=rules.environment.output.environment,
        tables=[table(t) for t in PAPER_TABLES],
    output:
        tex=f"{ROOT}/paper/paper.tex",
    log:
        f"{ROOT}/logs/render_paper.log",
    conda:
        ANALYSIS_ENV
    resources:
        runtime=30,  # minutes; CPU-only
    params:
        tables=PAPER_TABLES,
        meta={"title": config["title"], "authors": config["authors"]},
        studies=[{"name": s.name, "abstract": s.abstract, "section": s.section} for s in STUDIES],
        figures={f.name: f"../figures/{f.name}.pdf" for f in FIGURES},
    script:
        "../scripts/render_paper.py"


rule compile_paper:
    input:
        tex=rules.render_paper.output.tex,
        bib=portable(TEMPLATES.parent / "references.bib"),
        figures=[figure_pdf(f.name) for f in FIGURES],
    output:
        pdf=PAPER_PDF,
        bbl=f"{ROOT}/paper/build/paper.bbl",  # bibtex's, for the arXiv archive
    log:
        f"{ROOT}/logs/compile_paper.log",
    # the env holds the script's Python; TeX (latexmk, pdflatex, the paper's packages) comes from
    # the system where the job runs, as no conda env provides it (README, "Conda environments")
    conda:
        ANALYSIS_ENV
    resources:
        runtime=30,  # minutes; CPU-only
    script:
        "../scripts/compile_paper.py"


rule arxiv:
    input:
        tex=rules.render_paper.output.tex,
        bbl=rules.compile_paper.output.bbl,
        figures=[figure_pdf(f.name) for f in FIGURES],
    output:
        tar=ARXIV_TAR,
    log:
        f"{ROOT}/logs/arxiv.log",
    conda:
        ANALYSIS_ENV
    resources:
        runtime=10,  # minutes; CPU-only
    script:
        "../scripts/arxiv.py"


# The paper's first page as a picture (the README's; not part of the default target):
#   snakemake --cores 1 results/quick/paper/page1.png --configfile config/quick.yaml
rule paper_page1:
    input:
        pdf=PAPER_PDF,
    output:
        png=f"{ROOT}/paper/page1.png",
    log:
        f"{ROOT}/logs/paper_page1.log",
    conda:
        ANALYSIS_ENV  # pdftoppm (poppler) from the system, like TeX
    resources:
        runtime=5,  # minutes; CPU-only
    params:
        dpi=60,
    script:
        "../scripts/paper_page1.py"

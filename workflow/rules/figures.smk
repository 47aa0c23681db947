# One rule per figure, each with its own script in workflow/scripts/figures/ (showyourwork style:
# a figure knows the script that made it). The script is also an input, so editing it reruns
# that figure and the paper, nothing else.


rule figure_error_vs_params:
    input:
        runs=rules.aggregate.output.runs,
        summary=rules.analyse.output.summary,
        fits=rules.analyse.output.fits,
        script="workflow/scripts/figures/error_vs_params.py",
    output:
        pdf=figure_pdf("error_vs_params"),
    log:
        figure_log("error_vs_params"),
    resources:
        runtime=30,  # minutes; CPU-only
    conda:
        ANALYSIS_ENV
    script:
        "../scripts/figures/error_vs_params.py"


rule figure_local_exponents:
    input:
        local_exponents=rules.analyse.output.local_exponents,
        numbers=rules.analyse.output.numbers,
        script="workflow/scripts/figures/local_exponents.py",
    output:
        pdf=figure_pdf("local_exponents"),
    log:
        figure_log("local_exponents"),
    resources:
        runtime=30,  # minutes; CPU-only
    conda:
        ANALYSIS_ENV
    script:
        "../scripts/figures/local_exponents.py"


rule figure_jaccard:
    input:
        jaccard=rules.jaccard.output.jaccard,
        summary=rules.analyse.output.summary,
        script="workflow/scripts/figures/jaccard.py",
    output:
        pdf=figure_pdf("jaccard"),
    log:
        figure_log("jaccard"),
    resources:
        runtime=30,  # minutes; CPU-only
    conda:
        ANALYSIS_ENV
    script:
        "../scripts/figures/jaccard.py"


rule figure_class_heatmap:
    input:
        per_class=rules.aggregate.output.per_class,
        summary=rules.analyse.output.summary,
        script="workflow/scripts/figures/class_heatmap.py",
    output:
        pdf=figure_pdf("class_heatmap"),
    log:
        figure_log("class_heatmap"),
    resources:
        runtime=30,  # minutes; CPU-only
    conda:
        ANALYSIS_ENV
    script:
        "../scripts/figures/class_heatmap.py"


rule figure_specialisation:
    input:
        specialisation=rules.analyse.output.specialisation,
        summary=rules.analyse.output.summary,
        numbers=rules.analyse.output.numbers,
        script="workflow/scripts/figures/specialisation.py",
    output:
        pdf=figure_pdf("specialisation"),
    log:
        figure_log("specialisation"),
    resources:
        runtime=30,  # minutes; CPU-only
    conda:
        ANALYSIS_ENV
    script:
        "../scripts/figures/specialisation.py"


rule figure_ece:
    input:
        summary=rules.analyse.output.summary,
        script="workflow/scripts/figures/ece.py",
    output:
        pdf=figure_pdf("ece"),
    log:
        figure_log("ece"),
    resources:
        runtime=30,  # minutes; CPU-only
    conda:
        ANALYSIS_ENV
    script:
        "../scripts/figures/ece.py"


rule figure_reliability:
    input:
        reliability=rules.aggregate.output.reliability,
        summary=rules.analyse.output.summary,
        script="workflow/scripts/figures/reliability.py",
    output:
        pdf=figure_pdf("reliability"),
    log:
        figure_log("reliability"),
    resources:
        runtime=30,  # minutes; CPU-only
    conda:
        ANALYSIS_ENV
    script:
        "../scripts/figures/reliability.py"

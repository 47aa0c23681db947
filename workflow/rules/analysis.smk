rule aggregate:
    input:
        predictions=all_runs("predictions.npz"),
        records=all_runs("run.json"),
        dataset=rules.prepare_data.output.dataset,
    output:
        runs=f"{ROOT}/tables/runs.csv",
        per_class=f"{ROOT}/tables/per_class.csv",
        reliability=f"{ROOT}/tables/reliability.csv",
        environment=f"{ROOT}/tables/environment.json",
    params:
        ece_bins=config["analysis"]["ece_bins"],
    log:
        f"{ROOT}/logs/aggregate.log",
    resources:
        runtime=30,  # minutes; CPU-only
    conda:
        ANALYSIS_ENV
    script:
        "../scripts/aggregate.py"


rule jaccard:
    input:
        predictions=all_runs("predictions.npz"),
        records=all_runs("run.json"),
    output:
        jaccard=f"{ROOT}/tables/jaccard.csv",
    log:
        f"{ROOT}/logs/jaccard.log",
    resources:
        runtime=30,  # minutes; CPU-only
    conda:
        ANALYSIS_ENV
    script:
        "../scripts/jaccard.py"


rule reference:
    input:
        runs=config["reference"] or [],
    output:
        numbers=f"{ROOT}/reference/numbers.json",
        summary=f"{ROOT}/reference/summary.csv",
        runs=f"{ROOT}/reference/runs.csv",
    params:
        analysis=config["analysis"],
    log:
        f"{ROOT}/logs/reference.log",
    resources:
        runtime=30,  # minutes; CPU-only
    conda:
        ANALYSIS_ENV
    script:
        "../scripts/reference.py"


rule analyse:
    input:
        runs=rules.aggregate.output.runs,
        per_class=rules.aggregate.output.per_class,
        environment=rules.aggregate.output.environment,
        jaccard=rules.jaccard.output.jaccard,
        reference=rules.reference.output.numbers if HAS_REFERENCE else [],
        reference_summary=rules.reference.output.summary if HAS_REFERENCE else [],
    output:
        numbers=f"{ROOT}/numbers.json",
        summary=f"{ROOT}/tables/summary.csv",
        fits=f"{ROOT}/tables/fits.csv",
        local_exponents=f"{ROOT}/tables/local_exponents.csv",
        specialisation=f"{ROOT}/tables/specialisation.csv",
        calibration=f"{ROOT}/tables/calibration.csv",
        comparison=f"{ROOT}/tables/comparison.csv",
    params:
        analysis=config["analysis"],
        meta={
            "name": config["name"],
            "title": config["title"],
            "authors": config["authors"],
            "dataset": config["data"]["dataset"],
            "train": config["train"],
            "augment": config["augment"],
        },
    log:
        f"{ROOT}/logs/analyse.log",
    resources:
        runtime=30,  # minutes; CPU-only
    conda:
        ANALYSIS_ENV
    script:
        "../scripts/analyse.py"

# The width sweep's analyses: its runs' predictions → runs, per-class, reliability and error-set
# overlap tables (one pass over the predictions), the original's released runs through the same
# code, then every table and the study's numbers (with the forecast of the next sizes and its
# backtest on the released runs).

WIDTH_SWEEP_RUNS = studies.get("width_sweep").runs(config)


rule aggregate:
    input:
        predictions=runs_files(WIDTH_SWEEP_RUNS, "predictions.npz"),
        records=runs_files(WIDTH_SWEEP_RUNS, "run.json"),
        dataset=DATASET_NPZ,
    output:
        runs=table("runs"),
        per_class=table("per_class"),
        reliability=table("reliability"),
        jaccard=table("jaccard"),
    log:
        f"{ROOT}/logs/aggregate.log",
    conda:
        ANALYSIS_ENV
    resources:
        runtime=30,  # minutes; CPU-only
    params:
        ece_bins=config["analysis"]["ece_bins"],
    script:
        "../../scripts/aggregate.py"


rule reference:
    input:
        runs=REFERENCE or [],
    output:
        numbers=f"{ROOT}/reference/numbers.json",
        summary=f"{ROOT}/reference/summary.csv",
        runs=f"{ROOT}/reference/runs.csv",
    log:
        f"{ROOT}/logs/reference.log",
    conda:
        ANALYSIS_ENV
    resources:
        runtime=30,  # minutes; CPU-only
    params:
        analysis=unordered(config["analysis"]),
    script:
        "../../scripts/reference.py"


rule analyse_width_sweep:
    input:
        runs=rules.aggregate.output.runs,
        per_class=rules.aggregate.output.per_class,
        jaccard=rules.aggregate.output.jaccard,
        reference=rules.reference.output.numbers if REFERENCE else [],
        reference_summary=rules.reference.output.summary if REFERENCE else [],
        reference_runs=rules.reference.output.runs if REFERENCE else [],
    output:
        numbers=study_numbers("width_sweep"),
        summary=table("summary"),
        fits=table("fits"),
        local_exponents=table("local_exponents"),
        specialisation=table("specialisation"),
        calibration=table("calibration"),
        comparison=table("comparison"),
        forecast_next=table("forecast_next"),
        forecast_backtest=table("forecast_backtest"),
    log:
        f"{ROOT}/logs/analyse_width_sweep.log",
    conda:
        ANALYSIS_ENV
    resources:
        runtime=30,  # minutes; CPU-only
    params:
        analysis=unordered(config["analysis"]),
        recipe=RECIPE_PARAMS["cosine"],
        runs=[r.id for r in WIDTH_SWEEP_RUNS],  # what runs.csv must hold
    script:
        "../../scripts/analyse_width_sweep.py"

# The scale–time study's analysis: its runs' learning curves → time-to-threshold, the trade-off
# exponent, the collapse, the leave-one-size-out prediction and the verdict, per arm.

from tinyscale import families
from tinyscale.studies import scale_time as _st

ST_RUNS = studies.get("scale_time").runs(config)
ST_SETTINGS = config["studies"]["scale_time"]
# recipe name → its arm (one optimiser, learning rate and loss)
ST_ARMS = _st.arms(config)


rule analyse_scale_time:
    input:
        curves=runs_files(ST_RUNS, "curve.csv"),
        records=runs_files(ST_RUNS, "run.json"),
    output:
        numbers=study_numbers("scale_time"),
        long=table("st_runs_curves"),
        curves=table("st_curves"),
        t_min=table("st_t_min"),
        k_per_threshold=table("st_k_per_threshold"),
        loso=table("st_loso"),
        collapse_residuals=table("st_collapse_residuals"),
        summary=table("st_summary"),
        unified=table("st_unified"),  # the unified law's figure
    log:
        f"{ROOT}/logs/analyse_scale_time.log",
    conda:
        ANALYSIS_ENV
    resources:
        runtime=30,  # minutes; CPU-only
    params:
        settings=unordered(ST_SETTINGS),
        arms=ST_ARMS,
        epochs={families.get(ST_SETTINGS["family"]).format_width(w): _st.epochs_for(config, w) for w in ST_SETTINGS["widths"]},
        primary_arm=_st.primary_arm(config),
        n_train=datasets.get(config["data"]["dataset"]).train_images(config["data"]),
    script:
        "../../scripts/analyse_scale_time.py"

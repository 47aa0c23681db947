# The precision study's analysis: its fine-tuned runs' predictions → the budget table with
# storage, MACs and peak activation memory, paired differences, winners, κ and the verdict.

from tinyscale.studies import precision as _pp

PP_RUNS = _pp.finetune_runs(config)
PP_FAMILY = config["studies"]["precision"]["family"]
# κ inverts the fp32 power law of the width sweep, when the sweep fits this family.
PP_LAW = study_numbers("width_sweep") if "width_sweep" in STUDY_NAMES and PP_FAMILY in config["models"] else []


rule analyse_precision:
    input:
        predictions=runs_files([r for _, r in PP_RUNS], "predictions.npz"),
        records=runs_files([r for _, r in PP_RUNS], "run.json"),
        dataset=DATASET_NPZ,
        law=PP_LAW,
    output:
        numbers=study_numbers("precision"),
        runs=table("pp_runs"),
        budgets=table("pp_budgets"),
        differences=table("pp_differences"),
        winners=table("pp_winners"),
        kappa=table("pp_kappa"),
        kappa_check=table("pp_kappa_check"),
    log:
        f"{ROOT}/logs/analyse_precision.log",
    conda:
        TORCH_ENV
    resources:
        runtime=30,  # minutes; CPU-only
    params:
        settings=unordered(config["studies"]["precision"]),
        models=[
            {
                "budget": m.budget,
                "budget_bits": m.budget_bits,
                "bits": m.bits,
                "act_bits": m.act_bits,
                "width": m.width,
                "storage_bits": m.storage_bits,
                "arms": list(m.arms),
                "run": r.id,
            }
            for m, r in PP_RUNS
        ],
    script:
        "../../scripts/analyse_precision.py"

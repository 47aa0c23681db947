# The precision study's analysis: its fine-tuned runs' predictions → the budget table with
# storage, MACs and peak activation memory, paired differences, winners, κ and the verdict.

from tinyscale.studies import precision as _pp

PP_RUNS = _pp.finetune_runs(config)
PP_FAMILY = config["studies"]["precision"]["family"]
# κ inverts the fp32 power law of the width sweep, when the sweep fits this family.
PP_LAW = study_numbers("width_sweep") if "width_sweep" in STUDY_NAMES and PP_FAMILY in config["models"] else []


# The further arms (studies.precision.tasks): one analysis each, read by the main analysis for the
# verdict across tasks.
PP_ARMS = _pp.task_arms(config)[1:]


def pp_models(runs):
    return [
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
        for m, r in runs
    ]


def pp_arm_numbers(arm):
    return f"{ROOT}/numbers/precision_tasks/{arm.key}.json"


for _arm in PP_ARMS:
    _runs = _pp.finetune_runs(config, _arm)
    _starts = sorted({r for _, r in _pp.start_runs(config, _arm)}, key=lambda r: r.id)

    rule:
        name:
            f"analyse_precision_{_arm.key.replace('-', '_')}"
        input:
            predictions=runs_files([r for _, r in _runs], "predictions.npz"),
            records=runs_files([r for _, r in _runs], "run.json"),
            start_predictions=runs_files(_starts, "predictions.npz"),
            start_records=runs_files(_starts, "run.json"),
            dataset=dataset_npz(_arm.run_dataset(config)),
        output:
            numbers=pp_arm_numbers(_arm),
            runs=table(f"pp_{_arm.key}_runs"),
            budgets=table(f"pp_{_arm.key}_budgets"),
            differences=table(f"pp_{_arm.key}_differences"),
            winners=table(f"pp_{_arm.key}_winners"),
            kappa=table(f"pp_{_arm.key}_kappa"),
        log:
            f"{ROOT}/logs/analyse_precision_{_arm.key}.log",
        conda:
            TORCH_ENV
        resources:
            runtime=30,  # minutes; CPU-only
        params:
            arm={"key": _arm.key, "dataset": _arm.dataset, "family": _arm.family, "budget_widths": list(_arm.budget_widths)},
            settings=unordered(config["studies"]["precision"]),
            models=pp_models(_runs),
        script:
            "../../scripts/analyse_precision_task.py"


rule analyse_precision:
    input:
        predictions=runs_files([r for _, r in PP_RUNS], "predictions.npz"),
        records=runs_files([r for _, r in PP_RUNS], "run.json"),
        dataset=DATASET_NPZ,
        law=PP_LAW,
        arms=[pp_arm_numbers(a) for a in PP_ARMS],
        arm_budgets=[table(f"pp_{a.key}_budgets") for a in PP_ARMS],
    output:
        numbers=study_numbers("precision"),
        runs=table("pp_runs"),
        budgets=table("pp_budgets"),
        differences=table("pp_differences"),
        winners=table("pp_winners"),
        kappa=table("pp_kappa"),
        kappa_check=table("pp_kappa_check"),
        tasks=table("pp_tasks"),  # one row per arm and budget: its winner and verdict
        task_budgets=table("pp_task_budgets"),  # every arm's budget table, for the Pareto panels
    log:
        f"{ROOT}/logs/analyse_precision.log",
    conda:
        TORCH_ENV
    resources:
        runtime=30,  # minutes; CPU-only
    params:
        settings=unordered(config["studies"]["precision"]),
        models=pp_models(PP_RUNS),
        main_arm=_pp.task_arms(config)[0].key,
    script:
        "../../scripts/analyse_precision.py"

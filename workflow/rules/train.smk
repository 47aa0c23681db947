# Training and prediction, one job per run; with train.pack_seeds one job per configuration
# (family, width, recipe) trains all its seeds together. Only settings that can change a run's
# weights are params (the recipe); intervals, device and caches reach the script through the
# config, so changing them retrains nothing.


def train_params(wildcards):
    return RECIPE_PARAMS[RUN_BY_ID[wildcards.run].recipe]


if not config["train"]["pack_seeds"]:

    rule train:
        input:
            dataset=rules.prepare_data.output.dataset,
        output:
            model=run_file("model.pt"),
            log_csv=run_file("train_log.csv"),
            record=run_file("run.json"),
        params:
            recipe=train_params,
        log:
            f"{ROOT}/logs/train/{{run}}.log",
        threads: 4 if USE_GPU else 1
        resources:
            gpu=1 if USE_GPU else 0,
            mem_mb=8000 if USE_GPU else 2000,
            runtime=train_runtime,
        conda:
            TORCH_ENV
        script:
            "../scripts/train.py"

else:
    # One rule per distinct seed list (a rule's outputs are fixed), each for the configurations
    # whose runs have exactly those seeds.
    SEED_SETS = {}
    for _cid, _runs in CONFIG_RUNS.items():
        SEED_SETS.setdefault(tuple(r.seed for r in _runs), []).append(_cid)

    for _i, (_seeds, _cids) in enumerate(sorted(SEED_SETS.items())):

        rule:
            name:
                f"train_packed_{_i}"
            input:
                dataset=rules.prepare_data.output.dataset,
            output:
                model=[f"{ROOT}/runs/{{config_id}}-s{s}/model.pt" for s in _seeds],
                log_csv=[f"{ROOT}/runs/{{config_id}}-s{s}/train_log.csv" for s in _seeds],
                record=[f"{ROOT}/runs/{{config_id}}-s{s}/run.json" for s in _seeds],
            params:
                recipe=lambda wildcards: RECIPE_PARAMS[CONFIG_RUNS[wildcards.config_id][0].recipe],
                runs=lambda wildcards: [r.id for r in CONFIG_RUNS[wildcards.config_id]],
            wildcard_constraints:
                config_id="|".join(re.escape(c) for c in _cids),
            log:
                f"{ROOT}/logs/train/{{config_id}}.log",
            threads: 4 if USE_GPU else 1
            resources:
                gpu=1 if USE_GPU else 0,
                mem_mb=8000 if USE_GPU else 2000,
                runtime=train_runtime,
            conda:
                TORCH_ENV
            script:
                "../scripts/train.py"


rule predict:
    input:
        dataset=rules.prepare_data.output.dataset,
        model=run_file("model.pt"),
    output:
        predictions=run_file("predictions.npz"),
    log:
        f"{ROOT}/logs/predict/{{run}}.log",
    threads: 4 if USE_GPU else 1
    resources:
        gpu=1 if USE_GPU else 0,
        mem_mb=8000 if USE_GPU else 2000,
        runtime=20,
    conda:
        TORCH_ENV
    script:
        "../scripts/predict.py"


rule environment:
    input:
        records=runs_files(RUNS, "run.json"),
    output:
        environment=f"{ROOT}/tables/environment.json",
    log:
        f"{ROOT}/logs/environment.log",
    resources:
        runtime=10,  # minutes; CPU-only
    conda:
        ANALYSIS_ENV
    script:
        "../scripts/environment.py"

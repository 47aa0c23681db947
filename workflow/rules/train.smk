# Training, one job per run, which also writes the run's test-set predictions (a separate
# prediction job per run would double the jobs, and planning cost grows with jobs); with
# train.pack_seeds one job per configuration (family, width, recipe) trains all its seeds.
# Only settings that can change a run's weights are params (the recipe); intervals, device and
# caches reach the script through the config, so changing them retrains nothing. A recipe that logs a learning curve writes
# curve.csv too; one that starts from another recipe's weights (QAT from fp32) takes that
# run's model.pt as input, so the run it starts from is one target, trained once.


TRAIN_OUTPUTS = {"model": "model.pt", "log_csv": "train_log.csv", "record": "run.json", "predictions": "predictions.npz"}
# Recipes grouped by what their jobs write: with or without a learning curve.
RECIPE_GROUPS = {curve: [n for n, r in RECIPES.items() if r.curve == curve] for curve in (False, True)}

if not config["train"]["pack_seeds"]:
    for _curve, _recipes in RECIPE_GROUPS.items():
        if not _recipes:
            continue

        rule:
            name:
                "train_curve" if _curve else "train"
            input:
                dataset=DATASET_NPZ,
                # an input function costs every job of the rule: only where a recipe starts from weights
                init=(lambda wildcards: init_model(wildcards.run)) if any(RECIPES[r].init_from for r in _recipes) else [],
            output:
                **{k: run_file(v) for k, v in TRAIN_OUTPUTS.items()},
                **({"curve": run_file("curve.csv")} if _curve else {}),
            params:
                # a plain value where the rule has one recipe: a function would cost every job
                recipe=RECIPE_PARAMS[_recipes[0]] if len(_recipes) == 1
                else (lambda wildcards: RECIPE_PARAMS[RUN_BY_ID[wildcards.run].recipe]),
                state_dir=STATE_DIR,
            wildcard_constraints:
                run=run_id_pattern(_recipes),
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
    # One rule per distinct seed list and output set (a rule's outputs are fixed), each for the
    # configurations whose runs have exactly those seeds.
    SEED_SETS = {}
    for _cid, _runs in CONFIG_RUNS.items():
        SEED_SETS.setdefault((tuple(r.seed for r in _runs), RECIPES[_runs[0].recipe].curve), []).append(_cid)

    for _i, ((_seeds, _curve), _cids) in enumerate(sorted(SEED_SETS.items())):

        rule:
            name:
                f"train_packed_{_i}"
            input:
                dataset=DATASET_NPZ,
                init=lambda wildcards: [init_model(r.id) for r in CONFIG_RUNS[wildcards.config_id] if init_model(r.id)],
            output:
                **{k: [f"{ROOT}/runs/{{config_id}}-s{s}/{v}" for s in _seeds] for k, v in TRAIN_OUTPUTS.items()},
                **({"curve": [f"{ROOT}/runs/{{config_id}}-s{s}/curve.csv" for s in _seeds]} if _curve else {}),
            params:
                recipe=lambda wildcards: RECIPE_PARAMS[CONFIG_RUNS[wildcards.config_id][0].recipe],
                runs=lambda wildcards: [r.id for r in CONFIG_RUNS[wildcards.config_id]],
                state_dir=STATE_DIR,
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


rule environment:
    input:
        records=runs_files(RUNS, "run.json"),
        checkpoints=runs_files(RUNS, "model.pt"),  # checked whole: a damaged one is set aside and retrained
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

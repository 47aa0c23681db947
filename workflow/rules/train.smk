# Training, one job per run, which also writes the run's test-set predictions (a separate
# prediction job per run would double the jobs, and planning cost grows with jobs); with
# train.pack_seeds one job per configuration (family, width, recipe) trains all its seeds.
# Only what can change a run's weights is params (the recipe, and family_code: a digest of what
# builds the family's models); intervals, device and caches reach the script through the config,
# so changing them retrains nothing. A recipe that logs a learning curve writes
# curve.csv too; one that starts from another recipe's weights (QAT from fp32) takes that
# run's model.pt as input, so the run it starts from is one target, trained once.

from tinyscale.analysis import aggregate

TRAIN_OUTPUTS = {"model": "model.pt", "log_csv": "train_log.csv", "record": "run.json", "predictions": "predictions.npz"}
# Training rules hold runs of equal resources only: the SLURM plugin gives every task of a job
# array the resources of its first job (--slurm-array-jobs), and in a rule of equal runs
# threads and memory are plain values (a function would cost every job). Classes are numbered
# from the smallest: train, train_r1, … (train_curve, train_curve_r1, … for runs that log a
# learning curve; train_packed_N with train.pack_seeds).
TRAIN_CLASSES = {}

if not config["train"]["pack_seeds"]:
    for _config_id, _runs in CONFIG_RUNS.items():
        _key = (RECIPES[_runs[0].recipe].curve, train_resources(_runs[0]), train_data_key(_runs[0]))
        TRAIN_CLASSES.setdefault(_key, []).append(_config_id)

    _numbers = {False: 0, True: 0}
    for (_curve, (_threads, _mem_mb, _), _data), _cids in sorted(TRAIN_CLASSES.items()):
        _runs = [CONFIG_RUNS[c][0] for c in _cids]
        _recipes = sorted({r.recipe for r in _runs})
        _families = sorted({r.family for r in _runs})
        _name = ("train_curve" if _curve else "train") + (f"_r{_numbers[_curve]}" if _numbers[_curve] else "")
        _numbers[_curve] += 1

        rule:
            name:
                _name
            input:
                dataset=dataset_npz(_data[0]),
                # an input function costs every job of the rule: only where a recipe starts from weights
                init=(lambda wildcards: init_model(wildcards.run)) if any(RECIPES[r].init_from for r in _recipes) else [],
            output:
                **{k: run_file(v) for k, v in TRAIN_OUTPUTS.items()},
                **({"curve": run_file("curve.csv")} if _curve else {}),
            log:
                TRAIN_LOG,
            wildcard_constraints:
                run=any_of(_cids) + "-s[0-9]+",
            conda:
                TORCH_ENV
            threads: _threads
            resources:
                **TRAIN_SLURM,
                gpu=1 if USE_GPU else 0,
                mem_mb=_mem_mb,
                runtime=train_runtime(_runs[0]),
            params:
                **train_data_params(_data),
                # a plain value where the rule has one recipe: a function would cost every job
                recipe=(
                    RECIPE_PARAMS[_recipes[0]]
                    if len(_recipes) == 1
                    else (lambda wildcards: RECIPE_PARAMS[RUN_BY_ID[wildcards.run].recipe])
                ),
                family_code=(
                    FAMILY_CODE[_families[0]]
                    if len(_families) == 1
                    else (lambda wildcards: FAMILY_CODE[RUN_BY_ID[wildcards.run].family])
                ),
                state_dir=STATE_DIR,
            script:
                "../scripts/train.py"

else:
    # One rule per distinct seed list, output set and resources (a rule's outputs are fixed),
    # each for the configurations whose runs have exactly those.
    for _cid, _runs in CONFIG_RUNS.items():
        _key = (
            tuple(r.seed for r in _runs),
            RECIPES[_runs[0].recipe].curve,
            train_resources(_runs[0], len(_runs)),
            train_data_key(_runs[0]),
        )
        TRAIN_CLASSES.setdefault(_key, []).append(_cid)

    for _i, ((_seeds, _curve, (_threads, _mem_mb, _), _data), _cids) in enumerate(sorted(TRAIN_CLASSES.items())):

        rule:
            name:
                f"train_packed_{_i}"
            input:
                dataset=dataset_npz(_data[0]),
                init=lambda wildcards: [init_model(r.id) for r in CONFIG_RUNS[wildcards.config_id] if init_model(r.id)],
            output:
                **{k: [f"{ROOT}/runs/{{config_id}}-s{s}/{v}" for s in _seeds] for k, v in TRAIN_OUTPUTS.items()},
                **({"curve": [f"{ROOT}/runs/{{config_id}}-s{s}/curve.csv" for s in _seeds]} if _curve else {}),
            log:
                PACKED_LOG,
            wildcard_constraints:
                config_id=any_of(_cids),
            conda:
                TORCH_ENV
            threads: _threads
            resources:
                **TRAIN_SLURM,
                gpu=1 if USE_GPU else 0,
                mem_mb=_mem_mb,
                runtime=train_runtime(CONFIG_RUNS[_cids[0]][0], len(_seeds)),
            params:
                **train_data_params(_data),
                recipe=lambda wildcards: RECIPE_PARAMS[CONFIG_RUNS[wildcards.config_id][0].recipe],
                runs=lambda wildcards: [r.id for r in CONFIG_RUNS[wildcards.config_id]],
                family_code=lambda wildcards: FAMILY_CODE[CONFIG_RUNS[wildcards.config_id][0].family],
                state_dir=STATE_DIR,
            script:
                "../scripts/train.py"


rule environment:
    input:
        records=runs_files(RUNS, "run.json"),
        checkpoints=runs_files(RUNS, "model.pt"),  # checked whole: a damaged one is set aside and retrained
        # the summary's code: a new field (e.g. the GPU setups) reaches an existing build's appendix
        code=portable(aggregate.__file__),
    output:
        environment=f"{ROOT}/tables/environment.json",
    log:
        f"{ROOT}/logs/environment.log",
    conda:
        ANALYSIS_ENV
    resources:
        runtime=10,  # minutes; CPU-only
    script:
        "../scripts/environment.py"

rule train:
    input:
        dataset=rules.prepare_data.output.dataset,
    output:
        model=run_file("model.pt"),
        log_csv=run_file("train_log.csv"),
        record=run_file("run.json"),
    params:
        train=config["train"],
        augment=config["augment"],
        device=(config["device"], config["jobs_per_gpu"]),
        state=state_path,
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


rule predict:
    input:
        dataset=rules.prepare_data.output.dataset,
        model=rules.train.output.model,
    output:
        predictions=run_file("predictions.npz"),
    params:
        device=(config["device"], config["jobs_per_gpu"]),
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

rule download_cifar100:
    output:
        archive="resources/cifar-100-python.tar.gz",
    params:
        url=config["data"]["url"],
        md5=config["data"]["md5"],
    log:
        "resources/logs/download_cifar100.log",
    resources:
        runtime=30,  # minutes; CPU-only
    conda:
        TORCH_ENV
    script:
        "../scripts/download_cifar100.py"


rule prepare_data:
    input:
        dataset_inputs,
    output:
        dataset=f"{ROOT}/data/dataset.npz",
    params:
        data=config["data"],
    log:
        f"{ROOT}/logs/prepare_data.log",
    resources:
        runtime=30,  # minutes; CPU-only
    conda:
        TORCH_ENV
    script:
        "../scripts/prepare_data.py"

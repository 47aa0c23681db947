# The dataset: its registry files downloaded once (on the submit host: a local rule, since
# cluster compute nodes are often offline), then prepared once into a compact uint8 file.


localrules:
    download,


rule download:
    output:
        f"{DATA_DIR}/{{file}}",
    log:
        f"{DATA_DIR}/logs/download_{{file}}.log",
    wildcard_constraints:
        file="|".join(f.name.replace(".", r"\.") for f in DATASET.files) or "(?!)",
    conda:
        ANALYSIS_ENV
    resources:
        runtime=30,  # minutes; CPU-only
    params:
        file=lambda wildcards: next(f for f in DATASET.files if f.name == wildcards.file),
        verify=config["data"]["verify_md5"],
    script:
        "../scripts/download.py"


rule prepare_data:
    input:
        files=[f"{DATA_DIR}/{f.name}" for f in DATASET.files],
    output:
        dataset=DATASET_NPZ,
    log:
        f"{ROOT}/logs/prepare_data.log",
    conda:
        TORCH_ENV
    resources:
        runtime=30,  # minutes; CPU-only
    params:
        data=unordered(science(config["data"], ("data",))),  # the YAML's key order retrains nothing
        names=[f.name for f in DATASET.files],
    script:
        "../scripts/prepare_data.py"

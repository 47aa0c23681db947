# The datasets: their registry files downloaded once (on the submit host: a local rule, since
# cluster compute nodes are often offline), then each prepared once into a compact uint8 file:
# the config's own (data.dataset) and any other a study trains on (a precision study's task arms).

OTHER_DATASETS = sorted({r.dataset for r in RUNS if r.dataset and r.dataset != config["data"]["dataset"]})
# file name → its registry entry, over every dataset the build reads
REMOTE_FILES = {f.name: f for name in [config["data"]["dataset"], *OTHER_DATASETS] for f in datasets.get(name).files}


localrules:
    download,


rule download:
    output:
        f"{DATA_DIR}/{{file}}",
    log:
        f"{DATA_DIR}/logs/download_{{file}}.log",
    wildcard_constraints:
        file="|".join(name.replace(".", r"\.") for name in REMOTE_FILES) or "(?!)",
    conda:
        ANALYSIS_ENV
    resources:
        runtime=30,  # minutes; CPU-only
    params:
        file=lambda wildcards: REMOTE_FILES[wildcards.file],
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


rule prepare_other_data:
    input:
        files=lambda wildcards: [f"{DATA_DIR}/{f.name}" for f in datasets.get(wildcards.dataset).files],
    output:
        dataset=f"{ROOT}/data/{{dataset}}.npz",
    log:
        f"{ROOT}/logs/prepare_data_{{dataset}}.log",
    wildcard_constraints:
        dataset=any_of(OTHER_DATASETS),
    conda:
        TORCH_ENV
    resources:
        runtime=30,  # minutes; CPU-only
    params:
        # the data section's split and checks, with this dataset's own normalisation
        data=lambda wildcards: unordered(
            {**science(config["data"], ("data",)), "dataset": wildcards.dataset, "mean": None, "std": None}
        ),
        names=lambda wildcards: [f.name for f in datasets.get(wildcards.dataset).files],
    script:
        "../scripts/prepare_data.py"

"""Train one run (resuming from its state file if one exists) and write its checkpoint, log and record."""

import torch

from tinyscale.augment import AugmentConfig
from tinyscale.data import load_dataset
from tinyscale.device import resolve_device
from tinyscale.io import log_to, write_json
from tinyscale.runs import parse_run_id
from tinyscale.train import TrainConfig, run_to_completion

with log_to(snakemake.log[0]):
    torch.set_num_threads(snakemake.threads)
    run = parse_run_id(snakemake.wildcards.run)
    result = run_to_completion(
        run,
        load_dataset(snakemake.input.dataset),
        TrainConfig(**snakemake.params.train),
        AugmentConfig(**snakemake.params.augment),
        resolve_device(*snakemake.params.device),
        checkpoint_path=snakemake.output.model,
        log_path=snakemake.output.log_csv,
        state_path=snakemake.params.state,
    )
    write_json(snakemake.output.record, {**run.as_dict(), **result.provenance})

"""Train one run, or the packed seeds of one configuration (resuming from their state files), and
write each run's checkpoint, log, test-set predictions and record."""

from tinyscale.engine.heartbeat import beat_at_start

# before torch is imported: a job that dies while starting is seen dead at once (tinyscale status)
beat_at_start([f"{snakemake.params.state_dir}/{i}.pt" for i in (snakemake.params.get("runs") or [snakemake.wildcards.run])])

import torch  # noqa: E402
from _helpers import job  # noqa: E402

from tinyscale.datasets import load_dataset  # noqa: E402
from tinyscale.engine.device import resolve_device  # noqa: E402
from tinyscale.engine.loop import run_to_completion  # noqa: E402
from tinyscale.engine.recipes import EngineSettings, Recipe  # noqa: E402
from tinyscale.io import write_json  # noqa: E402
from tinyscale.runs import parse_run_id, torch_threads  # noqa: E402

with job(snakemake):
    config = snakemake.config
    ids = snakemake.params.get("runs") or [snakemake.wildcards.run]
    runs = [parse_run_id(i) for i in ids]
    recipe, device = Recipe.from_dict(snakemake.params.recipe), resolve_device(config["device"], config["jobs_per_gpu"])
    threads, note = torch_threads(runs[0], runs[0].dataset or config["data"]["dataset"], recipe.batch_size,
                                  gpu=device.type == "cuda", given=snakemake.threads)
    if note:
        print(note, flush=True)
    torch.set_num_threads(threads)
    paths = lambda v: [v] if isinstance(v, str) else list(v)  # noqa: E731  (one path per run, or none)
    outputs = {k: paths(v) for k, v in snakemake.output.items()}
    results = run_to_completion(
        runs,
        load_dataset(snakemake.input.dataset),
        recipe,
        EngineSettings.from_config(config),
        device,
        checkpoint_paths=outputs["model"],
        log_paths=outputs["log_csv"],
        state_paths=[f"{snakemake.params.state_dir}/{i}.pt" for i in ids],
        curve_paths=outputs.get("curve"),
        prediction_paths=outputs["predictions"],
        init_paths=paths(snakemake.input.init),
        split_seed=snakemake.params.get("split_seed", 0),  # only runs on a subset or noisy labels use it
    )
    for run, result, record in zip(runs, results, outputs["record"]):
        write_json(record, {**run.as_dict(), **result.provenance})

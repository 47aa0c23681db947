"""Test-set softmax probabilities, labels and predicted classes of one trained run."""

import torch
from _helpers import job

from tinyscale.datasets import load_dataset
from tinyscale.engine.checkpoint import load_checkpoint
from tinyscale.engine.device import resolve_device
from tinyscale.engine.predict import predict_probs
from tinyscale.io import save_predictions

with job(snakemake):
    torch.set_num_threads(snakemake.threads)
    device = resolve_device(snakemake.config["device"], snakemake.config["jobs_per_gpu"])
    ds = load_dataset(snakemake.input.dataset)
    model, ckpt = load_checkpoint(snakemake.input.model, device)
    x = torch.as_tensor(ds.test_x, device=device)
    mean, std = (torch.tensor(ckpt["data"][k], dtype=torch.float32, device=device) for k in ("mean", "std"))
    probs = predict_probs(model, x, mean, std).cpu().numpy()
    save_predictions(snakemake.output.predictions, probs, ds.test_y)
    print(f"{snakemake.wildcards.run}: top-1 {(probs.argmax(1) == ds.test_y).mean():.4f}")

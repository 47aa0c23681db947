"""Test-set softmax probabilities, labels and predicted classes of one trained run."""

import torch

from tinyscale.data import load_dataset
from tinyscale.device import resolve_device
from tinyscale.io import log_to
from tinyscale.predict import predict_probs, save_predictions
from tinyscale.train import load_checkpoint

with log_to(snakemake.log[0]):
    torch.set_num_threads(snakemake.threads)
    device = resolve_device(*snakemake.params.device)
    ds = load_dataset(snakemake.input.dataset)
    model, ckpt = load_checkpoint(snakemake.input.model, device)
    x = torch.as_tensor(ds.test_x, device=device)
    mean, std = (torch.tensor(ckpt["data"][k], dtype=torch.float32, device=device) for k in ("mean", "std"))
    probs = predict_probs(model, x, mean, std).cpu().numpy()
    save_predictions(snakemake.output.predictions, probs, ds.test_y)
    print(f"{snakemake.wildcards.run}: top-1 {(probs.argmax(1) == ds.test_y).mean():.4f}")

"""Prepare the configured dataset once into a compact uint8 .npz (images, labels, class names)."""

from tinyscale.data import prepare, save_dataset
from tinyscale.io import log_to

with log_to(snakemake.log[0]):
    archive = snakemake.input[0] if len(snakemake.input) else None
    ds = prepare(snakemake.params.data, archive)
    print(f"{ds.name}: {len(ds.train_y)} train / {len(ds.test_y)} test images, {ds.num_classes} classes, "
          f"shape {ds.train_x.shape[1:]}, mean {ds.mean.round(4)}, std {ds.std.round(4)}")
    save_dataset(ds, snakemake.output.dataset)

"""Prepare the configured dataset once into a compact uint8 .npz (images, labels, class names)."""

from _helpers import job

from tinyscale.datasets import prepare, save_dataset

with job(snakemake):
    ds = prepare(snakemake.params.data, dict(zip(snakemake.params.names, snakemake.input.files)))
    print(f"{ds.name}: {len(ds.train_y)} train / {len(ds.test_y)} test images, {ds.num_classes} classes, "
          f"shape {ds.train_x.shape[1:]}, mean {ds.mean.round(4)}, std {ds.std.round(4)}")
    save_dataset(ds, snakemake.output.dataset)

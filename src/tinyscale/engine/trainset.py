"""A run's training set: the prepared dataset, cut to the run's nested subset and with the run's
fraction of training labels corrupted. The test set is never changed.

Both come from the data split's seed, not the run's: every model and seed of a sweep sees the
same subset and the same noisy labels, so differences between sizes are paired. Noise is drawn
on the whole training set and the subset is taken after it, so a label noisy in the 10,000-image
subset is noisy, to the same class, in the 50,000-image one.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..datasets import Dataset
from ..runs import Run


def training_set(ds: Dataset, run: Run, split_seed: int) -> tuple[Dataset, dict]:
    """(the run's view of `ds`, a record of it for run.json: images, noise, the labels changed);
    the record is empty, and `ds` returned as it is, for a run on the whole clean training set."""
    if not run.data_size and not run.noise:
        return ds, {}
    from ..datasets import corrupt_labels, nested_subset

    y = ds.train_y
    if run.noise:
        y = corrupt_labels(ds.train_y, run.noise, ds.num_classes, split_seed)
    changed = np.flatnonzero(y != ds.train_y)
    keep = np.arange(len(y))
    if run.data_size:
        keep = np.sort(nested_subset(ds.train_y, run.data_size, split_seed))
    view = dataclasses.replace(ds, train_x=ds.train_x[keep], train_y=y[keep])
    record = {"train_images": int(len(keep)), "label_noise": run.noise,
              # indices into the prepared training set
              "changed_labels": [int(i) for i in np.intersect1d(changed, keep)]}
    return view, record

"""Nested training subsets and symmetric label noise: exact counts, determinism, nesting, the
distribution of the new labels, and errors that name the numbers."""

import numpy as np
import pytest
from scipy import stats

from tinyscale.datasets import corrupt_labels, corrupted_indices, nested_subset

LABELS = np.repeat(np.arange(10), 100)[np.random.default_rng(5).permutation(1000)]


@pytest.mark.parametrize("fraction,changed", [(0.0, 0), (0.2, 200), (0.25, 250), (0.0005, 0), (0.0015, 2)])
def test_noise_changes_exactly_round_fraction_n_labels_each_to_another_class(fraction, changed):
    noisy = corrupt_labels(LABELS, fraction, 10, seed=3)
    diff = np.flatnonzero(noisy != LABELS)
    assert len(diff) == changed
    assert np.array_equal(diff, corrupted_indices(len(LABELS), fraction, 3))
    assert noisy.dtype == LABELS.dtype and noisy.min() >= 0 and noisy.max() < 10


def test_noise_is_deterministic_per_seed():
    a, b = corrupt_labels(LABELS, 0.3, 10, 7), corrupt_labels(LABELS, 0.3, 10, 7)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, corrupt_labels(LABELS, 0.3, 10, 8))


def test_new_labels_are_uniform_over_the_other_classes():
    labels = np.zeros(90_000, dtype=np.int64)
    noisy = corrupt_labels(labels, 0.5, 10, seed=0)
    counts = np.bincount(noisy[noisy != 0], minlength=10)[1:]
    assert counts.sum() == 45_000
    assert stats.chisquare(counts).pvalue > 0.001  # 9 other classes, equally likely


@pytest.mark.parametrize("fraction,classes,message", [
    (1.0, 10, r"fraction 1.0: allowed from 0 up to \(not including\) 1"),
    (-0.1, 10, "fraction -0.1"),
    (0.1, 1, "at least 2 classes, got 1"),
    (0.1, 5, r"labels must lie in 0..4, got 0..9"),
])
def test_bad_noise_is_refused(fraction, classes, message):
    with pytest.raises(ValueError, match=message):
        corrupt_labels(LABELS, fraction, classes, 0)


def test_subsets_are_nested_stratified_and_deterministic():
    small, large = nested_subset(LABELS, 100, 4), nested_subset(LABELS, 500, 4)
    assert len(set(small)) == 100 and set(small) <= set(large)
    assert np.array_equal(nested_subset(LABELS, 100, 4), small)
    assert not np.array_equal(nested_subset(LABELS, 100, 5), small)
    assert np.array_equal(np.bincount(LABELS[small], minlength=10), np.full(10, 10))  # every class, in proportion
    assert np.array_equal(np.sort(nested_subset(LABELS, 1000, 4)), np.arange(1000))


@pytest.mark.parametrize("size", [0, 1001])
def test_a_subset_larger_than_the_training_set_is_refused(size):
    with pytest.raises(ValueError, match=f"a training subset of {size} images: the training set has 1000"):
        nested_subset(LABELS, size, 0)

import numpy as np
import pytest

from tinyscale.analysis import metrics


def test_ece_hand_computed():
    # Four predictions, 2 bins of width 0.5, (lo, hi]:
    # bin (0.5, 1]: confidences 0.9 (correct), 0.7 (wrong), 0.6 (correct) → acc 2/3, conf 0.7333
    # bin (0, 0.5]: confidence 0.4 (wrong) → acc 0, conf 0.4
    probs = np.array([[0.9, 0.1, 0.0], [0.7, 0.3, 0.0], [0.2, 0.6, 0.2], [0.4, 0.3, 0.3]])
    labels = np.array([0, 1, 1, 2])
    expected = 3 / 4 * abs(2 / 3 - (0.9 + 0.7 + 0.6) / 3) + 1 / 4 * 0.4
    assert metrics.ece(probs, labels, n_bins=2) == pytest.approx(expected)
    bins = metrics.reliability_bins(probs, labels, n_bins=2)
    assert bins["count"].tolist() == [1, 3]


def test_ece_bin_edges_are_left_open():
    # confidence exactly 0.5 belongs to (0, 0.5], not (0.5, 1]
    probs = np.array([[0.5, 0.5]])
    bins = metrics.reliability_bins(probs, np.array([0]), n_bins=2)
    assert bins["count"].tolist() == [1, 0]


def test_topk_nll_confidence():
    probs = np.array([[0.5, 0.3, 0.2], [0.1, 0.2, 0.7]])
    labels = np.array([1, 2])
    assert metrics.topk_accuracy(probs, labels, 1) == 0.5
    assert metrics.topk_accuracy(probs, labels, 2) == 1.0
    assert metrics.nll(probs, labels) == pytest.approx(-(np.log(0.3) + np.log(0.7)) / 2)
    assert metrics.confidence_split(probs, labels) == pytest.approx((0.7, 0.5))
    assert metrics.confidence_split(probs, np.array([0, 2]))[1] is None


def test_per_class_accuracy():
    preds = np.array([0, 0, 1, 2, 2, 2])
    labels = np.array([0, 1, 1, 2, 2, 0])
    assert metrics.per_class_accuracy(preds, labels, 4)[:3].tolist() == [0.5, 0.5, 1.0]
    assert np.isnan(metrics.per_class_accuracy(preds, labels, 4)[3])


def test_gini_hand_computed():
    assert metrics.gini([1, 1, 1, 1]) == 0.0
    # x = (0, 0, 0, 1): (2·4·1 − 5·1) / (4·1) = 3/4
    assert metrics.gini([0, 1, 0, 0]) == pytest.approx(0.75)
    # x = (1, 2, 3): (2·(1+4+9) − 4·6) / (3·6) = 4/18
    assert metrics.gini([3, 1, 2]) == pytest.approx(4 / 18)
    with pytest.raises(ValueError):
        metrics.gini([0, 0])


def test_bottom_k_and_jaccard():
    assert metrics.bottom_k_mean([0.9, 0.1, 0.5, 0.3], 2) == pytest.approx(0.2)
    a = np.array([1, 1, 0, 0, 1], dtype=bool)
    b = np.array([0, 1, 1, 0, 1], dtype=bool)
    assert metrics.jaccard(a, b) == pytest.approx(2 / 4)
    assert metrics.jaccard(np.zeros(3, bool), np.zeros(3, bool)) == 1.0
    with pytest.raises(ValueError, match="shape"):
        metrics.jaccard(a, b[:3])

"""The task registry: what a dataset's examples are, how the engine feeds and scores them, and what
the paper calls them.

Image classification and keyword spotting are both classification of uint8 "images" (a picture,
or a clip's log-mel spectrogram as a 1×F×T map): normalised per channel, one label each,
cross-entropy, top-1 error. Language modelling predicts each next byte of a token window: uint8
tokens fed as integers, a target per position, cross-entropy over every position, and its
metric is bits per byte (perplexity = 2^bits). A dataset and a family each name their task;
config validation refuses a family on another task's dataset.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..registry import Registry


@dataclass(frozen=True)
class Task:
    name: str
    label: str  # as the paper names the task
    example: str  # one example, as the paper names it ("image", "clip", "token window")
    examples: str  # plural
    sequence: bool  # a target per position (tokens), not one label per example
    metric: str  # the per-run metric the studies compare, lower is better: "error" or "bits_per_byte"
    metric_label: str  # as the paper prints it
    augment: bool  # the image augmentations (crop, flip, cutout) make sense on its examples

    def metric_of(self, pred: dict) -> float:
        """The run's metric from its test-set prediction file (tinyscale.io.load_predictions)."""
        if self.metric == "error":
            return float((pred["preds"] != pred["labels"]).mean())
        import numpy as np

        # token files hold the probability of each target: bits per byte = mean −log2 p
        return float(-np.log2(np.clip(pred["probs"].astype(np.float64), 1e-30, None)).mean())


TASKS: Registry[Task] = Registry("task")


def register(task: Task) -> Task:
    return TASKS.add(task.name, task)


def get(name: str) -> Task:
    return TASKS.lookup(name)


def perplexity_of_bits(bits: float) -> float:
    """Perplexity per byte from bits per byte."""
    return math.pow(2.0, bits)


register(Task("image_classification", "image classification", "image", "images", sequence=False,
              metric="error", metric_label="top-1 error", augment=True))
register(Task("keyword_spotting", "keyword spotting", "clip", "clips", sequence=False,
              metric="error", metric_label="top-1 error", augment=False))
register(Task("language_modelling", "language modelling", "token window", "token windows", sequence=True,
              metric="bits_per_byte", metric_label="bits per byte", augment=False))

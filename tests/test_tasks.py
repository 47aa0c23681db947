"""The task registry and the engine on token windows: a language model trains on a target per
position, resumes bit-identically, packs its seeds, and writes each target's probability."""

import dataclasses

import numpy as np
import pytest
import torch
from test_train import CFG, SETTINGS, quiet, train_run, weights_checksum

from tinyscale import families, tasks
from tinyscale.datasets import Dataset
from tinyscale.engine.augment import AugmentConfig
from tinyscale.engine.loop import run_to_completion, train
from tinyscale.engine.signals import Interrupted
from tinyscale.io import load_predictions
from tinyscale.runs import Run


class Bigram(torch.nn.Module):
    """The smallest language model: each byte's embedding → logits for the next."""

    def __init__(self, width, num_classes, input_shape):
        super().__init__()
        self.embed, self.out = torch.nn.Embedding(num_classes, width), torch.nn.Linear(width, num_classes)

    def forward(self, x):
        return self.out(self.embed(x))


families.register(families.Family(
    name="bigram", label="Bigram", width_letter="d", width_type=int, colour="k", marker="x", build=Bigram,
    epoch_seconds=lambda d: 1.0, task="language_modelling", input="shape",
))


def token_dataset(text=b"abcabcabdabcabcabd" * 40, context=8):
    stream = np.frombuffer(text, dtype=np.uint8)
    n = (len(stream) - 1) // context
    x = np.stack([stream[i * context : i * context + context] for i in range(n)])
    y = np.stack([stream[i * context + 1 : i * context + context + 1] for i in range(n)])
    split = n * 3 // 4
    return Dataset(x[:split], y[:split], x[split:], y[split:], [str(b) for b in range(256)],
                   np.zeros(0), np.ones(0), "tokens")


LM = dataclasses.replace(CFG, epochs=4, batch_size=8, lr=0.5, schedule="constant",
                         augment=AugmentConfig(crop_padding=0, flip=False, cutout=0))


def test_three_tasks_are_registered_with_their_metrics():
    assert list(tasks.TASKS) == ["image_classification", "keyword_spotting", "language_modelling"]
    assert tasks.get("language_modelling").metric == "bits_per_byte" and tasks.get("language_modelling").sequence
    assert tasks.get("keyword_spotting").metric == "error" and not tasks.get("keyword_spotting").augment
    with pytest.raises(ValueError, match="unknown task 'vision'; registered: image_classification"):
        tasks.get("vision")


def test_bits_per_byte_of_a_token_file():
    pred = {"probs": np.array([[0.5, 0.25], [1.0, 0.125]]), "preds": np.zeros((2, 2)), "labels": np.zeros((2, 2))}
    assert tasks.get("language_modelling").metric_of(pred) == pytest.approx((1 + 2 + 0 + 3) / 4)
    assert tasks.perplexity_of_bits(3.0) == 8.0


def test_a_language_model_learns_next_bytes_and_writes_target_probabilities(tmp_path):
    ds, runs = token_dataset(), [Run("bigram", 16, "lm", 0)]
    paths = {k: [tmp_path / f"{k}.x"] for k in ("ckpt", "log", "state", "pred")}
    (result,) = run_to_completion(runs, ds, LM, SETTINGS, "cpu", paths["ckpt"], paths["log"], paths["state"],
                                  prediction_paths=paths["pred"])
    pred = load_predictions(paths["pred"][0])
    assert pred["probs"].shape == pred["labels"].shape == pred["preds"].shape == ds.test_y.shape
    bits = tasks.get("language_modelling").metric_of(pred)
    # the stream's next byte is decided by the current one except after 'b' (c or d): ≈ 1/3 bit per byte
    assert bits < 1.0, bits
    assert result.log[-1]["test_acc"] > 0.6


def test_token_runs_resume_and_pack_like_image_runs(tmp_path):
    ds, run = token_dataset(), Run("bigram", 16, "lm", 0)
    whole = train_run(run, ds, LM)
    state = tmp_path / "state.pt"
    with pytest.raises(Interrupted):
        train_run(run, ds, LM, state_path=state, stop_after_steps=5)
    assert weights_checksum(train_run(run, ds, LM, state_path=state).model) == weights_checksum(whole.model)
    packed = train([run, Run("bigram", 16, "lm", 1)], ds, LM, SETTINGS, progress=quiet)
    for name, value in packed[0].model.state_dict().items():
        torch.testing.assert_close(value, whole.model.state_dict()[name], rtol=1e-4, atol=1e-5)


def test_config_refuses_a_family_on_another_tasks_dataset():
    from tinyscale.config import ConfigError, validate_config

    config = {"name": "t", "data": {"dataset": "digits"}, "models": {"bigram": [4]}, "seeds": [0]}
    with pytest.raises(ConfigError, match=r"config key 'models.bigram' names Bigram, a family for language modelling, "
                                          r"but 'data.dataset' is 'digits', a dataset for image classification"):
        validate_config(config)


def test_perplexity_and_bits_on_hand_computed_cases():
    from tinyscale.analysis.metrics import bits_per_token, perplexity

    v = 256
    assert perplexity(np.zeros((3, 5, v)), np.zeros((3, 5), dtype=int)) == pytest.approx(v)  # uniform: V
    assert bits_per_token(np.zeros((2, v)), [0, 7]) == pytest.approx(8.0)
    # p(target) = 1/2 and 1/4: mean CE = (ln 2 + ln 4)/2 = 1.5 ln 2 → perplexity 2^1.5, 1.5 bits
    logits = np.log(np.array([[0.5, 0.25, 0.25], [0.25, 0.25, 0.5]])) + 3.0  # a shift changes nothing
    assert perplexity(logits, [0, 1]) == pytest.approx(2**1.5)
    assert bits_per_token(logits, [0, 1]) == pytest.approx(1.5)
    assert perplexity(np.array([[1000.0, 0.0]]), [0]) == pytest.approx(1.0)  # stable at large logits
    with pytest.raises(ValueError, match="need targets of shape"):
        perplexity(np.zeros((2, 3, 4)), [0, 1])

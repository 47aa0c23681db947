"""The two files a run writes: its resume state while training, its final checkpoint after.

One resume-state format for single and packed training: one file per run holding that run's
weights, SGD momentum by parameter name, dropout stream, position (epoch, step) and log, plus
the run and recipe it belongs to, so a resume can refuse a state from another configuration.
"""

from __future__ import annotations

from pathlib import Path

import torch

from ..families import build_model
from ..io import atomic_path


class StateMismatch(RuntimeError):
    """A resume state that belongs to another run or recipe."""


def save_state(path: str | Path, state: dict) -> None:
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def load_state(path: str | Path, device, run: dict, recipe: dict) -> dict:
    """A run's resume state, checked against the run and recipe that are about to continue it."""
    try:
        state = torch.load(path, map_location=device, weights_only=False)
    except Exception as exc:  # a truncated or foreign file: say which and how to start over
        raise StateMismatch(f"cannot read the resume state {path} ({exc}); delete it to train this run from the start") from exc
    differing = sorted(
        [f"run.{k}" for k in run if state.get("run", {}).get(k) != run[k]]
        + [f"recipe.{k}" for k in recipe if state.get("recipe", {}).get(k) != recipe[k]]
    )
    if differing:
        raise StateMismatch(
            f"the resume state {path} was saved under a different config ({', '.join(differing)} differ); "
            f"delete it to train this run from the start under the current config"
        )
    return state


def save_checkpoint(path: str | Path, model: torch.nn.Module, run: dict, recipe: dict, data: dict,
                    provenance: dict, log: list[dict]) -> None:
    """The run's declared output: final weights with everything needed to rebuild and describe it."""
    ckpt = {"model": model.state_dict(), "run": run, "recipe": recipe, "data": data, "provenance": provenance, "log": log}
    with atomic_path(path) as tmp:
        torch.save(ckpt, tmp)


def load_checkpoint(path: str | Path, device: str | torch.device = "cpu"):
    """Rebuild the model from a checkpoint; returns (model, checkpoint dict)."""
    try:
        ckpt = torch.load(path, map_location=device, weights_only=False)
        r, d = ckpt["run"], ckpt["data"]
    except Exception as exc:
        raise RuntimeError(
            f"{path} is not a readable checkpoint ({exc}); delete it and run the workflow again: "
            "the train rule rebuilds it"
        ) from exc
    model = build_model(r["arch"], r["width"], d["num_classes"], d["in_channels"]).to(device)
    recipe = ckpt.get("recipe") or {}
    if recipe.get("weight_bits", 32) < 32 or recipe.get("act_bits", 32) < 32:  # trained with LSQ quantisers
        from ..quant import quantize_model

        model = quantize_model(model, recipe["weight_bits"], recipe["act_bits"]).to(device)
    model.load_state_dict(ckpt["model"])
    return model, ckpt

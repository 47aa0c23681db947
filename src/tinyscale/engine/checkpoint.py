"""The two files a run writes: its resume state while training, its final checkpoint after.

One resume-state format for single and packed training: one file per run holding that run's
weights, SGD momentum by parameter name, dropout stream, position (epoch, step) and log, plus
the run and recipe it belongs to, so a resume can refuse a state from another configuration.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import torch

from ..families import build_model
from ..io import CorruptFile, atomic_path, reading


class StateMismatch(RuntimeError):
    """A resume state that belongs to another run or recipe."""


def save_state(path: str | Path, state: dict) -> None:
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def load_state(path: str | Path, device, run: dict, recipe: dict) -> dict:
    """A run's resume state, checked against the run and recipe that are about to continue it."""
    with reading(path, "resume state", fix="delete it to train this run from the start"):
        state = torch.load(path, map_location=device, weights_only=False)
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


def load_states(paths: list[Path], device, runs: list[dict], recipe: dict, warn: Callable[[str], None]) -> list[dict] | None:
    """The runs' resume states; None if one cannot be read (it is moved to `<file>.corrupt` with a
    warning, and the runs start over: a resume state holds nothing a fresh start does not redo)."""
    states, corrupt = [], []
    for path, run in zip(paths, runs):
        try:
            states.append(load_state(path, device, run, recipe))
        except CorruptFile as exc:
            corrupt.append(exc)
    for exc in corrupt:
        for path in exc.paths:
            aside = path.with_name(path.name + ".corrupt")
            os.replace(path, aside)
            warn(f"warning: {exc.problems[path]}: the resume state {path} is moved to {aside}; "
                 f"training {'these runs' if len(paths) > 1 else 'this run'} from the start")
    return None if corrupt else states


def save_checkpoint(path: str | Path, model: torch.nn.Module, run: dict, recipe: dict, data: dict,
                    provenance: dict, log: list[dict]) -> None:
    """The run's declared output: final weights with everything needed to rebuild and describe it."""
    ckpt = {"model": model.state_dict(), "run": run, "recipe": recipe, "data": data, "provenance": provenance, "log": log}
    with atomic_path(path) as tmp:
        torch.save(ckpt, tmp)


def load_checkpoint(path: str | Path, device: str | torch.device = "cpu"):
    """Rebuild the model from a checkpoint; returns (model, checkpoint dict)."""
    with reading(path, "checkpoint", fix="delete it and train the run again"):
        ckpt = torch.load(path, map_location=device, weights_only=False)
        r, d = ckpt["run"], ckpt["data"]
    model = build_model(r["arch"], r["width"], d["num_classes"], d["in_channels"], d.get("example_shape")).to(device)
    recipe = ckpt.get("recipe") or {}
    if recipe.get("weight_bits", 32) < 32 or recipe.get("act_bits", 32) < 32:  # trained with LSQ quantisers
        from ..quant import quantize_model

        model = quantize_model(model, recipe["weight_bits"], recipe["act_bits"]).to(device)
    model.load_state_dict(ckpt["model"])
    return model, ckpt

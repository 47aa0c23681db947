"""The two files a run writes: its resume state while training, its final checkpoint after.

One resume-state format for single and packed training: one file per run holding that run's
weights, SGD momentum by parameter name, dropout stream, position (epoch, step) and log, plus
the run and recipe it belongs to, so a resume can refuse a state from another configuration, and
digests of what it was trained on (the prepared dataset's content, the weights it started from),
so a state from other data or other start weights is set aside and the run starts over.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from ..families import build_model
from ..io import CorruptFile, atomic_path, reading


class StateMismatch(RuntimeError):
    """A resume state that belongs to another run or recipe."""


class StaleState(RuntimeError):
    """A resume state trained on other data or from other start weights than the run now has."""


def _digest(arrays) -> str:
    h = hashlib.blake2b(digest_size=16)
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype.str}{a.shape};".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def dataset_digest(ds) -> str:
    """The content of a prepared dataset: images, labels, class names and normalisation."""
    return _digest([ds.train_x, ds.train_y, ds.test_x, ds.test_y, np.asarray(ds.mean, dtype=np.float64),
                    np.asarray(ds.std, dtype=np.float64), np.asarray([str(c) for c in ds.classes])])


def weights_digest(state_dict: dict) -> str:
    """The content of a model's weights (a state dict), by name."""
    return _digest([np.frombuffer(name.encode(), dtype=np.uint8) for name in state_dict]
                   + [t.detach().cpu().reshape(-1).view(torch.uint8).numpy() if t.numel() else np.zeros(0, np.uint8)
                      for t in state_dict.values()])


DEPENDS = {"data": "data (the prepared dataset's content differs: a data: key or the dataset's files changed)",
           "init": "start weights (the init_from run's model.pt differs: it was trained again)"}


def save_state(path: str | Path, state: dict) -> None:
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def load_state(path: str | Path, device, run: dict, recipe: dict, depends: dict | None = None) -> dict:
    """A run's resume state, checked against the run and recipe that are about to continue it (a
    StateMismatch) and against the digests of what it depends on, `depends` (a StaleState)."""
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
    if depends is not None:
        saved = state.get("depends")
        if saved is None:
            raise StaleState(f"the resume state {path} records no digest of its data or start weights "
                             "(saved by an older tinyscale)")
        differing = [DEPENDS.get(k, k) for k in sorted(depends) if saved.get(k) != depends[k]]
        if differing:
            raise StaleState(f"the resume state {path} was trained on other {' and other '.join(differing)}")
    return state


def load_states(paths: list[Path], device, runs: list[dict], recipe: dict, warn: Callable[[str], None],
                depends: list[dict] | None = None) -> list[dict] | None:
    """The runs' resume states; None if one cannot be read (it is moved to `<file>.corrupt` with a
    warning, and the runs start over: a resume state holds nothing a fresh start does not redo) or
    was trained on other data or start weights than `depends` (one dict per run) say (moved to
    `<file>.stale`, with a warning naming what changed)."""
    states, corrupt, stale = [], [], []
    for k, (path, run) in enumerate(zip(paths, runs)):
        try:
            states.append(load_state(path, device, run, recipe, depends[k] if depends else None))
        except CorruptFile as exc:
            corrupt.append(exc)
        except StaleState as exc:
            stale.append((Path(path), exc))
    these = "these runs" if len(paths) > 1 else "this run"
    for path, exc in stale:
        aside = path.with_name(path.name + ".stale")
        os.replace(path, aside)
        warn(f"warning: {exc}: it is moved to {aside}; training {these} from the start")
    for exc in corrupt:
        for path in exc.paths:
            aside = path.with_name(path.name + ".corrupt")
            os.replace(path, aside)
            warn(f"warning: {exc.problems[path]}: the resume state {path} is moved to {aside}; "
                 f"training {these} from the start")
    return None if corrupt or stale else states


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

        model = quantize_model(model, recipe["weight_bits"], recipe["act_bits"], recipe.get("end_bits")).to(device)
    model.load_state_dict(ckpt["model"])
    return model, ckpt

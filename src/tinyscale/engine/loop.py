"""The one training loop: K ≥ 1 runs of one configuration (family, width, recipe), resumable.

K = 1 trains a plain module; K > 1 trains the seeds together as one vmapped model
(`packing.PackedModels`). Either way each run keeps its own initialisation, data order,
augmentation and dropout stream, writes its own resume state every `checkpoint_every` epochs
and when SIGTERM, SIGUSR1 or SIGINT arrives, and continues from it when started again. Fresh
start and resume are one code path: build, then load what is there.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

from .. import provenance
from ..datasets import Dataset
from ..families import count_params
from ..families import get as get_family
from ..runs import Run
from .augment import draw_epoch
from .checkpoint import dataset_digest, load_states, save_state, weights_digest
from .curves import CURVE_COLUMNS, curve_subset, error_and_loss, is_curve_step
from .heartbeat import Heartbeat, heartbeat_path
from .members import Packed, Single, batch
from .predict import eval_logits, predict_probs
from .recipes import EngineSettings, Recipe
from .signals import Interrupted, StopFlag
from .speed import set_backends
from .streams import epoch_generator


def eval_argmax(model, x, mean, std) -> list[torch.Tensor]:
    """Each position's most probable token, batch by batch."""
    return [logits.argmax(-1) for logits in eval_logits(model, x, mean, std)]


class Diverged(RuntimeError):
    """The training loss stopped being finite; no weights are written."""


def _divergence(runs: list[Run], epoch: int, n_steps: int, first: int, step_losses, last_finite: list) -> Diverged:
    """Where each diverged run's loss first stopped being finite, from this epoch's per-step losses
    (steps `first` … on, the ones this process took), with the last finite loss before it."""
    values = step_losses[first:].cpu()
    where = []
    for k, run in enumerate(runs):
        bad = (~torch.isfinite(values[:, k])).nonzero()
        if len(bad) == 0:
            continue
        i = int(bad[0])
        before = float(values[i - 1, k]) if i > 0 else last_finite[k]
        last = f"{before:.6g}" if before is not None else "none since this process started"
        where.append(f"{run.id}: loss {float(values[i, k])} at epoch {epoch + 1} step {first + i + 1} of {n_steps} "
                     f"(global step {epoch * n_steps + first + i + 1}); last finite loss {last}")
    return Diverged("the training loss is not finite: " + "; ".join(where)
                    + ". No weights were written; lower the learning rate")


def _check_weights(runs: list[Run], models: list[torch.nn.Module]) -> None:
    """The final weights and BatchNorm statistics are finite (a last step or a running variance
    can overflow where the loss did not)."""
    for run, model in zip(runs, models):
        tensors = [*model.named_parameters(), *model.named_buffers()]
        bad = [name for name, t in tensors if t.is_floating_point() and not bool(torch.isfinite(t).all())]
        if bad:
            raise Diverged(f"{run.id}: training ended with non-finite values in {', '.join(bad[:5])}"
                           f"{' …' if len(bad) > 5 else ''}. No weights were written; lower the learning rate")


def _check_outputs(runs: list[Run], model: torch.nn.Module, x, mean, std, num_classes: int) -> None:
    """The model gives one logit per class of the dataset (a family whose output has another size
    would train and be scored over classes the data does not have). An eval-mode forward pass of
    two examples after the first step: it changes no weight, statistic or random stream."""
    (logits,) = eval_logits(model, x[:2], mean, std)
    want = (len(x[:2]), *x.shape[1:2], num_classes) if x.dim() == 2 else (len(x[:2]), num_classes)  # token windows: N×T×V
    if tuple(logits.shape) != want:
        raise ValueError(f"{runs[0].family} (run {runs[0].id}) outputs logits of shape {tuple(logits.shape)} for inputs "
                         f"of shape {tuple(x[:2].shape)}; the dataset has {num_classes} classes, so it must output "
                         f"{want}: the family's build must end in num_classes outputs")


def to_device(ds: Dataset, device, dtype=torch.float32):
    """The dataset on the training device, once: uint8 images, labels, normalisation."""
    return (
        torch.as_tensor(ds.train_x, device=device), torch.as_tensor(ds.train_y, device=device),
        torch.as_tensor(ds.test_x, device=device), torch.as_tensor(ds.test_y, device=device),
        torch.as_tensor(ds.mean, dtype=dtype, device=device), torch.as_tensor(ds.std, dtype=dtype, device=device),
    )


def _format_eta(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _print_progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


@dataclass
class TrainResult:
    model: torch.nn.Module
    log: list[dict]
    provenance: dict
    resumed_from: dict | None = field(default=None)
    curve: list[dict] = field(default_factory=list)


def train(
    runs: list[Run],
    ds: Dataset,
    recipe: Recipe,
    settings: EngineSettings,
    device: str | torch.device = "cpu",
    state_paths: list[str | Path] | None = None,
    progress: Callable[[str], None] = _print_progress,
    stop_after_steps: int | None = None,
    dtype: torch.dtype = torch.float32,
    init_states: list[dict] | None = None,
) -> list[TrainResult]:
    """Train `runs` (one family, width and recipe; K ≥ 1 seeds) to completion, or resume them.

    `state_paths` (one per run) hold the resume states; `stop_after_steps` simulates an
    interruption; `init_states` (one state dict per run) are the weights a recipe with
    `init_from` starts from. Returns one result per run, in order.
    """
    if len({r.config_id for r in runs}) != 1:
        raise ValueError(f"runs trained together must share family, width, recipe and training set, "
                         f"got {[r.id for r in runs]}")
    device = torch.device(device)
    set_backends(recipe, device)
    paths = [Path(p) for p in state_paths] if state_paths else None
    K = len(runs)
    if recipe.init_from and (init_states is None or len(init_states) != K):
        raise ValueError(f"recipe {recipe.name} starts from the '{recipe.init_from}' runs' weights: pass init_states")
    train_x, train_y, test_x, test_y, mean, std = to_device(ds, device, dtype)
    n, (h, w) = len(train_x), (train_x.shape[-2:] if train_x.dim() == 4 else (1, 1))  # token windows: no image
    if K == 1:
        members = Single(runs, ds.num_classes, ds.example_shape, recipe, device, dtype, settings.compile_cache, init_states)
    else:  # quantised packed runs set their step sizes from the batch each model sees first
        first = [draw_epoch(n, h, w, recipe.augment, epoch_generator(r, 0, device)) for r in runs]
        batches = [batch(train_x, d, 0, recipe, (mean, std), dtype)[0] for d in first] if recipe.quantised else None
        members = Packed(runs, ds.num_classes, ds.example_shape, recipe, device, dtype, settings.compile_cache,
                         init_states, batches)
    label = runs[0].id if K == 1 else f"{runs[0].config_id} ×{K}"
    run_meta, recipe_meta = [r.as_dict() for r in runs], recipe.as_dict()

    epoch, step, logs, wall, loss_sums = 0, 0, [[] for _ in runs], 0.0, [0.0] * K
    curves = [[] for _ in runs]
    last_finite = [None] * K  # each run's last finite step loss before this epoch, for a divergence report
    resumed_from = None
    # what each state depends on beyond its run and recipe: a state from other data or weights is stale
    depends = None
    if paths:
        data = dataset_digest(ds)
        depends = [{"data": data, "init": weights_digest(init_states[k]) if init_states else None} for k in range(K)]
    states = (load_states(paths, device, run_meta, recipe_meta, progress, depends)
              if paths and all(p.exists() for p in paths) else None)
    if states:
        if len({(s["epoch"], s["step"]) for s in states}) != 1:
            raise RuntimeError(f"[{label}] the resume states {[str(p) for p in paths]} stopped at different steps; "
                               "delete them to train these runs from the start")
        for k, s in enumerate(states):
            members.set_state(k, s)
            members.dropout_gens[k].set_state(s["dropout_rng"].cpu())
        epoch, step, wall = states[0]["epoch"], states[0]["step"], states[0]["wall"]
        logs, loss_sums = [s["log"] for s in states], [s["loss_sum"] for s in states]
        curves = [s.get("curve", []) for s in states]
        resumed_from = {"epoch": epoch, "step": step}
        progress(f"[{label}] resuming from epoch {epoch} step {step} ({', '.join(map(str, paths))})")

    n_steps = recipe.steps_per_epoch(n)
    if n_steps == 0:
        raise ValueError(f"batch_size {recipe.batch_size} exceeds the {n} training images with drop_last")
    if recipe.curve:
        subset = curve_subset(n, recipe.train_subset, device)
        sub_x, sub_y = train_x[subset], train_y[subset]

    def log_curve_point() -> None:
        """Test and training-subset error and loss of every run at the current step."""
        global_step = epoch * n_steps + step
        for model, curve in zip(members.models(), curves):
            test_err, test_loss = error_and_loss(model, test_x, test_y, mean, std, recipe)
            train_err, train_loss = error_and_loss(model, sub_x, sub_y, mean, std, recipe)
            curve.append({"step": global_step, "epoch": global_step / n_steps, "test_error": test_err,
                          "test_loss": test_loss, "train_error": train_err, "train_loss": train_loss})

    def save_states(loss_acc) -> None:
        for k, (path, weights) in enumerate(zip(paths, members.get_states())):
            save_state(path, {
                **weights, "dropout_rng": members.dropout_gens[k].get_state(),
                "epoch": epoch, "step": step, "log": logs[k], "wall": wall, "loss_sum": float(loss_acc[k]),
                "run": run_meta[k], "recipe": recipe_meta, "curve": curves[k], "depends": depends[k],
            })
        heartbeat.saved_at(epoch, step)

    members.train_mode()
    if recipe.curve and epoch == 0 and step == 0 and not curves[0]:
        log_curve_point()  # step 0: the initial error
    steps_done = 0
    heartbeat = Heartbeat(paths, recipe.epochs, n_steps, K, saved=resumed_from)
    heartbeat.beat(epoch, step, sec_per_epoch=wall / len(logs[0]) if logs[0] else None, force=True)
    with StopFlag() as stop:
        while epoch < recipe.epochs:
            t0 = time.perf_counter()
            lr = recipe.lr_at(epoch)
            for group in members.opt.param_groups:
                group["lr"] = lr
            loss_acc = torch.tensor(loss_sums, dtype=torch.float64, device=device)
            # Every step's losses, kept on the device: a non-finite one is found at the epoch's end
            # (one sync per epoch, as before) and located to its step.
            step_losses, first_step = torch.zeros(n_steps, K, dtype=torch.float64, device=device), step
            draws = [draw_epoch(n, h, w, recipe.augment, epoch_generator(r, epoch, device)) for r in runs]
            while step < n_steps:
                loss = members.step(train_x, train_y, draws, step, recipe, (mean, std), dtype)  # no host sync
                loss_acc += loss
                step_losses[step] = loss
                step += 1
                steps_done += 1
                if steps_done == 1:
                    _check_outputs(runs, members.models()[0], test_x, mean, std, ds.num_classes)
                heartbeat.beat(epoch, step, time.perf_counter() - t0)
                if recipe.curve and step < n_steps and is_curve_step(epoch * n_steps + step):
                    log_curve_point()
                if stop.signum is not None or steps_done == stop_after_steps:
                    wall += time.perf_counter() - t0
                    if not bool(torch.isfinite(loss_acc).all()):  # a diverged state is not worth resuming
                        raise _divergence(runs, epoch, n_steps, first_step, step_losses[:step], last_finite)
                    if paths:
                        save_states(loss_acc.tolist())
                    why = f"signal {stop.signum}" if stop.signum is not None else "requested stop"
                    raise Interrupted(f"[{label}] stopped at epoch {epoch} step {step} ({why}); state saved to "
                                      f"{', '.join(map(str, paths or []))}")
            losses = loss_acc.tolist()
            if not all(map(math.isfinite, losses)):
                raise _divergence(runs, epoch, n_steps, first_step, step_losses, last_finite)
            last_finite = step_losses[-1].tolist()
            if recipe.curve:
                log_curve_point()  # every epoch end
            rows = [{"epoch": epoch + 1, "lr": lr, "train_loss": v / n_steps, "test_acc": None} for v in losses]
            if (epoch + 1) % settings.eval_every == 0 or epoch + 1 == recipe.epochs:
                for row, model in zip(rows, members.models()):
                    probs = predict_probs(model, test_x, mean, std)
                    row["test_acc"] = (probs.argmax(-1) == test_y).float().mean().item()
            epoch_time = time.perf_counter() - t0
            wall += epoch_time
            for row, log in zip(rows, logs):
                row["epoch_time_s"] = epoch_time / K  # the process's time, shared by its runs
                log.append(row)
            epoch, step, loss_sums = epoch + 1, 0, [0.0] * K
            eta = wall / len(logs[0]) * (recipe.epochs - epoch)
            accs = [r["test_acc"] for r in rows]
            acc = f" test_acc {' '.join(f'{a:.4f}' for a in accs)}" if accs[0] is not None else ""
            loss_text = " ".join(f"{v / n_steps:.4f}" for v in losses)
            progress(f"[{label}] epoch {epoch}/{recipe.epochs} loss {loss_text} lr {lr:.5f}{acc} "
                     f"{epoch_time:.2f}s/epoch ETA {_format_eta(eta)}")
            heartbeat.beat(epoch, 0, sec_per_epoch=wall / len(logs[0]), force=True)
            if paths and (epoch % settings.checkpoint_every == 0) and epoch < recipe.epochs:
                save_states(loss_sums)

    models = members.models()
    _check_weights(runs, models)
    prov = provenance.collect(device)
    results = []
    for model, log, curve in zip(models, logs, curves):
        p = dict(prov, wall_time_s=wall / K, epochs_done=epoch, num_params=count_params(model), resumed_from=resumed_from)
        if K > 1:
            p["packed_with"] = [r.id for r in runs]
        results.append(TrainResult(model, log, p, resumed_from, curve))
    return results


def write_log_csv(path: str | Path, log: list[dict]) -> None:
    import pandas as pd

    from ..io import write_csv

    write_csv(path, pd.DataFrame(log, columns=["epoch", "lr", "train_loss", "test_acc", "epoch_time_s"]))


def run_to_completion(
    runs: list[Run], ds: Dataset, recipe: Recipe, settings: EngineSettings, device,
    checkpoint_paths: list, log_paths: list, state_paths: list, curve_paths: list | None = None,
    init_paths: list | None = None, prediction_paths: list | None = None, split_seed: int = 0,
) -> list[TrainResult]:
    """Train (or resume) `runs`, write each checkpoint, log, test-set predictions (and curve), then
    drop the resume states unless kept. `init_paths` are the checkpoints a recipe with
    `init_from` starts from; `split_seed` (the config's data.split_seed) fixes the runs' training
    subset and noisy labels (tinyscale.engine.trainset)."""
    import pandas as pd

    from ..io import save_predictions, save_token_predictions, write_csv
    from .checkpoint import load_checkpoint, save_checkpoint
    from .trainset import training_set

    init_states = [load_checkpoint(p, device)[1]["model"] for p in init_paths] if init_paths else None
    train_ds, train_record = training_set(ds, runs[0], split_seed)
    results = train(runs, train_ds, recipe, settings, device, state_paths, init_states=init_states)
    if train_record:
        for result in results:
            result.provenance["training_set"] = train_record
    data = {"name": ds.name, "num_classes": ds.num_classes, "in_channels": ds.in_channels,
            "mean": [float(v) for v in ds.mean], "std": [float(v) for v in ds.std]}
    if get_family(runs[0].family).input == "shape":  # (the image CNNs' checkpoints stay as they were)
        data["example_shape"] = list(ds.example_shape)
    for run, result, ckpt, log in zip(runs, results, checkpoint_paths, log_paths):
        save_checkpoint(ckpt, result.model, run.as_dict(), recipe.as_dict(), data, result.provenance, result.log)
        write_log_csv(log, result.log)
    for result, path in zip(results, curve_paths or []):
        write_csv(path, pd.DataFrame(result.curve, columns=CURVE_COLUMNS))
    if prediction_paths:
        test_x = torch.as_tensor(ds.test_x, device=device)
        mean, std = (torch.tensor(data[k], dtype=torch.float32, device=device) for k in ("mean", "std"))
        for run, result, path in zip(runs, results, prediction_paths):
            if test_x.dim() == 2:  # token windows: each target's probability, not N×T×V of them
                from .predict import target_probs

                test_y = torch.as_tensor(ds.test_y, device=device)
                probs = target_probs(result.model, test_x, test_y, mean, std)
                preds = torch.cat(eval_argmax(result.model, test_x, mean, std))
                save_token_predictions(path, probs.cpu().numpy(), preds.cpu().numpy(), ds.test_y)
                bits = float(-torch.log2(probs.double().clamp_min(1e-30)).mean())
                print(f"{run.id}: {bits:.4f} bits per byte", file=sys.stderr)
                continue
            probs = predict_probs(result.model, test_x, mean, std).cpu().numpy()
            save_predictions(path, probs, ds.test_y)
            print(f"{run.id}: top-1 {(probs.argmax(1) == ds.test_y).mean():.4f}", file=sys.stderr)
    for path in state_paths:
        heartbeat_path(path).unlink(missing_ok=True)  # done: nothing of these runs is running
        if not settings.keep_resume_state:
            Path(path).unlink(missing_ok=True)
    return results

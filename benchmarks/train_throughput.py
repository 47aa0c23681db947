"""Training throughput: the original recipe against tinyscale's engine, side by side in one run.

  python benchmarks/train_throughput.py --device {cpu,cuda} --steps N --json PATH

(a) original: a torchvision-style dataset of PIL images, DataLoader(num_workers=2, pin_memory),
    per-image RandomCrop(32, 4) → flip → ToTensor → Normalize → Cutout(8), fp32, one model;
(b) engine-single: tinyscale's data path (uint8 data on the device, batched augmentation), one model;
(c) engine-packed: the same data path with the 5 seeds of a configuration as one vmapped model.
Same model, batch size (128) and number of steps for each; synthetic images in CIFAR-100's shape
and format stand in for the data. Prints and writes images/s (median of repeats), the ratios, and
the projected device-hours of the 90-run protocol per variant (throughput of unmeasured widths
interpolated log-log in the parameter count within each family).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from tinyscale import families  # noqa: E402
from tinyscale.config import defaults  # noqa: E402
from tinyscale.engine.augment import draw_epoch  # noqa: E402
from tinyscale.engine.members import Packed, Single  # noqa: E402
from tinyscale.engine.recipes import cosine_recipe  # noqa: E402
from tinyscale.engine.streams import epoch_generator  # noqa: E402
from tinyscale.families import build_model, count_params  # noqa: E402
from tinyscale.runs import Run  # noqa: E402

MEAN, STD = (0.5071, 0.4867, 0.4408), (0.2675, 0.2565, 0.2761)
PROTOCOL = {"scalecnn": [4, 8, 12, 16, 24, 32, 48, 64],
            "mobilenetv2": [0.10, 0.15, 0.25, 0.35, 0.50, 0.75, 1.00, 1.50, 2.00, 3.00]}
DEFAULT_MODELS = ["scalecnn:4", "scalecnn:64", "mobilenetv2:0.5", "mobilenetv2:3.0"]
IMAGES_PER_RUN = 200 * 390 * 128  # epochs × steps per epoch × batch
SEEDS = 5


class Cutout:
    """The original's per-image cutout: one square zeroed around a uniform centre, clipped."""

    def __init__(self, size: int = 8):
        self.size = size

    def __call__(self, img: torch.Tensor) -> torch.Tensor:
        h, w = img.shape[1:]
        y, x = np.random.randint(h), np.random.randint(w)
        y1, y2 = max(0, y - self.size // 2), min(h, y + self.size // 2)
        x1, x2 = max(0, x - self.size // 2), min(w, x + self.size // 2)
        img = img.clone()
        img[:, y1:y2, x1:x2] = 0.0
        return img


class SyntheticCIFAR(torch.utils.data.Dataset):
    """CIFAR-100-shaped uint8 HWC images with labels, served as PIL images like torchvision's."""

    def __init__(self, n: int, transform):
        rng = np.random.default_rng(0)
        self.data = rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)
        self.targets = rng.integers(0, 100, n).tolist()
        self.transform = transform

    def __len__(self):
        return len(self.data)

    def __getitem__(self, i):
        from PIL import Image

        return self.transform(Image.fromarray(self.data[i])), self.targets[i]


def _time_steps(step, steps: int, repeats: int, device) -> list[float]:
    """Seconds per `steps` steps, per repeat, after one warm-up step; synchronised on CUDA."""
    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize()

    step()
    sync()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(steps):
            step()
        sync()
        times.append(time.perf_counter() - t0)
    return times


def bench_original(arch, width, device, steps, repeats, batch=128, images=8192):
    import torchvision.transforms as T

    transform = T.Compose([T.RandomCrop(32, padding=4), T.RandomHorizontalFlip(), T.ToTensor(),
                           T.Normalize(MEAN, STD), Cutout(8)])
    loader = torch.utils.data.DataLoader(
        SyntheticCIFAR(images, transform), batch_size=batch, shuffle=True, drop_last=True,
        num_workers=2, pin_memory=device.type == "cuda", persistent_workers=True,
    )
    torch.manual_seed(0)
    model = build_model(arch, width, 100).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    batches = iter(loader)

    def step():
        nonlocal batches
        try:
            x, y = next(batches)
        except StopIteration:
            batches = iter(loader)
            x, y = next(batches)
        x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    times = _time_steps(step, steps, repeats, device)
    return [steps * batch / t for t in times]


def paper_recipe(batch: int):
    """The paper's recipe (the config schema's defaults: SGD 0.1, crop 4, flip, cutout 8) at `batch`.

    The speed switches are the schema's defaults, all off (fp32, deterministic cuDNN), as the
    engine step was benchmarked before the port (a plain module, no channels-last, bf16 or compile).
    """
    recipe = cosine_recipe({"train": defaults("train"), "augment": defaults("augment")})
    return dataclasses.replace(recipe, batch_size=batch)


def bench_engine(arch, width, device, steps, repeats, seeds, batch=128, images=8192):
    recipe = paper_recipe(batch)
    dtype = torch.float32
    rng = np.random.default_rng(0)
    train_x = torch.as_tensor(rng.integers(0, 256, (images, 3, 32, 32), dtype=np.uint8), device=device)
    train_y = torch.as_tensor(rng.integers(0, 100, images), device=device)
    mean, std = torch.tensor(MEAN, device=device), torch.tensor(STD, device=device)
    runs = [Run(arch, width, recipe.name, s) for s in range(seeds)]
    draws = [draw_epoch(images, 32, 32, recipe.augment, epoch_generator(r, 0, device)) for r in runs]
    n_steps = recipe.steps_per_epoch(images)
    counter = {"step": 0}
    # The engine's step, as engine.loop.train runs it: one plain module for one run, vmapped for K > 1.
    members = (Single if seeds == 1 else Packed)(runs, 100, 3, recipe, device, dtype)
    members.train_mode()

    def step():
        members.step(train_x, train_y, draws, counter["step"] % n_steps, recipe, (mean, std), dtype)
        counter["step"] += 1

    times = _time_steps(step, steps, repeats, device)
    return [seeds * steps * batch / t for t in times]


def project_hours(measured: dict[tuple[str, float], float]) -> float | None:
    """Device-hours of the 90-run protocol from images/s per measured configuration.

    Within a family, throughput follows a least-squares line in log(images/s) vs log(params)
    through the measured widths (the line through both when two are measured). None when a
    family was not measured at all.
    """
    hours = 0.0
    for arch, widths in PROTOCOL.items():
        pts = [(count_params(build_model(a, w, 100)), ips) for (a, w), ips in measured.items() if a == arch]
        if not pts:
            return None
        x, y = np.log([p[0] for p in pts]), np.log([p[1] for p in pts])
        line = np.polyfit(x, y, 1) if len(pts) > 1 else np.array([0.0, y[0]])
        for width in widths:
            ips = float(np.exp(np.polyval(line, np.log(count_params(build_model(arch, width, 100))))))
            hours += SEEDS * IMAGES_PER_RUN / ips / 3600
    return hours


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--steps", type=int, default=20, help="timed steps per repeat")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--models", nargs="+", default=DEFAULT_MODELS, help="arch:width, e.g. scalecnn:4")
    ap.add_argument("--json", type=Path, help="write the results here")
    args = ap.parse_args(argv)
    device = torch.device(args.device)

    rows, measured = [], {"original": {}, "engine-single": {}, "engine-packed": {}}
    for spec in args.models:
        arch, width = spec.split(":")
        width = families.get(arch).cast_width(width)
        variants = {
            "original": bench_original(arch, width, device, args.steps, args.repeats),
            "engine-single": bench_engine(arch, width, device, args.steps, args.repeats, seeds=1),
            "engine-packed": bench_engine(arch, width, device, args.steps, args.repeats, seeds=SEEDS),
        }
        row = {"arch": arch, "width": width, "params": count_params(build_model(arch, width, 100))}
        for name, ips in variants.items():
            row[f"{name}_images_per_s"] = statistics.median(ips)
            row[f"{name}_all"] = ips
            measured[name][(arch, width)] = row[f"{name}_images_per_s"]
        row["ratio_single"] = row["engine-single_images_per_s"] / row["original_images_per_s"]
        row["ratio_packed"] = row["engine-packed_images_per_s"] / row["original_images_per_s"]
        rows.append(row)
        print(f"{arch:12s} {width:<5g} original {row['original_images_per_s']:9.1f} img/s | "
              f"engine single {row['engine-single_images_per_s']:9.1f} ({row['ratio_single']:.2f}x) | "
              f"packed ×{SEEDS} {row['engine-packed_images_per_s']:9.1f} ({row['ratio_packed']:.2f}x)", flush=True)

    projection = {name: project_hours(m) for name, m in measured.items()}
    print("projected device-hours for the 90-run protocol: " + ", ".join(
        f"{k} {v:,.1f} h" if v is not None else f"{k} n/a (measure both families)" for k, v in projection.items()))
    result = {
        "device": torch.cuda.get_device_name() if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads",
        "torch": torch.__version__, "steps": args.steps, "repeats": args.repeats, "batch": 128,
        "seeds_packed": SEEDS, "models": rows, "projected_protocol_hours": projection,
        "command": " ".join(["python", "benchmarks/train_throughput.py", *(argv or sys.argv[1:])]),
    }
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()

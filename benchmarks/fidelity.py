"""Fidelity: does a speed switch change what is learned? Accuracies on the quick dataset.

  python benchmarks/fidelity.py --device {cpu,cuda} [--json PATH]

Trains the quick config's schedule (config/quick.yaml) for each variant — the plain engine,
each speed switch alone (bf16 autocast, channels-last; on CUDA also torch.compile, cuDNN
autotuning and TF32) and packed seeds — over
the same seeds, and prints mean ± std of test accuracy per variant with the difference to the
plain engine in units of its seed std. On the CPU, torch.compile is skipped unless --compile.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from tinyscale import families  # noqa: E402
from tinyscale.config import load_config  # noqa: E402
from tinyscale.datasets import prepare  # noqa: E402
from tinyscale.engine.loop import train  # noqa: E402
from tinyscale.engine.recipes import EngineSettings, cosine_recipe  # noqa: E402
from tinyscale.runs import Run  # noqa: E402

OFF = dict(channels_last=False, bf16=False, compile=False, cudnn_benchmark=False, tf32=False)


def accuracy(result) -> float:
    return result.log[-1]["test_acc"]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--models", nargs="+", default=["scalecnn:4", "mobilenetv2:0.25"])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--compile", action="store_true", help="include torch.compile on the CPU too")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    if len(args.seeds) < 2:  # the engine packs only K > 1 runs; one seed would train "packed" as a plain module
        ap.error("--seeds: give at least two seeds (packing needs K > 1 runs, and the seed std two values)")
    device = torch.device(args.device)
    cfg = load_config(ROOT / "config" / "quick.yaml")
    ds = prepare(cfg["data"])  # digits: bundled with scikit-learn, no files
    base = dataclasses.replace(cosine_recipe(cfg), **OFF)
    settings = EngineSettings.from_config(cfg)
    quiet = lambda line: None  # noqa: E731

    variants = {"plain": base, "bf16": dataclasses.replace(base, bf16=True),
                "channels_last": dataclasses.replace(base, channels_last=True)}
    if device.type == "cuda" or args.compile:
        variants["compile"] = dataclasses.replace(base, compile=True)
    if device.type == "cuda":  # no effect on the CPU
        variants["cudnn_benchmark"] = dataclasses.replace(base, cudnn_benchmark=True)
        variants["tf32"] = dataclasses.replace(base, tf32=True)
    rows = []
    for spec in args.models:
        arch, width = spec.split(":")
        width = families.get(arch).cast_width(width)
        runs = [Run(arch, width, base.name, s) for s in args.seeds]
        # One run per call trains a plain module; all seeds in one call train packed (vmapped).
        accs = {name: [accuracy(train([r], ds, recipe, settings, device, progress=quiet)[0]) for r in runs]
                for name, recipe in variants.items()}
        accs["packed"] = [accuracy(r) for r in train(runs, ds, base, settings, device, progress=quiet)]
        plain_std = statistics.pstdev(accs["plain"]) or float("nan")
        for name, a in accs.items():
            diff = statistics.mean(a) - statistics.mean(accs["plain"])
            rows.append({"arch": arch, "width": width, "variant": name, "accs": a, "mean": statistics.mean(a),
                         "std": statistics.pstdev(a), "diff": diff, "diff_in_plain_std": diff / plain_std})
            print(f"{arch:12s} {width:<5g} {name:14s} acc {100 * statistics.mean(a):6.2f} ± {100 * statistics.pstdev(a):5.2f} "
                  f"(Δ {100 * diff:+6.2f} points, {diff / plain_std:+.2f} seed std)", flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"device": str(device), "seeds": args.seeds, "rows": rows,
                                         "command": " ".join(["python", "benchmarks/fidelity.py", *(argv or sys.argv[1:])])},
                                        indent=2) + "\n")


if __name__ == "__main__":
    main()

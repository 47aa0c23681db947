"""How the cost of planning the workflow (a Snakemake dry run) grows with the number of runs.

  python benchmarks/dag_scaling.py --runs 100 1000 10000 --repeats 3 --json PATH

For each N it writes a config with N runs (ScaleCNN widths 1..N/seeds × a fixed number of
seeds, on the bundled digits, device cpu, so nothing needs CIFAR-100 or a GPU), copies the
workflow's files into an empty temporary folder (no results: every job is planned), and times

  snakemake --dry-run --quiet rules --cores 1 --configfile dag-bench.yaml [extra args]

as a subprocess, start to exit (Python start-up and Snakemake's import included: about 1.5 s).
Prints, per N: the median wall time of the repeats, seconds per 1,000 runs, the growth exponent
against the previous N, log(t2/t1) / log(n2/n1) (1 is linear, 2 quadratic; below 1 at small N,
where the start-up dominates), and the same for the CPU time (user + system) of the snakemake
process, which other processes on a shared machine disturb less than the wall time. A dry run
that passes --timeout is killed and counted as the cap (the table marks it with '>').
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
# What a dry run reads: the Snakefile and rules, the library (imported by the Snakefile), the
# paper's templates and bibliography (in the library), the reference data, the profile and env files.
PROJECT_ITEMS = ("Snakefile", "workflow", "src", "config", "data", "profiles", "envs")
CONFIG_NAME = "dag-bench.yaml"


def sweep_config(n_runs: int, seeds: int) -> dict:
    """A config of (at least) `n_runs` runs: ScaleCNN widths 1..ceil(n_runs/seeds) × `seeds` seeds."""
    widths = math.ceil(n_runs / seeds)
    return {
        "name": "dagbench",
        "device": "cpu",
        "data": {"dataset": "digits"},
        "models": {"scalecnn": list(range(1, widths + 1))},
        "seeds": list(range(seeds)),
        "augment": {"crop_padding": 1, "flip": False, "cutout": 2},  # 8×8 images
        "analysis": {"bottom_k": [3, 5]},  # of 10 classes
    }


def copy_project(dest: Path) -> Path:
    """The workflow's files (no results/, no .snakemake/) copied into `dest`."""
    for item in PROJECT_ITEMS:
        src = ROOT / item
        if src.is_dir():
            shutil.copytree(src, dest / item, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy(src, dest / item)
    return dest


def dry_run_command(extra: list[str]) -> list[str]:
    return ["snakemake", "--dry-run", "--quiet", "rules", "--cores", "1", *extra, "--configfile", CONFIG_NAME]


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_dry_run(project: Path, extra: list[str], timeout: float) -> dict:
    """One dry run: wall and CPU seconds, whether it hit the timeout, and the jobs it planned.

    CPU seconds (user + system of the finished snakemake process) are the steadier number on a
    shared machine: other processes stretch the wall time, much less the CPU time.
    """
    cmd = dry_run_command(extra)
    cpu_before, start = children_cpu_seconds(), time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=project, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:  # the killed process's CPU time is not reported
        return {"seconds": timeout, "cpu_seconds": None, "timed_out": True, "jobs": None}
    seconds, cpu_seconds = time.perf_counter() - start, children_cpu_seconds() - cpu_before
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed in {project}:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    return {"seconds": seconds, "cpu_seconds": cpu_seconds, "timed_out": False,
            "jobs": planned_jobs(proc.stdout + proc.stderr)}


def planned_jobs(output: str) -> int | None:
    """The 'total' line of the job-stats table that `--quiet rules` prints."""
    for line in output.splitlines():
        words = line.split()
        if len(words) == 2 and words[0] == "total" and words[1].isdigit():
            return int(words[1])
    return None


def measure(n_runs: int, seeds: int, repeats: int, extra: list[str], timeout: float) -> dict:
    """Median wall and CPU time of `repeats` dry runs on a fresh copy of the project with `n_runs` runs."""
    config = sweep_config(n_runs, seeds)
    actual_runs = len(config["models"]["scalecnn"]) * len(config["seeds"])
    with tempfile.TemporaryDirectory(prefix="dag-bench-") as tmp:
        project = copy_project(Path(tmp))
        (project / CONFIG_NAME).write_text(yaml.safe_dump(config))
        trials = []
        for _ in range(repeats):
            trials.append(time_dry_run(project, extra, timeout))
            if trials[-1]["timed_out"]:  # a second try would only hit the cap again
                break
    seconds = [t["seconds"] for t in trials]
    cpu_seconds = [t["cpu_seconds"] for t in trials if t["cpu_seconds"] is not None]
    return {
        "runs": actual_runs,
        "jobs": trials[-1]["jobs"],
        "median_s": statistics.median(seconds),
        "median_cpu_s": statistics.median(cpu_seconds) if cpu_seconds else None,
        "timed_out": any(t["timed_out"] for t in trials),
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
    }


def growth_exponent(n1: int, t1: float | None, n2: int, t2: float | None) -> float | None:
    """log(t2/t1) / log(n2/n1): 1 when the time grows linearly with the runs, 2 quadratically."""
    if t1 is None or t2 is None or n1 == n2:
        return None
    return math.log(t2 / t1) / math.log(n2 / n1)


def add_growth(results: list[dict]) -> list[dict]:
    """Each result gains seconds per 1,000 runs and the growth exponents against the previous size."""
    for i, cur in enumerate(results):
        cur["s_per_1000_runs"] = 1000 * cur["median_s"] / cur["runs"]
        cur["exponent"] = cur["cpu_exponent"] = None
        prev = results[i - 1] if i > 0 else None
        if prev is not None and not prev["timed_out"]:  # after a capped size, no bound is known
            cur["exponent"] = growth_exponent(prev["runs"], prev["median_s"], cur["runs"], cur["median_s"])
            cur["cpu_exponent"] = growth_exponent(prev["runs"], prev["median_cpu_s"], cur["runs"], cur["median_cpu_s"])
    return results


def format_table(results: list[dict]) -> str:
    """Wall time columns first; a timed-out size shows its cap with '>' and no CPU time."""

    def num(value, prefix=""):
        return "" if value is None else f"{prefix}{value:.2f}"

    lines = [f"{'runs':>7} {'jobs':>7} {'median s':>10} {'s / 1,000 runs':>15} {'exponent':>9}"
             f" {'CPU s':>8} {'CPU exponent':>13}"]
    for r in results:
        cap = ">" if r["timed_out"] else ""
        jobs = "" if r["jobs"] is None else r["jobs"]
        lines.append(
            f"{r['runs']:>7} {jobs:>7} {num(r['median_s'], cap):>10} {num(r['s_per_1000_runs'], cap):>15}"
            f" {num(r['exponent'], cap):>9} {num(r['median_cpu_s']):>8} {num(r['cpu_exponent']):>13}"
        )
    return "\n".join(lines)


def snakemake_version() -> str:
    proc = subprocess.run(["snakemake", "--version"], capture_output=True, text=True)
    return proc.stdout.strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, nargs="+", default=[100, 1000, 10000], help="sweep sizes")
    parser.add_argument("--seeds", type=int, default=5, help="seeds per width (widths = runs / seeds)")
    parser.add_argument("--repeats", type=int, default=3, help="dry runs per size; the median counts")
    parser.add_argument("--timeout", type=float, default=300, help="seconds before a dry run is killed")
    parser.add_argument("--json", type=Path, help="also write every measurement here")
    parser.add_argument(
        "--snakemake-arg", action="append", default=[], metavar="ARG",
        help="extra argument for snakemake, repeatable (e.g. --snakemake-arg=--rerun-triggers --snakemake-arg=mtime)",
    )
    args = parser.parse_args(argv)

    measured = []
    for n in sorted(args.runs):
        print(f"dry runs of {n} runs ...", file=sys.stderr, flush=True)
        measured.append(measure(n, args.seeds, args.repeats, args.snakemake_arg, args.timeout))
    results = add_growth(measured)
    version = snakemake_version()
    print(f"snakemake {version}: {' '.join(dry_run_command(args.snakemake_arg))} (median of {args.repeats})")
    print(format_table(results))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({
            "snakemake": version,
            "python": sys.version.split()[0],
            "command": dry_run_command(args.snakemake_arg),
            "seeds": args.seeds,
            "repeats": args.repeats,
            "timeout_s": args.timeout,
            "results": results,
        }, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

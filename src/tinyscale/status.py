"""Where a sweep stands, read from the files its runs write, never from the scheduler: the same on
a local build and on a SLURM build whose results folder is on a shared file system.

A build writes `results/<name>/plan.json` when it starts (`write_plan`): every run its config asks
for, with its configuration, epochs and the paths of its record, resume state and job log. Then
each run is

  done         its record (run.json, the training job's last write) exists;
  running      its job's heartbeat (`engine.heartbeat`) or log was written within `stale` seconds
               (and, when the job runs on this host, its process is alive);
  failed       its job's log ends in an error other than an interruption (the error's line is kept);
  interrupted  it stopped without an error of its own (a signal, a time limit, a lost node): the next
               build resumes it from its resume state, or starts it again where none was saved;
  pending      none of its files exist.

A configuration is family × width × recipe; its seeds are its runs.
"""

from __future__ import annotations

import os
import re
import socket
import statistics
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import families
from .engine.heartbeat import heartbeat_path
from .io import CorruptFile, read_json, write_json

PLAN = "plan.json"
STATES = ("done", "running", "interrupted", "failed", "pending")
STALE_S = 600.0
ERROR_TAIL_BYTES = 65536  # a traceback's end fits; a long log is not read whole


def plan_entry(run, epochs: int, root: str, record: str, state: str, log: str) -> dict:
    """One run of the plan; paths are stored relative to the results folder `root`, so the folder
    can be read from elsewhere (another mount point of a shared file system). The family's cost
    model (seconds per epoch) is stored too: status then needs no family registry or plugin."""
    prefix = root.rstrip("/") + "/"  # cutting it off is 4× faster than relpath over 10,000 runs
    rel = lambda p: p[len(prefix):] if p.startswith(prefix) else os.path.relpath(p, root)  # noqa: E731
    return {"run": run.id, "configuration": run.config_id, "family": run.family, "width": run.width,
            "recipe": run.recipe, "seed": run.seed, "epochs": epochs,
            "cost": families.get(run.family).epoch_seconds(run.width),
            "record": rel(record), "state": rel(state), "log": rel(log)}


def write_plan(root: str | Path, name: str, entries: list[dict]) -> None:
    write_json(Path(root) / PLAN, {"name": name, "written": time.time(), "runs": entries})


def plan_is_whole(root: str | Path) -> bool:
    """Whether `root` holds a readable plan (a truncated or garbled one is written again)."""
    plan = _read(Path(root) / PLAN)
    return isinstance(plan, dict) and isinstance(plan.get("runs"), list)


@dataclass
class RunStatus:
    run: str
    seed: int
    state: str
    epochs: int
    log: str
    epoch: int | None = None  # finished epochs (running: from the heartbeat)
    step: int | None = None  # steps into the next epoch
    steps_per_epoch: int | None = None
    sec_per_epoch: float | None = None  # this run's share of its job's time per epoch
    remaining_epochs: float = 0.0
    state_saved: bool = False  # interrupted or failed: a resume state exists (else it starts again)
    state_refused: bool = False  # that state was refused: saved under another config (its log says which keys)
    resume_from: dict | None = None  # where that state stopped, {epoch, step}, where the heartbeat says
    error: str | None = None  # failed or interrupted: the log's last error line
    last_write_s: float | None = None  # seconds since the job last wrote its heartbeat or log
    eta_s: float | None = None


@dataclass
class ConfigStatus:
    configuration: str
    family: str
    width: float
    recipe: str
    counts: dict
    sec_per_epoch: float | None  # per run: measured, or estimated from the family's cost model
    measured: bool
    eta_s: float | None  # its remaining epochs, run one after another
    runs: list[RunStatus] = field(default_factory=list)


def last_error(log: Path) -> str | None:
    """The exception line of the last traceback in a job's log, or None."""
    try:
        with open(log, "rb") as fh:
            fh.seek(max(0, fh.seek(0, os.SEEK_END) - ERROR_TAIL_BYTES))
            text = fh.read().decode(errors="replace")
    except FileNotFoundError:
        return None
    head = text.rfind("Traceback (most recent call last):")
    if head < 0:
        return None
    # frames and source lines are indented; the first unindented line is the exception's
    lines = text[head:].splitlines()[1:]
    return next((line.strip() for line in lines if line.strip() and not line[0].isspace()), "unreadable traceback")


def _alive(beat: dict) -> bool:
    """False only when the job ran on this host and its process is gone."""
    if beat.get("host") != socket.gethostname():
        return True
    try:
        os.kill(beat["pid"], 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def _read(path: Path) -> dict | None:
    try:
        return read_json(path)
    except (FileNotFoundError, ValueError):  # absent, or caught mid-replace on a file system without atomic renames
        return None


def _beat(path: Path) -> dict | None:
    """A heartbeat, or None where it is absent, unreadable or lacks what status reads (a damaged or
    hand-edited file must not stop the status of every other run)."""
    beat = _read(path)
    if not isinstance(beat, dict):
        return None
    ints = all(isinstance(beat.get(k), int) for k in ("epoch", "step", "steps_per_epoch"))
    if not ints or beat["steps_per_epoch"] < 1 or not isinstance(beat.get("time"), (int, float)):
        return None
    saved = beat.get("saved")
    if saved is not None and not (isinstance(saved, dict) and all(isinstance(saved.get(k), int) for k in ("epoch", "step"))):
        beat["saved"] = None
    return beat


def _mtime(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return None


def run_status(root: Path, entry: dict, now: float, stale: float) -> RunStatus:
    status = RunStatus(entry["run"], entry["seed"], "pending", entry["epochs"], entry["log"],
                       remaining_epochs=float(entry["epochs"]))
    record = _read(root / entry["record"])
    if record is not None:
        status.state, status.epoch, status.remaining_epochs = "done", record.get("epochs_done"), 0.0
        if record.get("wall_time_s") and record.get("epochs_done"):
            status.sec_per_epoch = record["wall_time_s"] / record["epochs_done"]
        return status
    state, log = root / entry["state"], root / entry["log"]
    beat, log_time = _beat(heartbeat_path(state)), _mtime(log)
    if beat is None and log_time is None and not state.exists():
        return status
    if beat:
        status.epoch, status.step, status.steps_per_epoch = beat["epoch"], beat["step"], beat["steps_per_epoch"]
        speed, packed = beat.get("sec_per_epoch"), beat.get("packed", 1)
        if isinstance(speed, (int, float)) and speed > 0 and isinstance(packed, int) and packed >= 1:
            status.sec_per_epoch = speed / packed
    times = [t for t in (beat["time"] if beat else None, log_time) if t is not None]
    status.last_write_s = max(0.0, now - max(times)) if times else None
    error = last_error(log)
    # a restarted job rewrites its log before its first heartbeat: the newer file speaks for the job
    log_is_newer = log_time is not None and (beat is None or log_time > beat["time"])
    # the job's own heartbeat, written as it starts (engine.heartbeat.beat_at_start), says on its host
    # whether its process lives; elsewhere a fresh write is all there is to go by
    live = status.last_write_s is not None and status.last_write_s <= stale and (_alive(beat) if beat else log_is_newer)
    if error is None and live:
        status.state = "running"
        if beat:
            status.remaining_epochs = max(0.0, status.epochs - beat["epoch"] - beat["step"] / beat["steps_per_epoch"])
        return status
    interrupted = error is None or re.match(r"[\w.]*\bInterrupted:", error)
    status.state, status.error = ("interrupted" if interrupted else "failed"), error
    status.state_saved = state.exists()
    # a state saved under another config is refused, not resumed (engine.checkpoint.StateMismatch)
    status.state_refused = status.state_saved and bool(error and re.match(r"[\w.]*\bStateMismatch:", error))
    saved = beat.get("saved") if beat else None
    if status.state_saved and saved and not status.state_refused:
        status.resume_from = saved
        status.remaining_epochs = status.epochs - saved["epoch"] - saved["step"] / beat["steps_per_epoch"]
    return status


def _configurations(plan: dict) -> dict[str, list[dict]]:
    groups: dict[str, list[dict]] = {}
    for entry in plan["runs"]:
        groups.setdefault(entry["configuration"], []).append(entry)
    return groups


def sweep_status(root: str | Path, now: float | None = None, stale: float = STALE_S) -> dict:
    """The status of every run of the plan in `root` (results/<name>), by configuration, with totals.

    Seconds per epoch are measured per run (a packed job's time is shared by its runs); a
    configuration without a measurement is estimated from the family's cost model, scaled by the
    median ratio of measured to modelled time over the configurations that have one. The overall
    ETA assumes the build keeps running as many training jobs at once as it runs now (at least one).
    """
    root = Path(root)
    if not (root / PLAN).exists():
        raise FileNotFoundError(f"no {PLAN} in {root}: a build writes it when it starts; run the build "
                                "(snakemake … --configfile …) once, or check the results folder's path")
    try:
        plan = read_json(root / PLAN)
        if not isinstance(plan, dict) or not isinstance(plan.get("runs"), list) or "name" not in plan:
            raise CorruptFile({root / PLAN: "not a build plan (no name or runs)"})
    except CorruptFile as exc:
        raise CorruptFile(exc.problems, "run the build, or a dry run (snakemake -n … --configfile …), to write it "
                                        "again") from exc
    now = time.time() if now is None else now
    configs = []
    for cid, entries in _configurations(plan).items():
        runs = [run_status(root, e, now, stale) for e in entries]
        speeds = [r.sec_per_epoch for r in runs if r.sec_per_epoch]
        first = entries[0]
        configs.append(ConfigStatus(cid, first["family"], first["width"], first["recipe"],
                                    {s: sum(r.state == s for r in runs) for s in STATES},
                                    statistics.mean(speeds) if speeds else None, bool(speeds), None, runs))
    costs = {e["configuration"]: e["cost"] for e in plan["runs"]}
    ratios = [c.sec_per_epoch / costs[c.configuration] for c in configs if c.measured and costs[c.configuration]]
    scale = statistics.median(ratios) if ratios else None
    for c in configs:
        if not c.measured and scale is not None:
            c.sec_per_epoch = scale * costs[c.configuration]
        remaining = sum(r.remaining_epochs for r in c.runs)
        c.eta_s = 0.0 if remaining == 0 else (remaining * c.sec_per_epoch if c.sec_per_epoch else None)
        for r in c.runs:
            if r.state != "done":
                speed = r.sec_per_epoch or c.sec_per_epoch
                r.eta_s = r.remaining_epochs * speed if speed else None
    running_jobs = len({r.log for c in configs for r in c.runs if r.state == "running"})
    etas = [c.eta_s for c in configs]
    total = None if None in etas else sum(etas) / max(1, running_jobs)
    return {
        "results": str(root), "name": plan["name"], "time": now, "stale_s": stale,
        "totals": {"runs": sum(len(c.runs) for c in configs), **{s: sum(c.counts[s] for c in configs) for s in STATES}},
        "running_jobs": running_jobs, "eta_s": total,
        "configurations": [asdict(c) for c in configs],
    }


def _hms(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    seconds = round(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _counts(counts: dict) -> str:
    return ", ".join(f"{n} {s}" for s, n in counts.items() if n)


def format_status(status: dict) -> str:
    """One line per configuration (runs by state, seconds per epoch, ETA), beneath it one line per
    run that is running, interrupted or failed; then the totals and the overall ETA."""
    width = max([len(c["configuration"]) for c in status["configurations"]] + [len("configuration")])
    lines = [f"{status['name']}: {status['results']}", f"{'configuration':<{width}}  runs  {'s/epoch':>8}  {'ETA':>9}  state"]
    for c in status["configurations"]:
        speed = "?" if c["sec_per_epoch"] is None else f"{c['sec_per_epoch']:.2f}" + ("" if c["measured"] else "~")
        lines.append(f"{c['configuration']:<{width}}  {len(c['runs']):>4}  {speed:>8}  {_hms(c['eta_s']):>9}  {_counts(c['counts'])}")
        for r in c["runs"]:
            if r["state"] in ("done", "pending"):
                continue
            where = "" if r["epoch"] is None else f"epoch {r['epoch']}/{r['epochs']}"
            if r["step"]:
                where += f" step {r['step']}/{r['steps_per_epoch']}"
            if r["state"] == "running":
                speed = "" if r["sec_per_epoch"] is None else f", {r['sec_per_epoch']:.2f} s/epoch"
                detail = f"{where or 'starting'}{speed}, ETA {_hms(r['eta_s'])}"
            else:
                resume = r["resume_from"]
                detail = ("its resume state was saved under another config and is refused" if r.get("state_refused")
                          else f"resumes from epoch {resume['epoch']} step {resume['step']}" if resume
                          else "resumes from its saved state" if r["state_saved"] else "starts again from the beginning")
                detail += f"; {r['error']}" if r["error"] else "; stopped without an error"
                if r["last_write_s"] is not None:
                    detail += f" (last written {_hms(r['last_write_s'])} ago; {r['log']})"
            lines.append(f"  s{r['seed']} {r['state']}: {detail}")
    t = status["totals"]
    jobs = status["running_jobs"]
    lines.append(f"total: {t['runs']} runs: {_counts({s: t[s] for s in STATES})}; ETA {_hms(status['eta_s'])}"
                 f" ({jobs or 'no'} training job{'s' if jobs != 1 else ''} running)")
    return "\n".join(lines)

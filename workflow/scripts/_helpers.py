"""What every workflow script shares: plugin loading and logging, and a mock `snakemake` object
so a script can run outside the workflow for debugging (as PyPSA-Eur does):

    python workflow/scripts/figure.py        # after setting up `snakemake = mock_snakemake(...)`

    from _helpers import mock_snakemake
    snakemake = mock_snakemake("figure_ece", configfile="config/quick.yaml")
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if (ROOT / "src").is_dir() and str(ROOT / "src") not in sys.path:
    sys.path.insert(0, str(ROOT / "src"))


@contextmanager
def job(snakemake):
    """Inside a workflow job: the config's plugins registered, output and errors in the rule's log,
    and corrupt inputs set aside so that running the same command again rebuilds them."""
    from tinyscale.config import load_plugins
    from tinyscale.io import CorruptFile, UnwritableFile, log_to

    try:
        with log_to(snakemake.log[0] if snakemake.log else None):
            load_plugins(snakemake.config)
            try:
                yield
            except CorruptFile as exc:
                message = set_aside(exc, snakemake)
                print(message, file=sys.__stderr__, flush=True)  # on Snakemake's console, not only in the log
                raise CorruptInput(message) from exc
    except UnwritableFile as exc:  # a full or read-only disk: the cause and the fix, not a traceback
        print(f"{snakemake.rule}: {exc.strerror}", file=sys.__stderr__, flush=True)
        sys.exit(1)


class CorruptInput(RuntimeError):
    """A job's input that cannot be read; it has been moved aside for the rerun to rebuild."""


def set_aside(exc, snakemake) -> str:
    """Move each corrupt input of this job to `<file>.corrupt`: Snakemake then sees it missing and
    the same command rebuilds it (a file that exists is never rebuilt, however damaged). Returns
    the message that says so. Files that are not this job's inputs are left where they are."""
    inputs = {os.path.abspath(p) for p in snakemake.input}
    lines = []
    for path, why in exc.problems.items():
        if os.path.abspath(path) not in inputs:
            lines.append(f"{path}: {why}; {exc.fix}")
            continue
        aside = path.with_name(path.name + ".corrupt")
        try:
            os.replace(path, aside)
        except FileNotFoundError:  # another job that read it has set it aside already
            pass
        rule = rebuilt_by(path, snakemake.config)
        lines.append(f"{path}: {why}. Moved it to {aside}; run the same command again and Snakemake rebuilds it "
                     f"(rule {rule}).")
        if rule == "download":
            lines[-1] += " Offline, put the official file there yourself; for a copy of your own, move it back and set data.verify_md5: false."
    return "\n".join(lines)


def rebuilt_by(path: Path, config: dict) -> str:
    """The rule whose output `path` is (the names train.smk and data.smk give their rules)."""
    from tinyscale import studies
    from tinyscale.runs import parse_run_id

    path = Path(os.path.abspath(path))
    if path.parent == Path(os.path.abspath(config["data"]["dir"])):
        return "download"
    if path.name == "dataset.npz":
        return "prepare_data"
    if path.parent.parent.name == "runs":
        if config["train"]["pack_seeds"]:
            return "train_packed_*"
        try:
            recipe = studies.recipes(config)[parse_run_id(path.parent.name).recipe]
        except (ValueError, KeyError):
            return "train"
        return "train_curve" if recipe.curve else "train"
    if path.parent.name == "figures":
        return f"figure_{path.stem}"
    return "the rule whose output it is"


def mock_snakemake(rule: str, configfile: str | None = None, snakefile: str | Path = ROOT / "Snakefile", **wildcards):
    """The `snakemake` object rule `rule` would receive for these wildcards, built by Snakemake's own
    rule expansion in the current working directory (the project's)."""
    import logging

    import snakemake.api  # noqa: F401  (imports the workflow module in the order Snakemake expects)
    from snakemake.iocontainers import Wildcards
    from snakemake.logging import LoggerManager
    from snakemake.script import Snakemake
    from snakemake.settings.types import (
        ConfigSettings,
        DeploymentSettings,
        OutputSettings,
        ResourceSettings,
        StorageSettings,
        WorkflowSettings,
    )
    from snakemake.workflow import Workflow

    workflow = Workflow(
        config_settings=ConfigSettings(configfiles=[Path(configfile)] if configfile else []),
        resource_settings=ResourceSettings(), storage_settings=StorageSettings(),
        workflow_settings=WorkflowSettings(), deployment_settings=DeploymentSettings(),
        logger_manager=LoggerManager(logging.getLogger("snakemake"), OutputSettings()),
    )
    workflow.include(str(snakefile))
    target = workflow.get_rule(rule)
    wc = Wildcards(fromdict=wildcards)
    input_, output = target.expand_input(wc)[0], target.expand_output(wc)[0]
    for files in (input_, output):  # absolute, as a job sees them
        for i, path in enumerate(files):
            files[i] = os.path.abspath(path)
    params, _ = target.expand_params(wc, input_, output, None)
    log = target.expand_log(wc)
    for i, path in enumerate(log):
        log[i] = os.path.abspath(path)
    resources = target.expand_resources(wc, input_, attempt=1)
    mock = Snakemake(input_, output, params, wc, resources._cores, resources, log, workflow.config, target.name, None)
    for path in list(mock.log) + list(mock.output):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    return mock

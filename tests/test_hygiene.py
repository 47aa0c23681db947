"""The code hygiene contributors are asked for (README, "Contributing"): ruff and snakefmt pass."""

import shutil
import subprocess

import pytest
from conftest import ROOT


def tool(name):
    exe = shutil.which(name)
    if exe is None:
        pytest.fail(f"{name} is not installed: run ./setup.sh --test (the test extra pins it)")
    return exe


def test_ruff_check_passes():
    proc = subprocess.run([tool("ruff"), "check", "--no-cache", "."], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_snakefmt_check_passes():
    proc = subprocess.run([tool("snakefmt"), "--check", "Snakefile", "workflow/"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr

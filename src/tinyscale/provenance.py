"""What produced a result: code version, library versions, device, host."""

from __future__ import annotations

import platform
from importlib.metadata import version
import subprocess
import sys
from pathlib import Path

from . import __version__


def code_version() -> str:
    """`git describe` of the checkout the library runs from (with -dirty), else the package version
    (an installed package has no checkout around it)."""
    root = Path(__file__).resolve().parent
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "describe", "--always", "--dirty", "--tags"],
            capture_output=True, text=True, timeout=10, check=True,
        )
        return f"{__version__}+{out.stdout.strip()}"
    except (OSError, subprocess.SubprocessError):
        return __version__


def device_name(device) -> str:
    import torch

    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"CPU ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)"


def collect(device) -> dict:
    import numpy
    import torch


    return {
        "code_version": code_version(),
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "torchvision": version("torchvision"),
        "numpy": numpy.__version__,
        "platform": platform.platform(),
        "host": platform.node(),
        "device": device_name(device),
    }

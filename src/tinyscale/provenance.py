"""What produced a result: code version, library versions, device, host, and on CUDA the GPU
model and the CUDA, cuDNN and driver versions."""

from __future__ import annotations

import platform
import subprocess
import sys
from importlib.metadata import version
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


def driver_version() -> str:
    """The NVIDIA driver's version from nvidia-smi (PyTorch does not report it), or "unknown"."""
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=30, check=True)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    # One line per GPU; a host has one driver.
    lines = [line.strip() for line in out.stdout.splitlines() if line.strip()]
    return lines[0] if lines else "unknown"


def cuda_versions(device) -> dict:
    """GPU model and CUDA, cuDNN and driver versions when `device` is CUDA, else nothing."""
    import torch

    device = torch.device(device)
    if device.type != "cuda":
        return {}
    cudnn = torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None
    return {
        "gpu": torch.cuda.get_device_name(device),
        "cuda": str(torch.version.cuda),
        "cudnn": str(cudnn) if cudnn is not None else "none",
        "driver": driver_version(),
    }


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
        **cuda_versions(device),
    }

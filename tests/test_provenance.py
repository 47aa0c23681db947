"""GPU provenance: a run on CUDA records its GPU model and CUDA, cuDNN and driver versions, and
the appendix lists each distinct setup once. No GPU here: torch.cuda and nvidia-smi are faked."""

import subprocess
import types

import torch
from test_paper import ENV

from tinyscale import provenance
from tinyscale.analysis.aggregate import environment_summary
from tinyscale.paper.render import TEMPLATES, render


def fake_cuda(monkeypatch, gpu="NVIDIA H100 80GB HBM3", cuda="12.4", cudnn=90100, driver="550.54.15"):
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: gpu)
    monkeypatch.setattr(torch.version, "cuda", cuda)
    monkeypatch.setattr(torch.backends.cudnn, "is_available", lambda: True)
    monkeypatch.setattr(torch.backends.cudnn, "version", lambda: cudnn)
    calls = []

    def run(cmd, **kwargs):
        calls.append(cmd)
        if cmd[0] != "nvidia-smi":
            raise FileNotFoundError(cmd[0])  # e.g. no git: the package version stands in
        # one line per GPU, as nvidia-smi prints them
        return types.SimpleNamespace(stdout=f"{driver}\n{driver}\n", returncode=0)

    monkeypatch.setattr(provenance.subprocess, "run", run)
    return calls


def test_a_cuda_run_records_gpu_cuda_cudnn_and_driver(monkeypatch):
    calls = fake_cuda(monkeypatch)
    record = provenance.collect(torch.device("cuda", 0))
    assert record["device"] == record["gpu"] == "NVIDIA H100 80GB HBM3"
    assert (record["cuda"], record["cudnn"], record["driver"]) == ("12.4", "90100", "550.54.15")
    assert any(c[0] == "nvidia-smi" for c in calls)


def test_a_cpu_run_records_no_gpu_fields(monkeypatch):
    fake_cuda(monkeypatch)
    record = provenance.collect("cpu")
    assert not {"gpu", "cuda", "cudnn", "driver"} & record.keys()


def test_a_missing_nvidia_smi_reads_unknown(monkeypatch):
    def missing(cmd, **kwargs):
        raise FileNotFoundError(cmd[0])

    monkeypatch.setattr(provenance.subprocess, "run", missing)
    assert provenance.driver_version() == "unknown"
    monkeypatch.setattr(provenance.subprocess, "run",
                        lambda cmd, **kw: (_ for _ in ()).throw(subprocess.CalledProcessError(9, cmd)))
    assert provenance.driver_version() == "unknown"


def test_the_appendix_lists_each_gpu_setup_once(monkeypatch):
    fake_cuda(monkeypatch)
    base = {"code_version": "x", "python": "3", "torch": "t", "torchvision": "tv", "numpy": "n",
            "platform": "linux", "wall_time_s": 10.0}
    h100 = {**base, **provenance.cuda_versions("cuda")}
    fake_cuda(monkeypatch, gpu="NVIDIA A100-SXM4-40GB", driver="535.104.05")
    a100 = {**base, **provenance.cuda_versions("cuda")}
    cpu = {**base, "device": "CPU (x86_64, 2 threads)"}
    env = environment_summary([h100, h100, a100, cpu])
    assert env["gpu_setups"] == [
        {"gpu": "NVIDIA A100-SXM4-40GB", "cuda": "12.4", "cudnn": "90100", "driver": "535.104.05", "n_runs": 1},
        {"gpu": "NVIDIA H100 80GB HBM3", "cuda": "12.4", "cudnn": "90100", "driver": "550.54.15", "n_runs": 2},
    ]
    context = {"n": {"name": "t_1"}, "dataset_name": "Digits", "env": {**ENV, "gpu_setups": env["gpu_setups"]}}
    tex = render(TEMPLATES, "appendix.tex.j2", context)
    rows = [line.strip() for line in tex.splitlines() if line.strip().startswith("GPU &")]
    assert rows == [
        r"GPU & NVIDIA A100-SXM4-40GB: CUDA 12.4, cuDNN 90100, driver 535.104.05 (1 run) \\",
        r"GPU & NVIDIA H100 80GB HBM3: CUDA 12.4, cuDNN 90100, driver 550.54.15 (2 runs) \\",
    ]
    # a CPU-only build has no GPU row
    assert "GPU &" not in render(TEMPLATES, "appendix.tex.j2", {**context, "env": ENV})

import pytest

from tinyscale.engine.gpus import acquire_gpu, assigned_gpus, use_gpu


def test_environment_assignment_wins(tmp_path):
    env = {"CUDA_VISIBLE_DEVICES": "3"}  # e.g. SLURM's allocation
    slot = acquire_gpu(device_count=8, lock_dir=tmp_path, env=env)
    assert (slot.gpu, slot.slot) == ("3", None) and not any(tmp_path.iterdir())
    assert assigned_gpus({"CUDA_VISIBLE_DEVICES": "1,2"}) == ["1", "2"]
    assert assigned_gpus({"CUDA_VISIBLE_DEVICES": ""}) is None and assigned_gpus({}) is None


def test_concurrent_jobs_get_distinct_gpus(tmp_path):
    slots = [acquire_gpu(device_count=3, lock_dir=tmp_path, env={}, timeout_s=0) for _ in range(3)]
    assert [s.gpu for s in slots] == ["0", "1", "2"]
    with pytest.raises(TimeoutError, match="all 3 GPU slots .* are taken"):
        acquire_gpu(device_count=3, lock_dir=tmp_path, env={}, timeout_s=0)
    slots[1].release()
    again = acquire_gpu(device_count=3, lock_dir=tmp_path, env={}, timeout_s=0)
    assert again.gpu == "1"


def test_small_jobs_share_gpus_when_allowed(tmp_path):
    slots = [acquire_gpu(device_count=2, jobs_per_gpu=2, lock_dir=tmp_path, env={}, timeout_s=0) for _ in range(4)]
    assert [s.gpu for s in slots] == ["0", "1", "0", "1"]  # spread first, then share
    with pytest.raises(TimeoutError):
        acquire_gpu(device_count=2, jobs_per_gpu=2, lock_dir=tmp_path, env={}, timeout_s=0)


def test_a_dead_job_frees_its_slot(tmp_path):
    import subprocess
    import sys

    code = ("from tinyscale.engine.gpus import acquire_gpu; import os; "
            f"s = acquire_gpu(2, lock_dir={str(tmp_path)!r}, env={{}}); print(s.gpu); os._exit(0)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "0"
    assert acquire_gpu(2, lock_dir=tmp_path, env={}, timeout_s=0).gpu == "0"  # the lock died with it


def test_use_gpu_and_no_gpu(tmp_path):
    env = {}
    use_gpu(acquire_gpu(2, lock_dir=tmp_path, env={}, timeout_s=0), env)
    assert env == {"CUDA_VISIBLE_DEVICES": "0"}
    with pytest.raises(RuntimeError, match="device: cpu"):
        acquire_gpu(0, lock_dir=tmp_path, env={})

"""`./setup.sh --slurm` prepares a cluster's submit host without TeX and without root.

setup.sh runs with a PATH that holds no TeX, an `id` that says a plain user, `apt-get` and
`sudo` that fail, and a `python3` that records its arguments instead of installing.
"""

import shutil
import subprocess

from conftest import ROOT

FAKES = {
    "id": 'echo 1000',
    "apt-get": 'echo "apt-get $*" >> "$CALLS"; exit 1',
    "sudo": 'echo "sudo $*" >> "$CALLS"; exit 1',
    # the site-packages check fails (not writable) like a system Python's for a plain user
    "python3": 'echo "python3 $*" >> "$CALLS"; case "$*" in *os.W_OK*) exit 1 ;; esac; echo fake',
}


def run_setup(tmp_path, *args):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, body in FAKES.items():
        (bin_dir / name).write_text(f"#!/bin/bash\n{body}\n")
        (bin_dir / name).chmod(0o755)
    for tool in ("bash", "dirname"):  # all setup.sh needs besides the fakes
        (bin_dir / tool).symlink_to(shutil.which(tool))
    calls = tmp_path / "calls"
    calls.touch()
    proc = subprocess.run([str(bin_dir / "bash"), str(ROOT / "setup.sh"), *args], capture_output=True, text=True, check=False,
                          env={"PATH": str(bin_dir), "CALLS": str(calls), "HOME": str(tmp_path)})
    return proc, calls.read_text().splitlines()


def test_slurm_setup_needs_no_tex_and_no_root(tmp_path):
    proc, calls = run_setup(tmp_path, "--slurm")
    assert proc.returncode == 0, proc.stderr
    assert not [c for c in calls if c.startswith(("apt-get", "sudo"))], calls
    pip = [c for c in calls if " -m pip install " in c]
    assert len(pip) == 1 and pip[0].endswith("--user -e .[slurm]"), calls


def test_plain_setup_still_asks_for_tex(tmp_path):
    proc, calls = run_setup(tmp_path)
    # no TeX on PATH: it tries to install it (here sudo fails) and stops before pip
    assert proc.returncode != 0
    assert any(c.startswith("sudo apt-get") for c in calls) and not any(" -m pip install " in c for c in calls)


import io
import pickle
import shutil
import subprocess
import tarfile
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


def write_pickle_archive(path: Path, folder: str, parts: dict) -> None:
    """A tar.gz of pickled dicts (protocol 2, bytes keys): the CIFAR python format."""
    with tarfile.open(path, "w:gz") as tar:
        for name, obj in parts.items():
            blob = pickle.dumps(obj, protocol=2)
            info = tarfile.TarInfo(f"{folder}/{name}")
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))


def make_cifar100_archive(path: Path, n_train: int = 20, n_test: int = 10, seed: int = 0) -> dict:
    """A small archive in CIFAR-100's own python format (pickled dicts with bytes keys)."""
    rng = np.random.default_rng(seed)
    parts = {}
    for split, n in (("train", n_train), ("test", n_test)):
        parts[split] = {
            b"data": rng.integers(0, 256, size=(n, 3072), dtype=np.uint8),
            b"fine_labels": [int(v) for v in rng.integers(0, 100, size=n)],
            b"coarse_labels": [int(v) for v in rng.integers(0, 20, size=n)],
            b"filenames": [f"img_{i}.png".encode() for i in range(n)],
        }
    parts["meta"] = {
        b"fine_label_names": [f"class_{i}".encode() for i in range(100)],
        b"coarse_label_names": [f"super_{i}".encode() for i in range(20)],
    }
    write_pickle_archive(path, "cifar-100-python", parts)
    return parts


def make_cifar10_archive(path: Path, n_per_batch: int = 4, n_test: int = 6, seed: int = 0) -> dict:
    """A small archive in CIFAR-10's own python format: five training batches, a test batch, the meta."""
    rng = np.random.default_rng(seed)
    parts = {}
    for name, n in [(f"data_batch_{i}", n_per_batch) for i in range(1, 6)] + [("test_batch", n_test)]:
        parts[name] = {
            b"batch_label": name.encode(),
            b"data": rng.integers(0, 256, size=(n, 3072), dtype=np.uint8),
            b"labels": [int(v) for v in rng.integers(0, 10, size=n)],
            b"filenames": [f"img_{i}.png".encode() for i in range(n)],
        }
    parts["batches.meta"] = {b"label_names": [f"label_{i}".encode() for i in range(10)], b"num_vis": 3072}
    write_pickle_archive(path, "cifar-10-batches-py", parts)
    return parts


@pytest.fixture
def cifar_archive(tmp_path):
    path = tmp_path / "cifar-100-python.tar.gz"
    parts = make_cifar100_archive(path)
    return path, parts


def synthetic_tables(widths: dict, seeds, n_classes: int = 10, seed: int = 0):
    """Runs and per-class tables shaped like the workflow's, with error falling in size."""
    import pandas as pd

    from tinyscale.families import build_model, count_params
    from tinyscale.runs import Run

    rng = np.random.default_rng(seed)
    runs, per_class = [], []
    for arch, ws in widths.items():
        for w in ws:
            params = count_params(build_model(arch, w, n_classes, 1))
            for s in seeds:
                acc = np.clip(1 - 3 * params ** -0.2 + rng.normal(0, 0.02, n_classes), 0.01, 1)
                top1 = float(acc.mean())
                rid = Run(arch, w, "cosine", s).id
                runs.append({"run_id": rid, "arch": arch, "width": w, "recipe": "cosine", "seed": s, "params": params, "top1": top1,
                             "top5": min(1.0, top1 + 0.2), "error": 1 - top1, "ece": 0.05 + 0.01 * s, "nll": 1.0,
                             "conf_correct": 0.8, "conf_incorrect": 0.5, "wall_time_s": 10.0, "epochs": 2, "device": "cpu"})
                per_class.append(pd.DataFrame({"run_id": rid, "arch": arch, "width": w, "seed": s,
                                               "class_index": np.arange(n_classes),
                                               "class_name": [f"class_{i}" for i in range(n_classes)], "accuracy": acc}))
    return pd.DataFrame(runs), pd.concat(per_class, ignore_index=True)


# The workflow tests' config: three ScaleCNN sizes (a fit), one MobileNetV2 size (no fit: the
# paper must say why), two seeds, two epochs on the bundled digits.
TINY = {
    "name": "tiny",
    "device": "cpu",
    "data": {"dataset": "digits"},
    "models": {"scalecnn": [2, 3, 4], "mobilenetv2": [0.1]},
    "seeds": [0, 1],
    "train": {"epochs": 2, "batch_size": 128, "lr": 0.05, "eval_every": 1, "checkpoint_every": 1},
    "augment": {"crop_padding": 1, "flip": False, "cutout": 2},
    "analysis": {"bootstrap_samples": 50, "bottom_k": [3, 5]},  # of 10 classes
}


def copy_project(dest):
    """The workflow's files and library, copied so a test can build and edit without touching the checkout."""
    for item in ("Snakefile", "workflow", "src", "config", "data", "profiles", "envs"):
        src = ROOT / item
        if src.is_dir():
            shutil.copytree(src, dest / item, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy(src, dest / item)
    return dest


def pdf_text(pdf) -> str:
    """The PDF's text with whitespace normalised (pdftotext)."""
    out = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return " ".join(out.split())


def snakemake(project, *args, config="tiny.yaml", check=True, cores=True):
    # targets and options before --configfile, which would swallow the words after it
    cmd = ["snakemake", *(["--cores", "2"] if cores else []), *args, "--configfile", config]
    proc = subprocess.run(cmd, cwd=project, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}")
    return proc


def compile_section(tmp_path, abstract: str, section: str) -> str:
    """Compile a study's abstract and section alone, with the paper's preamble and bibliography;
    returns LaTeX's log (for undefined citations and references)."""
    from tinyscale.paper.latex import compile_pdf
    from tinyscale.paper.render import TEMPLATES

    preamble = TEMPLATES.joinpath("paper.tex.j2").read_text().split("\\title")[0].split("\n", 1)[1]
    preamble = preamble.replace("\\graphicspath{{../figures/}}", "")
    (tmp_path / "doc.tex").write_text(preamble + "\\begin{document}\n\\begin{abstract}\n" + abstract
                                      + "\\end{abstract}\n" + section
                                      + "\\bibliographystyle{plainnat}\n\\bibliography{references}\n\\end{document}\n")
    shutil.copy(TEMPLATES.parent / "references.bib", tmp_path / "references.bib")
    compile_pdf(tmp_path / "doc.tex", tmp_path / "doc.pdf", tmp_path / "latex.log")
    assert_reads_cleanly(tmp_path / "doc.pdf")
    return (tmp_path / "build" / "doc.log").read_text(errors="replace")


def assert_reads_cleanly(pdf) -> None:
    """A built paper: every float in the section that first cites it, and no text fault a reader
    would see (doubled sentences, a missing space, nan/None/inf, "??", overfull boxes over budget)."""
    from tinyscale.paper.pdfcheck import latex_log, misplaced, text_problems

    log = latex_log(pdf)
    assert misplaced(pdf) == []
    assert text_problems(pdf, log if log.exists() else None) == []

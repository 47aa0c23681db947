"""File writes and formats: atomic (a crash never leaves a half-written output behind), JSON, CSV,
the per-run prediction file, a job's log, and the error that names a file that cannot be read."""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np


class CorruptFile(ValueError):
    """Files that exist but cannot be read as what they should be: truncated (a full disk, an
    interrupted copy), damaged, or another file under the expected name."""

    def __init__(self, problems: dict, fix: str = "delete it and write it again"):
        self.problems = {Path(p): why for p, why in problems.items()}
        self.fix = fix
        super().__init__("; ".join(f"{p}: {why}" for p, why in self.problems.items()) + f"; {fix}")

    @property
    def paths(self) -> list[Path]:
        return list(self.problems)


@contextmanager
def reading(path: str | os.PathLike, what: str, fix: str = "delete it and write it again") -> Iterator[None]:
    """Turn a failure to parse `path` as `what` into a CorruptFile naming the file; a missing or
    unreadable-by-permission file and a lack of memory stay what they are."""
    try:
        yield
    except (FileNotFoundError, PermissionError, IsADirectoryError, MemoryError, CorruptFile):
        raise
    except Exception as exc:
        raise CorruptFile({path: f"not a readable {what}, truncated or damaged ({type(exc).__name__}: {exc})"}, fix) from exc


def check_zips(paths, what: str, fix: str) -> None:
    """Raise one CorruptFile naming every file of `paths` that is not a whole zip archive (the
    format of torch.save and .npz): the directory at its end finds truncation, each record's CRC
    damaged bytes, and nothing is unpickled or loaded."""
    problems = {}
    for path in paths:
        try:
            with reading(path, what, fix), zipfile.ZipFile(path) as z:
                bad = z.testzip()
                if bad is not None:
                    raise ValueError(f"record {bad} fails its CRC check")
        except CorruptFile as exc:
            problems.update(exc.problems)
    if problems:
        raise CorruptFile(problems, fix)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside `path`; rename it onto `path` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(fd)
    tmp = Path(tmp)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp's 0600 would survive the rename: follow the user's umask
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text(path: str | os.PathLike, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_json(path: str | os.PathLike, obj) -> None:
    write_text(path, json.dumps(obj, indent=2, allow_nan=False) + "\n")


def read_json(path: str | os.PathLike, what: str = "JSON file"):
    """A JSON file; a truncated or garbled one raises CorruptFile naming it."""
    with reading(path, what):
        return json.loads(Path(path).read_bytes().decode("utf-8"))


def write_csv(path: str | os.PathLike, frame) -> None:
    """Write a pandas DataFrame as CSV, atomically, with a stable float format."""
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False, float_format="%.10g")


@contextmanager
def log_to(path: str | os.PathLike | None) -> Iterator[None]:
    """Send stdout and stderr (progress lines, warnings, tracebacks) to `path` for the block."""
    import traceback
    from contextlib import redirect_stderr, redirect_stdout

    if path is None:
        yield
        return
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", buffering=1) as fh, redirect_stdout(fh), redirect_stderr(fh):
        try:
            yield
        except BaseException:
            traceback.print_exc(file=fh)
            raise


def save_predictions(path: str | Path, probs: np.ndarray, labels: np.ndarray) -> None:
    """One file per run: float32 probabilities (ECE and confidences as the original computes them;
    float16 moved ECE by up to 4e-5), int64 labels, and argmax predictions."""
    probs = np.asarray(probs, dtype=np.float32)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez_compressed(
                fh, probs=probs, labels=np.asarray(labels, dtype=np.int64),
                preds=probs.argmax(axis=1).astype(np.int64),
            )


def load_predictions(path: str | Path) -> dict[str, np.ndarray]:
    with reading(path, "prediction file"), np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in ("probs", "labels", "preds")}

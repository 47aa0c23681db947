"""File writes and formats: atomic (a crash never leaves a half-written output behind), JSON, CSV,
the per-run prediction file, a job's log, and the error that names a file that cannot be read."""

from __future__ import annotations

import errno
import json
import os
import shutil
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


# Why a file cannot be written, and what to do, where the cause is the file system's, not the code's.
_UNWRITABLE = {
    errno.ENOSPC: "the disk that holds it is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EROFS: "its file system is read-only",
    errno.EACCES: "this user may not write there",
}


class UnwritableFile(OSError):
    """A file the file system would not take (full, read-only, not ours); its errno is the cause's."""


def unwritable(exc: OSError, path) -> UnwritableFile:
    """The error as an UnwritableFile (same errno), saying which file, why, and that a rerun finishes the build."""
    why = _UNWRITABLE[exc.errno]
    where = Path(path).parent
    free = shutil.disk_usage(where).free if where.exists() else None
    return UnwritableFile(exc.errno, f"cannot write {path}: {why}" + (f" ({free / 1e6:.1f} MB free there)" if free is not None
                                                                  else "") + "; nothing finished was lost (files are "
                     "written whole or not at all): make room or give results/ a writable disk, then run the same "
                     "command again")


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside `path`; rename it onto `path` only if the block succeeds."""
    path, tmp = Path(path), None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
        os.close(fd)
        tmp = Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp's 0600 would survive the rename: follow the user's umask
        yield tmp
        os.replace(tmp, path)
    except OSError as exc:
        if isinstance(exc, UnwritableFile) or exc.errno not in _UNWRITABLE:
            raise
        raise unwritable(exc, path) from exc
    finally:
        if tmp is not None:
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


def shape_path(path: str | os.PathLike) -> Path:
    """tables/runs.csv → tables/.runs.csv.shape.json: the rows and columns write_csv wrote."""
    path = Path(path)
    return path.with_name(f".{path.name}.shape.json")


def write_csv(path: str | os.PathLike, frame) -> None:
    """Write a pandas DataFrame as CSV, atomically, with a stable float format, and beside it the
    rows and columns it holds, so a reader finds a table cut at a line's end (read_csv)."""
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False, float_format="%.10g")
    write_json(shape_path(path), {"rows": len(frame), "columns": [str(c) for c in frame.columns]})


def _written_shape(path: Path) -> dict | None:
    """What write_csv recorded for `path`; None where nothing was (a table from elsewhere, or one
    written before shapes were); a damaged record makes the table itself unverifiable."""
    try:
        shape = json.loads(shape_path(path).read_bytes().decode("utf-8"))
    except FileNotFoundError:
        return None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"its shape record {shape_path(path)} is damaged ({exc})") from exc
    if not (isinstance(shape, dict) and isinstance(shape.get("rows"), int) and isinstance(shape.get("columns"), list)):
        raise ValueError(f"its shape record {shape_path(path)} is damaged")
    return shape


def read_csv(path: str | os.PathLike, what: str = "table", columns=(), rows: int | None = None):
    """A CSV table as a DataFrame, checked whole: UTF-8, its last line ended, the rows and columns
    write_csv recorded, and the `columns` and number of `rows` the caller expects. A table that is
    not raises CorruptFile naming it (a job sets it aside and the rerun rebuilds it)."""
    import io as _io

    import pandas as pd

    path = Path(path)
    with reading(path, what):
        raw = path.read_bytes()
        text = raw.decode("utf-8")
        if not raw.endswith(b"\n"):
            raise ValueError("its last line is cut off (no newline at its end)" if raw else "it is empty")
        shape = _written_shape(path)
        frame = pd.DataFrame() if shape == {"rows": 0, "columns": []} else pd.read_csv(_io.StringIO(text))
        if shape is not None and (len(frame), [str(c) for c in frame.columns]) != (shape["rows"], shape["columns"]):
            raise ValueError(f"it holds {len(frame)} rows and columns {[str(c) for c in frame.columns]}; written "
                             f"were {shape['rows']} rows and columns {shape['columns']}")
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise ValueError(f"it lacks the column(s) {missing}")
        if rows is not None and len(frame) != rows:
            raise ValueError(f"it holds {len(frame)} rows where {rows} are expected")
    return frame


def check_pdfs(paths, what: str = "figure", fix: str = "delete it and draw it again") -> None:
    """Raise one CorruptFile naming every file of `paths` that is not a whole PDF (its header, and
    the end-of-file mark a truncated file lacks)."""
    problems = {}
    for path in paths:
        with open(path, "rb") as fh:
            head = fh.read(5)
            fh.seek(max(0, fh.seek(0, os.SEEK_END) - 2048))
            tail = fh.read()
        if head != b"%PDF-" or b"%%EOF" not in tail:
            problems[path] = f"not a whole PDF {what}, truncated or damaged (no {'%PDF- header' if head != b'%PDF-' else '%%EOF at its end'})"
    if problems:
        raise CorruptFile(problems, fix)


@contextmanager
def log_to(path: str | os.PathLike | None) -> Iterator[None]:
    """Send stdout and stderr (progress lines, warnings, tracebacks) to `path` for the block."""
    import traceback
    from contextlib import redirect_stderr, redirect_stdout

    if path is None:
        yield
        return
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", buffering=1) as fh, redirect_stdout(fh), redirect_stderr(fh):
            try:
                yield
            except BaseException:
                try:
                    traceback.print_exc(file=fh)
                except OSError:  # a full disk takes no traceback either: the error itself still goes up
                    pass
                raise
    except OSError as exc:  # the log's own disk full or read-only
        if isinstance(exc, UnwritableFile) or exc.errno not in _UNWRITABLE:
            raise
        raise unwritable(exc, path) from exc


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


def save_token_predictions(path: str | Path, target_probs: np.ndarray, preds: np.ndarray, labels: np.ndarray) -> None:
    """A language model's file: per position (N×T), the probability of the target byte (float32;
    bits per byte = mean −log2 of it), the target, and the most probable byte."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, probs=np.asarray(target_probs, dtype=np.float32),
                                labels=np.asarray(labels, dtype=np.int64), preds=np.asarray(preds, dtype=np.int64))


def load_predictions(path: str | Path) -> dict[str, np.ndarray]:
    with reading(path, "prediction file"), np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in ("probs", "labels", "preds")}

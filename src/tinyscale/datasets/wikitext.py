"""Language modelling on bytes: WikiText-2 (raw) and a stand-in in its layout, the King James Bible.

`read_wikitext` reads the official `wikitext-2-raw-v1.zip` layout (`wikitext-2-raw/wiki.train.raw`,
`wiki.valid.raw`, `wiki.test.raw`, UTF-8 text) and cuts the training and test files' bytes into
non-overlapping windows of CONTEXT bytes, each position's target being the next byte; the
validation file is not used. The vocabulary is the 256 byte values, so bits per byte is the metric.

`build_kjv` writes a zip in that layout from the King James Version as Debian's bible-kjv
package prints it (`bible -l80`, a public-domain text that installs by package name): Genesis
and Exodus for training, Leviticus for validation, Numbers for the test. The same reader reads it.
"""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from pathlib import Path

import numpy as np

from ..io import CorruptFile
from . import DatasetSpec, RemoteFile, register

CONTEXT = 64  # bytes per window
VOCAB = 256
FOLDER = "wikitext-2-raw"
SPLITS = {"train": "wiki.train.raw", "valid": "wiki.valid.raw", "test": "wiki.test.raw"}
KJV_BOOKS = {"train": "gen1:1-exo40:38", "valid": "lev1:1-lev27:34", "test": "num1:1-num36:13"}


def windows(text: bytes, context: int = CONTEXT) -> tuple[np.ndarray, np.ndarray]:
    """(inputs, targets), uint8 N×context each: window i is bytes [i·T, i·T + T), its targets the
    bytes one further on; the bytes after the last whole window are left out."""
    stream = np.frombuffer(text, dtype=np.uint8)
    n = (len(stream) - 1) // context
    if n < 1:
        raise ValueError(f"a text of {len(stream)} bytes holds no window of {context} bytes and its next byte")
    x = stream[: n * context].reshape(n, context)
    y = stream[1 : n * context + 1].reshape(n, context)
    return x.copy(), y.astype(np.int64)


def read_wikitext(path: str | Path, context: int = CONTEXT):
    """(train_x, train_y, test_x, test_y, classes) from a zip in WikiText-2 raw's layout."""
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as z:
            names = set(z.namelist())
            texts = {}
            for split in ("train", "test"):
                member = f"{FOLDER}/{SPLITS[split]}"
                if member not in names:
                    raise CorruptFile({path: f"has no {member} (members: {', '.join(sorted(names)[:5])}…)"},
                                      "put the official wikitext-2-raw-v1.zip there")
                texts[split] = z.read(member)
    except zipfile.BadZipFile as exc:
        raise CorruptFile({path: f"is not a zip archive ({exc})"}, "put the official wikitext-2-raw-v1.zip there") from None
    for split, text in texts.items():
        try:
            text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CorruptFile({path: f"{FOLDER}/{SPLITS[split]} is not UTF-8 text ({exc})"},
                              "put the official wikitext-2-raw-v1.zip there") from None
    train_x, train_y = windows(texts["train"], context)
    test_x, test_y = windows(texts["test"], context)
    return train_x, train_y, test_x, test_y, [str(b) for b in range(VOCAB)]


def write_wikitext_zip(path: str | Path, texts: dict[str, str]) -> None:
    """A zip in WikiText-2 raw's layout holding `texts` ({"train"|"valid"|"test": text}); fixed
    member times, so the same texts give the same bytes."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for split, text in texts.items():
            info = zipfile.ZipInfo(f"{FOLDER}/{SPLITS[split]}", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, text.encode("utf-8"))


def build_kjv(out_path: str | Path) -> None:
    """Write the stand-in zip from Debian's bible-kjv (`bible`), 80 columns a line."""
    exe = shutil.which("bible")
    if exe is None:
        raise RuntimeError("the bible program is not installed (Debian: apt-get install bible-kjv); it prints the "
                           "King James Version that the language-modelling stand-in is built from")
    texts = {split: subprocess.run([exe, "-l80", books], check=True, capture_output=True, text=True).stdout
             for split, books in KJV_BOOKS.items()}
    write_wikitext_zip(out_path, texts)


def _spec(name: str, label: str, file: RemoteFile, train_size: int, description: str) -> DatasetSpec:
    return register(DatasetSpec(
        name=name, label=label, files=(file,), task="language_modelling",
        read=lambda cfg, files: read_wikitext(files[file.name]),
        image_shape=(CONTEXT,), num_classes=VOCAB, train_size=train_size, description=description,
    ))


WIKITEXT2 = _spec(
    "wikitext2", "WikiText-2 (raw)",
    # no md5 is published with the archive
    RemoteFile("wikitext-2-raw-v1.zip", "https://s3.amazonaws.com/research.metamind.io/wikitext/wikitext-2-raw-v1.zip", None),
    train_size=170_600,  # about 10.9 MB of training text in 64-byte windows
    description=(
        r"WikiText-2~\citep{merity2016pointer} in its raw form, modelled byte by byte: the training and test "
        rf"articles' UTF-8 bytes cut into non-overlapping windows of {CONTEXT} bytes, each position predicting "
        r"the next byte (a vocabulary of 256); the metric is bits per byte on the test articles."
    ),
)
KJV = _spec(
    "kjv", "King James Bible (bytes)",
    # Not downloaded: the workflow builds it from Debian's bible-kjv (its RemoteFile.build, run by the download rule).
    RemoteFile("kjv_wikitext.zip", "", None, build="tinyscale.datasets.wikitext:build_kjv"),
    train_size=5_941,  # Genesis and Exodus, 380,226 bytes
    description=(
        r"A stand-in for WikiText-2 that installs by package name, for the CPU builds: the King James Version "
        r"of the Bible (public domain) as Debian's \texttt{bible-kjv} package prints it at 80 columns, "
        r"Genesis and Exodus for training and Numbers for the test, read like WikiText-2: "
        rf"non-overlapping windows of {CONTEXT} bytes, each position predicting the next byte; the metric is "
        r"bits per byte. Its numbers are not WikiText-2's."
    ),
)

"""Google Speech Commands v2 (Warden 2018) as the standard 12-class keyword-spotting task.

The archive's layout (the official speech_commands_v0.02.tar.gz, and the stand-in that
speech_standin.py builds): one folder per word of 1-s 16 kHz mono 16-bit WAVs named
`<speaker>_nohash_<n>.wav`, `_background_noise_/` with long noise recordings, and
`validation_list.txt` / `testing_list.txt` listing `word/file.wav` paths.

The protocol (Warden 2018's input_data.py, which Hello Edge, Zhang et al. 2017, follows):
- classes: the ten keywords, `_silence_` and `_unknown_` (every other word);
- training: the files in neither list; test: the files in testing_list.txt (the validation
  files are not used: the studies have no validation split);
- `_unknown_`: ceil(10% of the split's keyword clips) clips drawn without replacement from the
  split's other-word clips (Warden's unknown_percentage = 10); as many as the average keyword;
- `_silence_`: the same number of 1-s crops of the background-noise files (the file, offset and
  a volume uniform in [0, 1] drawn at random), training crops from the first 80% of each file
  and test crops from the last 20%, so no noise sample is in both splits (Warden mixes the
  noise into zero clips at a random volume; we keep the recording at up to its own level);
- both draws come from numpy's default_rng(data.split_seed) and the sorted file names, so a
  split seed gives the same clips on every machine.
Features: log-mel (audio.py), uint8 N×1×40×98. The official archive holds 30,769 training and
4,074 test keyword clips: 36,923 training and 4,890 test examples under this protocol.
"""

from __future__ import annotations

import math
import tarfile
from pathlib import Path, PurePosixPath

import numpy as np

from ..io import CorruptFile, reading
from . import DatasetSpec, RemoteFile, register
from .audio import CLIP_SAMPLES, N_FRAMES, N_MELS, features, fit_clip, read_wav

KEYWORDS = ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go")
SILENCE, UNKNOWN = "_silence_", "_unknown_"
CLASSES = (*KEYWORDS, SILENCE, UNKNOWN)
NOISE_DIR = "_background_noise_"
LISTS = ("validation_list.txt", "testing_list.txt")
EXTRA_FRACTION = 0.10  # unknown and silence clips per split, each as a fraction of its keyword clips
TRAIN_NOISE = 0.80  # training silence is cut from the first 80% of each noise file, test from the rest
FIX = "delete it to download (or build) it again"


def _relative(name: str) -> PurePosixPath:
    """An archive member's path as the lists write it (no leading './')."""
    return PurePosixPath(*[p for p in PurePosixPath(name).parts if p not in (".", "")])


class _Archive:
    """The members of a Speech Commands archive, by the path the list files use."""

    def __init__(self, path: Path, tar: tarfile.TarFile):
        self.path, self.tar = path, tar
        members = [m for m in tar.getmembers() if m.isfile()]
        # The official archive has the word folders at its top; tolerate one enclosing folder.
        roots = {str(_relative(m.name).parent) for m in members if _relative(m.name).name == LISTS[1]}
        root = PurePosixPath(min(roots, key=len)) if roots else PurePosixPath(".")
        self.members: dict[str, tarfile.TarInfo] = {}
        for m in members:
            rel = _relative(m.name)
            if rel.suffix.lower() == ".wav" or rel.name in LISTS:
                try:
                    self.members[str(rel.relative_to(root))] = m
                except ValueError:
                    pass  # outside the dataset's folder

    def read(self, name: str) -> bytes:
        fh = self.tar.extractfile(self.members[name])
        return fh.read()

    def list_file(self, name: str) -> set[str]:
        if name not in self.members:
            raise CorruptFile({self.path: f"has no {name} (the Speech Commands layout has it at the top, beside "
                                          f"the word folders)"}, FIX)
        return {str(_relative(line.strip())) for line in self.read(name).decode().splitlines() if line.strip()}

    def wav(self, name: str) -> np.ndarray:
        try:
            return read_wav(self.read(name), f"{name} in {self.path}")
        except ValueError as exc:
            raise CorruptFile({self.path: str(exc)}, FIX) from exc


def _draw(rng: np.random.Generator, pool: list[str], n: int, what: str, path: Path) -> list[str]:
    if n > len(pool):
        raise CorruptFile({path: f"has {len(pool)} {what} clips; the protocol needs {n} "
                                 f"({EXTRA_FRACTION:.0%} of the split's keyword clips)"}, FIX)
    return sorted(pool[i] for i in rng.choice(len(pool), size=n, replace=False))


def _silence(rng: np.random.Generator, noises: dict[str, np.ndarray], n: int, train: bool, path: Path) -> np.ndarray:
    """n 1-s crops of the noise recordings, from the training or the test part of each."""
    parts = {}
    for name, x in noises.items():
        cut = int(len(x) * TRAIN_NOISE)
        part = x[:cut] if train else x[cut:]
        if len(part) < CLIP_SAMPLES:
            raise CorruptFile({path: f"{name} has {len(x)} samples; a background-noise file needs at least "
                                     f"{math.ceil(CLIP_SAMPLES / (1 - TRAIN_NOISE))} (5 s) for a 1-s crop "
                                     f"in each split"}, FIX)
        parts[name] = part
    if n and not parts:
        raise CorruptFile({path: f"has no WAV files in {NOISE_DIR}/, which the silence class is cut from"}, FIX)
    names = sorted(parts)
    out = np.empty((n, CLIP_SAMPLES), dtype=np.int16)
    for i in range(n):
        part = parts[names[rng.integers(len(names))]]
        start = rng.integers(len(part) - CLIP_SAMPLES + 1)
        volume = rng.uniform(0.0, 1.0)
        out[i] = np.rint(part[start:start + CLIP_SAMPLES] * volume).astype(np.int16)
    return out


def read_archive(path: str | Path, split_seed: int):
    """(train_x, train_y, test_x, test_y, class names) of a Speech Commands archive (module doc)."""
    path = Path(path)
    with reading(path, "Speech Commands .tar.gz archive", fix=FIX), tarfile.open(path, "r:gz") as tar:
        archive = _Archive(path, tar)
        validation, testing = (archive.list_file(name) for name in LISTS)
        clips = sorted(n for n in archive.members if n.lower().endswith(".wav") and "/" in n)
        word = {n: n.split("/", 1)[0] for n in clips}
        rng = np.random.default_rng(split_seed)
        splits = {}
        for split, keep in (("train", lambda n: n not in validation and n not in testing),
                            ("test", lambda n: n in testing)):
            mine = [n for n in clips if word[n] != NOISE_DIR and keep(n)]
            keyword = [n for n in mine if word[n] in KEYWORDS]
            if not keyword:
                raise CorruptFile({path: f"has no {split} clips of the keywords {', '.join(KEYWORDS)}"}, FIX)
            n_extra = math.ceil(EXTRA_FRACTION * len(keyword))
            unknown = _draw(rng, [n for n in mine if word[n] not in KEYWORDS], n_extra, f"{split} other-word", path)
            splits[split] = (keyword, unknown, n_extra)
        noise_names = [n for n in clips if word[n] == NOISE_DIR]
        wanted = {n for keyword, unknown, _ in splits.values() for n in keyword + unknown}
        # In archive order, so the gzip stream is read once; features at once, so the waveforms
        # of a whole split are never in memory together.
        order = sorted(wanted | set(noise_names), key=lambda n: archive.members[n].offset_data)
        noises, feats, batch = {}, {}, []
        for n in order:
            if word[n] == NOISE_DIR:
                noises[n] = archive.wav(n)
                continue
            batch.append((n, fit_clip(archive.wav(n))))
            if len(batch) == 256:
                feats.update(zip([b[0] for b in batch], features(np.stack([b[1] for b in batch]))))
                batch = []
        if batch:
            feats.update(zip([b[0] for b in batch], features(np.stack([b[1] for b in batch]))))
    out = []
    for split, (keyword, unknown, n_extra) in splits.items():
        silence = features(_silence(rng, noises, n_extra, split == "train", path))
        x = np.concatenate([np.stack([feats[n] for n in keyword + unknown]), silence])
        y = np.array([CLASSES.index(word[n]) for n in keyword] + [CLASSES.index(UNKNOWN)] * len(unknown)
                     + [CLASSES.index(SILENCE)] * len(silence), dtype=np.int64)
        out += [x, y]
    return (*out, list(CLASSES))


def register_archive(name: str, label: str, file: RemoteFile, train_size: int, description: str) -> DatasetSpec:
    """A keyword-spotting dataset read from one Speech Commands-layout archive."""
    return register(DatasetSpec(
        name=name, label=label, files=(file,), task="keyword_spotting",
        read=lambda cfg, files: read_archive(files[file.name], cfg["split_seed"]),
        image_shape=(1, N_MELS, N_FRAMES), num_classes=len(CLASSES), train_size=train_size,
        description=description,
    ))


SPEECH_COMMANDS = register_archive(
    "speech_commands", "Speech Commands v2",
    # No md5 is published: torchaudio and tensorflow-datasets check this archive by sha256
    # (af14739ee7dc311471de98f5f9d2c9191b18aedfe957f4a6ff791c709868ff58, 2,428,923,189 bytes),
    # and the registry checks md5 only, so data.verify_md5 has nothing to compare here.
    RemoteFile("speech_commands_v0.02.tar.gz", "http://download.tensorflow.org/data/speech_commands_v0.02.tar.gz",
               None),
    train_size=36_923,
    description=(
        r"Google Speech Commands v2~\citep{warden2018speech}: 1-s clips of 35 words by 2{,}618 speakers, "
        r"in the standard 12-class task of ten keywords (yes, no, up, down, left, right, on, off, stop, go), "
        r"\emph{silence} and \emph{unknown} (every other word). We train on the clips in neither the validation "
        r"nor the testing list and test on the testing list; \emph{unknown} and \emph{silence} each add 10\% "
        r"of a split's keyword clips (as many as an average keyword), the former drawn from the other words, "
        r"the latter cut from the background-noise recordings at a random volume (36{,}923 training and "
        r"4{,}890 test examples). Each clip becomes a $40\times98$ log-mel spectrogram (30-ms windows every "
        r"10~ms, 40 HTK mel bands from 20~Hz to 8~kHz) quantised to 8 bits over $-90$ to $+45$~dB."
    ),
)

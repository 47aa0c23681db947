"""A small synthetic stand-in for Speech Commands, for CPU builds: words spoken by espeak-ng.

`build_standin` writes a .tar.gz in the official Speech Commands layout (speech_commands.py
reads both): one folder per word of 1-s 16 kHz mono 16-bit WAVs named
`<speaker>_nohash_<n>.wav`, `_background_noise_/` with synthetic noise, and
validation/testing lists that split by speaker, so the test voices are never heard in training.

A speaker is one espeak-ng voice: an English accent with a voice variant (`en-us+f3`). Each clip
draws a speed and a pitch, is resampled from espeak-ng's 22,050 Hz to 16 kHz, placed at a random
offset in the second, scaled to a random level and mixed with white or pink noise at a random
signal-to-noise ratio; all draws come from numpy's default_rng(seed), and espeak-ng itself is
deterministic, so a seed gives the same archive's audio with the same espeak-ng version.
"""

from __future__ import annotations

import gzip
import io
import shutil
import subprocess
import tarfile
import wave
from math import gcd
from pathlib import Path

import numpy as np

from ..io import atomic_path
from . import RemoteFile
from .audio import CLIP_SAMPLES, SAMPLE_RATE, write_wav
from .speech_commands import KEYWORDS, NOISE_DIR, register_archive

OTHER_WORDS = ("bed", "bird", "cat", "dog", "happy", "house", "marvin", "sheila", "tree", "wow")  # v2's extra words
ACCENTS = ("en-us", "en-gb", "en-gb-scotland", "en-029", "en-us-nyc", "en-gb-x-rp")
VARIANTS = ("m1", "m3", "m7", "f1", "f3", "f4")
SPEED = (120, 200)  # words per minute (espeak-ng's default is 175)
PITCH = (25, 75)  # 0..99 (default 50)
SNR_DB = (10.0, 30.0)  # speech-to-noise power ratio of the added noise
PEAK = (0.1, 0.9)  # the clip's peak, as a fraction of full scale
TEST_SPEAKERS, VALIDATION_SPEAKERS = 0.2, 0.1  # fractions of the voices held out
NOISE_SECONDS = 10
CLIPS_PER_WORD, CLIPS_PER_OTHER_WORD = 60, 15  # the defaults: 12 classes of about 50 training examples
ESPEAK_RATE = 22_050


def speakers() -> list[str]:
    """Every voice as espeak-ng's -v names it: accent+variant."""
    return [f"{accent}+{variant}" for accent in ACCENTS for variant in VARIANTS]


def speak(word: str, voice: str, speed: int, pitch: int) -> np.ndarray:
    """espeak-ng's rendering of `word`, float in [−1, 1) at 16 kHz, leading and trailing silence cut."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise RuntimeError("espeak-ng is not installed (Debian: apt-get install espeak-ng); it speaks the stand-in's words")
    wav = subprocess.run([exe, "-v", voice, "-s", str(speed), "-p", str(pitch), "--stdout", word],
                         check=True, capture_output=True).stdout
    with wave.open(io.BytesIO(wav)) as w:
        if (w.getframerate(), w.getnchannels(), w.getsampwidth()) != (ESPEAK_RATE, 1, 2):
            raise RuntimeError(f"espeak-ng wrote {w.getframerate()} Hz, {w.getnchannels()} channel(s), "
                               f"{8 * w.getsampwidth()}-bit audio; expected {ESPEAK_RATE} Hz mono 16-bit")
        raw = w.readframes(w.getnframes())  # --stdout's header gives no length: read to the end
    x = np.frombuffer(raw, dtype="<i2").astype(np.float64) / 32768.0
    loud = np.flatnonzero(np.abs(x) > 0.01)
    x = x[loud[0]:loud[-1] + 1] if len(loud) else x[:0]
    from scipy.signal import resample_poly

    g = gcd(SAMPLE_RATE, ESPEAK_RATE)
    return resample_poly(x, SAMPLE_RATE // g, ESPEAK_RATE // g)


def pink_noise(rng: np.random.Generator, n: int) -> np.ndarray:
    """Unit-variance noise with power ∝ 1/f (white noise shaped in the frequency domain)."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    spectrum[1:] /= np.sqrt(np.arange(1, len(spectrum)))
    spectrum[0] = 0
    x = np.fft.irfft(spectrum, n)
    return x / x.std()


def noise_recordings(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """The `_background_noise_` files: white, pink and brown noise, and a 50 Hz mains hum, 10 s each."""
    n = NOISE_SECONDS * SAMPLE_RATE
    t = np.arange(n) / SAMPLE_RATE
    brown = np.cumsum(rng.standard_normal(n))
    brown -= np.convolve(brown, np.ones(1601) / 1601, mode="same")  # remove the random walk's drift
    hum = sum(np.sin(2 * np.pi * 50 * k * t + rng.uniform(0, 2 * np.pi)) / k for k in (1, 2, 3, 5))
    hum = hum + 0.05 * rng.standard_normal(n)
    raw = {"white_noise": rng.standard_normal(n), "pink_noise": pink_noise(rng, n), "brown_noise": brown, "hum": hum}
    return {name: 0.3 * x / np.abs(x).max() for name, x in raw.items()}


def clip(rng: np.random.Generator, word: str, voice: str) -> np.ndarray:
    """One 1-s stand-in clip (int16): the spoken word at a random offset, level and noise."""
    speech = speak(word, voice, int(rng.integers(SPEED[0], SPEED[1] + 1)), int(rng.integers(PITCH[0], PITCH[1] + 1)))
    speech = speech[:CLIP_SAMPLES]
    x = np.zeros(CLIP_SAMPLES)
    start = int(rng.integers(CLIP_SAMPLES - len(speech) + 1))
    x[start:start + len(speech)] = speech
    noise = rng.standard_normal(CLIP_SAMPLES) if rng.random() < 0.5 else pink_noise(rng, CLIP_SAMPLES)
    snr = rng.uniform(*SNR_DB)
    x = x + noise * np.sqrt(np.mean(speech**2) / 10 ** (snr / 10))
    x *= rng.uniform(*PEAK) / np.abs(x).max()
    return np.clip(np.rint(x * 32768), -32768, 32767).astype(np.int16)


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), 0, 0o644  # mtime 0: the same seed gives the same bytes
    tar.addfile(info, io.BytesIO(data))


def _wav_bytes(samples: np.ndarray) -> bytes:
    buf = io.BytesIO()
    write_wav(buf, samples)
    return buf.getvalue()


def build_standin(out_path: str | Path, words: tuple[str, ...] = KEYWORDS + OTHER_WORDS, clips_per_word: int = CLIPS_PER_WORD,
                  clips_per_other_word: int = CLIPS_PER_OTHER_WORD, seed: int = 0) -> dict:
    """Write the stand-in archive to `out_path` (atomically); return what it holds.

    `clips_per_word` clips of each keyword among `words`, `clips_per_other_word` of every other
    word (the reader needs only 10% of the keyword clips as `_unknown_`). The voices take turns,
    so every word is spoken by every voice about equally often.
    """
    rng = np.random.default_rng(seed)
    voices = speakers()
    order = rng.permutation(len(voices))
    n_test, n_val = round(TEST_SPEAKERS * len(voices)), round(VALIDATION_SPEAKERS * len(voices))
    held_out = {voices[i]: "test" for i in order[:n_test]} | {voices[i]: "validation" for i in order[n_test:n_test + n_val]}
    lists = {"test": [], "validation": []}
    counts = {}
    # gzip's header holds no name or time here, so the archive's bytes depend on the seed alone
    with atomic_path(out_path) as tmp, open(tmp, "wb") as raw, \
            gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as gz, tarfile.open(fileobj=gz, mode="w") as tar:
        for w, word in enumerate(words):
            n = clips_per_word if word in KEYWORDS else clips_per_other_word
            seen: dict[str, int] = {}
            for i in range(n):
                voice = voices[(i + 5 * w) % len(voices)]
                speaker = voice.replace("+", "-")
                name = f"{word}/{speaker}_nohash_{seen.get(speaker, 0)}.wav"
                seen[speaker] = seen.get(speaker, 0) + 1
                _add(tar, name, _wav_bytes(clip(rng, word, voice)))
                if voice in held_out:
                    lists[held_out[voice]].append(name)
            counts[word] = n
        for name, x in noise_recordings(rng).items():
            _add(tar, f"{NOISE_DIR}/{name}.wav", _wav_bytes(np.rint(x * 32767).astype(np.int16)))
        for split, file in (("validation", "validation_list.txt"), ("test", "testing_list.txt")):
            _add(tar, file, "".join(f"{n}\n" for n in lists[split]).encode())
    return {"clips": counts, "voices": len(voices), "test_voices": sorted(v for v, s in held_out.items() if s == "test"),
            "validation_voices": sorted(v for v, s in held_out.items() if s == "validation")}


STANDIN_FILE = "speech_standin.tar.gz"
_N_TEST, _N_VAL = round(TEST_SPEAKERS * len(speakers())), round(VALIDATION_SPEAKERS * len(speakers()))
SPEECH_STANDIN = register_archive(
    "speech_standin", "synthetic spoken commands (espeak-ng)",
    # Not downloaded: the workflow builds it with build_standin's defaults (its RemoteFile.build, run by the download rule).
    RemoteFile(STANDIN_FILE, "", None, build="tinyscale.datasets.speech_standin:build_standin"),
    train_size=504,  # the defaults: 420 keyword clips by the training voices, + 42 unknown + 42 silence
    description=(
        r"A synthetic stand-in for Google Speech Commands~\citep{warden2018speech}, for the quick build: the ten "
        rf"keywords (yes, no, up, down, left, right, on, off, stop, go; {CLIPS_PER_WORD} clips each) and ten other "
        rf"words ({CLIPS_PER_OTHER_WORD} clips each) spoken by the espeak-ng speech synthesiser in {len(speakers())} voices ({len(ACCENTS)} "
        rf"English accents $\times$ {len(VARIANTS)} voice variants) at random speeds and pitches, each placed at a "
        r"random offset in a 1-s clip at 16~kHz and mixed with white or pink noise at "
        rf"{SNR_DB[0]:.0f}--{SNR_DB[1]:.0f}~dB SNR. {_N_TEST} voices are held out for the test set and {_N_VAL} more "
        r"are not used, so no test voice is heard in training. The task is Speech Commands' 12 classes: the "
        r"keywords, \emph{unknown} (10\% of a split's keyword clips, drawn from the other words) and "
        r"\emph{silence} (as many 1-s crops of synthetic white, pink and brown noise and mains hum at a random "
        r"volume); each clip becomes a $40\times98$ log-mel spectrogram (30-ms windows every 10~ms, 40 HTK mel "
        r"bands from 20~Hz to 8~kHz) quantised to 8 bits over $-90$ to $+45$~dB. Its numbers are not Speech "
        r"Commands'."
    ),
)

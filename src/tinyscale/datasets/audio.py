"""Audio for keyword spotting: 16-bit PCM WAV decoding and log-mel features quantised to uint8.

The features are computed once, when a dataset is prepared, so training sees uint8 "images" of
1×F×T like any other dataset. Everything is numpy in float64, so that the prepared file does not
depend on an FFT library's float32 rounding.

Settings (a log-mel version of Warden 2018's and Hello Edge's 30-40 ms windows, 10-20 ms hops):
  16 kHz audio, 1 s clips (16,000 samples, zero-padded or cropped at the end);
  a 30 ms periodic Hann window (480 samples) every 10 ms (160 samples), no padding at the edges:
  T = 1 + (16000 − 480) // 160 = 98 frames; a 512-point FFT (the window zero-padded);
  power spectrum |X|² of the signal in [−1, 1); 40 triangular mel bands, HTK mel scale
  (mel = 2595·log10(1 + f/700)), 20 Hz to 8 kHz, peak weight 1 (no area normalisation);
  10·log10 of each band's power, clipped to DB_RANGE and mapped linearly onto 0..255.
"""

from __future__ import annotations

import io
import wave
from pathlib import Path

import numpy as np

SAMPLE_RATE = 16_000
CLIP_SAMPLES = SAMPLE_RATE  # 1 s
WINDOW = 480  # 30 ms
HOP = 160  # 10 ms
N_FFT = 512  # the next power of two above the window
N_MELS = 40
F_MIN, F_MAX = 20.0, 8_000.0
# The fixed dB range the features are quantised over (135 dB in 255 steps: 0.53 dB a step).
# The top: a full-scale sine puts at most 43.6 dB into one band (its power over the positive
# bins is 512·Σw²/4 = 23,040), so +45 dB clips nothing a 16-bit file can hold. The bottom: the
# rounding noise of 16-bit audio is −78 dB in a one-bin band (σ²·Σw², σ² = 2^-30/12), so −90 dB
# keeps it. Digital silence (and anything below −90 dB) is code 0.
DB_RANGE = (-90.0, 45.0)
POWER_FLOOR = 1e-20  # log10(0) guard; far below DB_RANGE's bottom
N_FRAMES = 1 + (CLIP_SAMPLES - WINDOW) // HOP  # 98


def read_wav(data: bytes | str | Path, name: str = "") -> np.ndarray:
    """Samples of a 16 kHz mono 16-bit PCM WAV (bytes or a path) as int16; ValueError naming
    `name` (or the path) and what the file is when it is anything else."""
    label = name or str(data if not isinstance(data, bytes) else "WAV data")
    src = io.BytesIO(data) if isinstance(data, bytes) else str(data)
    try:
        with wave.open(src, "rb") as w:
            rate, channels, width, n = w.getframerate(), w.getnchannels(), w.getsampwidth(), w.getnframes()
            raw = w.readframes(n)
    except (wave.Error, EOFError) as exc:
        raise ValueError(f"{label} is not a readable PCM WAV file ({exc})") from exc
    if (rate, channels, width) != (SAMPLE_RATE, 1, 2):
        raise ValueError(f"{label} is {rate} Hz, {channels} channel(s), {8 * width}-bit; "
                         f"keyword-spotting clips must be {SAMPLE_RATE} Hz mono 16-bit PCM")
    return np.frombuffer(raw, dtype="<i2", count=len(raw) // 2).astype(np.int16)


def write_wav(path_or_file, samples: np.ndarray) -> None:
    """Write int16 samples as a 16 kHz mono 16-bit PCM WAV."""
    with wave.open(path_or_file if not isinstance(path_or_file, Path) else str(path_or_file), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(np.asarray(samples, dtype="<i2").tobytes())


def fit_clip(samples: np.ndarray, length: int = CLIP_SAMPLES) -> np.ndarray:
    """Zero-pad at the end or crop to `length` samples (Warden 2018's decode_wav does the same)."""
    out = np.zeros(length, dtype=samples.dtype)
    n = min(length, len(samples))
    out[:n] = samples[:n]
    return out


def hz_to_mel(f):
    return 2595.0 * np.log10(1.0 + np.asarray(f, dtype=np.float64) / 700.0)


def mel_to_hz(m):
    return 700.0 * (10.0 ** (np.asarray(m, dtype=np.float64) / 2595.0) - 1.0)


def mel_filterbank(n_mels: int = N_MELS, n_fft: int = N_FFT, sample_rate: int = SAMPLE_RATE,
                   f_min: float = F_MIN, f_max: float = F_MAX) -> np.ndarray:
    """(n_mels, n_fft//2 + 1) triangular filters on the HTK mel scale, peak weight 1.

    Filter m rises from edge m to 1 at edge m+1 and falls to 0 at edge m+2, the n_mels + 2 edges
    equally spaced in mel from f_min to f_max; between the first and the last centre the filters
    sum to 1 at every frequency.
    """
    edges = mel_to_hz(np.linspace(hz_to_mel(f_min), hz_to_mel(f_max), n_mels + 2))
    freqs = np.arange(n_fft // 2 + 1) * sample_rate / n_fft
    lo, mid, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rise, fall = (freqs - lo) / (mid - lo), (hi - freqs) / (hi - mid)
    return np.maximum(0.0, np.minimum(rise, fall))


def mel_centres(n_mels: int = N_MELS, f_min: float = F_MIN, f_max: float = F_MAX) -> np.ndarray:
    """Each filter's centre frequency (Hz)."""
    return mel_to_hz(np.linspace(hz_to_mel(f_min), hz_to_mel(f_max), n_mels + 2))[1:-1]


def _hann(n: int) -> np.ndarray:
    return 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n)  # periodic, as STFTs use it


def log_mel(samples: np.ndarray) -> np.ndarray:
    """dB log-mel power of clips: (..., CLIP_SAMPLES) int16 or float in [−1, 1) → (..., N_MELS, N_FRAMES).

    int16 input is scaled by 1/32768. Band m at frame t is 10·log10(Σ_k fb[m, k]·|X_t[k]|²),
    X_t the 512-point FFT of the Hann-windowed frame t (samples t·HOP … t·HOP + WINDOW − 1).
    """
    x = np.asarray(samples)
    x = x / 32768.0 if x.dtype == np.int16 else x.astype(np.float64)
    if x.shape[-1] != CLIP_SAMPLES:
        raise ValueError(f"log_mel needs clips of {CLIP_SAMPLES} samples, got {x.shape[-1]} (use fit_clip)")
    starts = np.arange(N_FRAMES) * HOP
    frames = x[..., starts[:, None] + np.arange(WINDOW)] * _hann(WINDOW)  # (..., T, WINDOW)
    power = np.abs(np.fft.rfft(frames, n=N_FFT, axis=-1)) ** 2  # (..., T, N_FFT//2 + 1)
    mel = power @ mel_filterbank().T  # (..., T, N_MELS)
    return np.swapaxes(10.0 * np.log10(np.maximum(mel, POWER_FLOOR)), -1, -2)


def quantise_db(db: np.ndarray, db_range: tuple[float, float] = DB_RANGE) -> np.ndarray:
    """Map dB values linearly from db_range onto 0..255 (clipped, rounded to the nearest code)."""
    lo, hi = db_range
    return np.rint((np.clip(db, lo, hi) - lo) * (255.0 / (hi - lo))).astype(np.uint8)


def features(clips: np.ndarray, chunk: int = 256) -> np.ndarray:
    """uint8 N×1×N_MELS×N_FRAMES features of N int16 clips of CLIP_SAMPLES, in chunks (memory)."""
    out = np.empty((len(clips), 1, N_MELS, N_FRAMES), dtype=np.uint8)
    for i in range(0, len(clips), chunk):
        out[i:i + chunk, 0] = quantise_db(log_mel(clips[i:i + chunk]))
    return out

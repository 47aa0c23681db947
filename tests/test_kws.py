"""Keyword spotting: the log-mel features on hand-checkable signals, the Speech Commands reader on
small archives in the official layout (through the real `prepare`), the espeak-ng stand-in, and
the DS-CNN family with its quantised storage and compute counted by hand."""

import io
import math
import shutil
import tarfile
import wave

import numpy as np
import pytest
import torch

from tinyscale import datasets, quant
from tinyscale.datasets import audio, prepare
from tinyscale.datasets.speech_commands import CLASSES, KEYWORDS
from tinyscale.families import build_model, count_params
from tinyscale.io import CorruptFile

SR = audio.SAMPLE_RATE
ARCHIVE = "speech_commands_v0.02.tar.gz"


def tone(freq: float, n: int = SR, amplitude: float = 0.5) -> np.ndarray:
    return amplitude * np.sin(2 * np.pi * freq * np.arange(n) / SR)


def to_int16(x: np.ndarray) -> np.ndarray:
    return np.rint(x * 32767).astype(np.int16)


# ---------------------------------------------------------------------------------------------
# Features


def test_htk_mel_scale():
    assert audio.hz_to_mel(700.0) == pytest.approx(2595 * math.log10(2))  # mel = 2595·log10(1 + f/700)
    assert audio.hz_to_mel(1000.0) == pytest.approx(1000.0, abs=0.1)  # HTK's scale puts 1 kHz near 1000 mel
    f = np.array([20.0, 440.0, 8000.0])
    assert np.allclose(audio.mel_to_hz(audio.hz_to_mel(f)), f)


def test_filterbank_shape_peaks_and_partition_of_unity():
    fb = audio.mel_filterbank()
    assert fb.shape == (40, 257) and fb.min() == 0.0 and fb.max() <= 1.0
    assert (fb.sum(axis=1) > 0).all()  # no empty band at 512 points
    freqs = np.arange(257) * SR / 512
    centres = audio.mel_centres()
    assert np.all(np.diff(centres) > 0) and 20 < centres[0] < centres[-1] < 8000
    inner = (freqs >= centres[0]) & (freqs <= centres[-1])
    assert np.allclose(fb[:, inner].sum(axis=0), 1.0)  # neighbouring triangles cross at one half
    assert (fb[:, freqs < 20].sum(axis=0) == 0).all()  # nothing below f_min


@pytest.mark.parametrize("band", [3, 12, 25, 36])
def test_a_pure_tone_lands_in_its_mel_band(band):
    freq = audio.mel_centres()[band]
    db = audio.log_mel(to_int16(tone(freq)))
    assert db.shape == (40, 98)
    assert set(np.argmax(db, axis=0)) == {band}  # in every frame


def test_level_time_and_silence():
    x = tone(1000.0, amplitude=0.25)
    db1, db2 = audio.log_mel(x), audio.log_mel(2 * x)
    assert np.allclose(db2 - db1, 20 * math.log10(2))  # power: twice the amplitude is +6.02 dB everywhere
    silent = audio.log_mel(np.zeros(SR, dtype=np.int16))
    assert audio.quantise_db(silent).max() == 0  # digital silence is the floor code
    # a tone starting at sample 8000: frame t covers 160·t … 160·t + 479 (30-ms window, 10-ms hop)
    half = np.concatenate([np.zeros(8000), tone(1000.0, 8000)])
    codes = audio.quantise_db(audio.log_mel(half))
    assert codes[:, :48].max() == 0 and codes[:, 48].max() > 0  # frame 47 ends at 7999, frame 48 reaches 8000
    full = audio.quantise_db(audio.log_mel(tone(audio.mel_centres()[20], amplitude=1.0)))
    assert 200 < full.max() < 255  # a full-scale tone fits under the range's top (+45 dB) without clipping


def test_quantise_over_the_fixed_db_range():
    lo, hi = audio.DB_RANGE
    codes = audio.quantise_db(np.array([lo - 10, lo, (lo + hi) / 2, hi, hi + 10, lo + (hi - lo) / 255]))
    assert codes.dtype == np.uint8 and list(codes) == [0, 0, 128, 255, 255, 1]


def test_fit_clip_pads_and_crops_at_the_end():
    x = np.arange(1, 11, dtype=np.int16)
    assert list(audio.fit_clip(x, 4)) == [1, 2, 3, 4] and list(audio.fit_clip(x, 12)) == [*range(1, 11), 0, 0]
    with pytest.raises(ValueError, match="16000 samples"):
        audio.log_mel(np.zeros(8000))


# ---------------------------------------------------------------------------------------------
# Archives in the official layout


def wav_bytes(samples: np.ndarray, rate: int = SR, channels: int = 1, width: int = 2) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())
    return buf.getvalue()


def add(tar, name, data: bytes):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


OTHER = ("bed", "cat")
TRAIN_TONE, TEST_TONE = 500.0, 3000.0  # the noise files: one tone in their first 80%, another in the rest


def make_speech_archive(path, prefix: str = "", skip=(), replace=None) -> dict[str, np.ndarray]:
    """A tiny Speech Commands archive; returns every clip written, by its `word/file.wav` name.

    Keywords: speakers s0-s2 train, s3 validation, s4 test (30 / 10 / 10 clips); other words bed and
    cat: speakers t0-t6 train, t7-t8 validation, t9 test; each keyword a tone in its own mel band
    plus a little noise of its own. Two background-noise files of 6 s. `skip`: members left out;
    `replace`: {name: bytes} written instead.
    """
    rng = np.random.default_rng(1)
    centres = audio.mel_centres()
    clips, lists = {}, {"validation_list.txt": [], "testing_list.txt": []}
    for w, word in enumerate(KEYWORDS + OTHER):
        speakers = [f"s{i}" for i in range(5)] if word in KEYWORDS else [f"t{i}" for i in range(10)]
        for s in speakers:
            name = f"{word}/{s}_nohash_0.wav"
            clips[name] = to_int16(tone(centres[2 + 3 * w], n=SR if s != "s2" else 12_000) + 0.01 * rng.standard_normal(
                SR if s != "s2" else 12_000))  # s2's clips are 0.75 s: padded
            if s in ("s3", "t7", "t8"):
                lists["validation_list.txt"].append(name)
            if s in ("s4", "t9"):
                lists["testing_list.txt"].append(name)
    noise = {}
    for i, name in enumerate(("white_noise.wav", "running_tap.wav")):
        n = 6 * SR
        cut = int(0.8 * n)
        noise[f"_background_noise_/{name}"] = to_int16(np.concatenate([tone(TRAIN_TONE, cut), tone(TEST_TONE, n - cut)])
                                                       + 0.01 * (i + 1) * rng.standard_normal(n))
    replace = replace or {}
    with tarfile.open(path, "w:gz") as tar:
        for name, x in {**clips, **noise}.items():
            if name not in skip:
                add(tar, prefix + name, replace.get(name, wav_bytes(x)))
        add(tar, prefix + "_background_noise_/README.md", b"noise\n")
        for name, entries in lists.items():
            if name not in skip:
                add(tar, prefix + name, "".join(f"{e}\n" for e in entries).encode())
        add(tar, prefix + "LICENSE", b"CC-BY-4.0\n")
    return clips


def read(path, seed: int = 0):
    return prepare({"dataset": "speech_commands", "split_seed": seed, "verify_md5": False}, {ARCHIVE: path})


def expected(clips, names):
    return audio.features(np.stack([audio.fit_clip(clips[n]) for n in names]))


def band_of(x: np.ndarray) -> int:
    """The mel band that holds most of an example's energy."""
    return int(np.argmax(x[0].astype(int).sum(axis=1)))


@pytest.mark.parametrize("prefix", ["", "./", "speech_commands_v0.02/"])
def test_reads_the_official_layout_into_the_12_class_task(tmp_path, prefix):
    path = tmp_path / ARCHIVE
    clips = make_speech_archive(path, prefix)
    ds = read(path)
    assert ds.classes == list(CLASSES) == [*KEYWORDS, "_silence_", "_unknown_"] and ds.num_classes == 12
    assert ds.train_x.shape == (30 + 3 + 3, 1, 40, 98) and ds.train_x.dtype == np.uint8  # + ceil(10%) each
    assert ds.test_x.shape == (10 + 1 + 1, 1, 40, 98) and ds.train_y.dtype == np.int64
    assert datasets.get("speech_commands").image_shape == ds.train_x.shape[1:]
    assert datasets.get("speech_commands").task == "keyword_spotting"
    # training: the clips in neither list (s0-s2); test: the testing list (s4); s3 (validation) nowhere
    train_kw = sorted(n for n in clips if n.split("/")[0] in KEYWORDS and n.split("/")[1][:2] in ("s0", "s1", "s2"))
    test_kw = sorted(n for n in clips if n.split("/")[0] in KEYWORDS and n.startswith(tuple(f"{k}/s4" for k in KEYWORDS)))
    assert np.array_equal(ds.train_x[:30], expected(clips, train_kw))
    assert np.array_equal(ds.test_x[:10], expected(clips, test_kw))
    assert list(ds.train_y[:30]) == [KEYWORDS.index(n.split("/")[0]) for n in train_kw]
    assert list(ds.test_y[:10]) == [KEYWORDS.index(n.split("/")[0]) for n in test_kw]
    for x, y in zip(ds.train_x[:30], ds.train_y[:30]):  # each keyword is the tone of its own band
        assert band_of(x) == 2 + 3 * y
    # unknown: 3 distinct training clips of the other words, 1 test clip of theirs
    unknown_train = {n for n in clips if n.split("/")[0] in OTHER and n.split("/")[1][:2] in {f"t{i}" for i in range(7)}}
    got = [x for x, y in zip(ds.train_x, ds.train_y) if y == CLASSES.index("_unknown_")]
    matches = [[n for n in unknown_train if np.array_equal(x, expected(clips, [n])[0])] for x in got]
    assert len(got) == 3 and all(len(m) == 1 for m in matches) and len({m[0] for m in matches}) == 3
    test_unknown = ds.test_x[ds.test_y == CLASSES.index("_unknown_")]
    assert len(test_unknown) == 1 and any(np.array_equal(test_unknown[0], expected(clips, [f"{w}/t9_nohash_0.wav"])[0])
                                          for w in OTHER)
    # silence: crops of the noise files, training ones from their first 80%, test ones from the rest
    silence = CLASSES.index("_silence_")
    bands = audio.mel_centres()
    train_band, test_band = (int(np.argmin(abs(bands - f))) for f in (TRAIN_TONE, TEST_TONE))
    assert [band_of(x) for x in ds.train_x[ds.train_y == silence]] == [train_band] * 3
    assert [band_of(x) for x in ds.test_x[ds.test_y == silence]] == [test_band]
    assert ds.mean.shape == (1,) and ds.std.shape == (1,)


def test_a_short_clip_is_padded_with_silence(tmp_path):
    path = tmp_path / ARCHIVE
    make_speech_archive(path)
    ds = read(path)
    padded = ds.train_x[2]  # down/s2: 12,000 samples of tone, then zeros (sorted: down/s0, down/s1, down/s2)
    # frames that start at or after 12,000 (t ≥ 75) hold zeros only
    assert padded[0, :, 75:].max() == 0 and padded[0, :, 72].max() > 0


def test_the_split_seed_decides_the_draws_and_nothing_else(tmp_path):
    path = tmp_path / ARCHIVE
    make_speech_archive(path)
    a, b, c = read(path, 0), read(path, 0), read(path, 7)
    for key in ("train_x", "train_y", "test_x", "test_y"):
        assert np.array_equal(getattr(a, key), getattr(b, key))
    assert np.array_equal(a.train_x[:30], c.train_x[:30]) and np.array_equal(a.train_y, c.train_y)
    assert not np.array_equal(a.train_x[30:], c.train_x[30:])  # other unknown clips, other noise crops


def test_missing_list_file_is_named(tmp_path):
    path = tmp_path / ARCHIVE
    make_speech_archive(path, skip={"testing_list.txt"})
    with pytest.raises(CorruptFile, match=rf"{ARCHIVE}: has no testing_list.txt"):
        read(path)


@pytest.mark.parametrize("rate,channels,width,what", [(8000, 1, 2, "8000 Hz, 1 channel"), (SR, 2, 2, "2 channel"),
                                                      (SR, 1, 1, "8-bit")])
def test_a_wav_that_is_not_16khz_mono_16bit_is_named(tmp_path, rate, channels, width, what):
    path = tmp_path / ARCHIVE
    bad = np.zeros(rate * channels, dtype=np.int16 if width == 2 else np.uint8)
    make_speech_archive(path, replace={"left/s0_nohash_0.wav": wav_bytes(bad, rate, channels, width)})
    with pytest.raises(CorruptFile, match=rf"left/s0_nohash_0.wav in .*{ARCHIVE} is .*{what}.*16000 Hz mono 16-bit"):
        read(path)


def test_a_file_that_is_not_a_wav_is_named(tmp_path):
    path = tmp_path / ARCHIVE
    make_speech_archive(path, replace={"go/s1_nohash_0.wav": b"<html>not a wav</html>"})
    with pytest.raises(CorruptFile, match=r"go/s1_nohash_0.wav in .* is not a readable PCM WAV"):
        read(path)


@pytest.mark.parametrize("damage", ["truncated", "not gzip"])
def test_a_broken_archive_is_named(tmp_path, damage):
    path = tmp_path / ARCHIVE
    make_speech_archive(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2] if damage == "truncated" else b"<html>404</html>")
    with pytest.raises(CorruptFile, match=rf"{ARCHIVE}: not a readable Speech Commands .tar.gz archive.*download"):
        read(path)


def test_too_few_other_word_clips_for_the_unknown_class(tmp_path):
    path = tmp_path / ARCHIVE
    make_speech_archive(path, skip={"bed/t9_nohash_0.wav", "cat/t9_nohash_0.wav"})
    with pytest.raises(CorruptFile, match=r"has 0 test other-word clips; the protocol needs 1"):
        read(path)


def test_short_background_noise_is_named(tmp_path):
    path = tmp_path / ARCHIVE
    make_speech_archive(path, replace={"_background_noise_/running_tap.wav": wav_bytes(np.zeros(SR, np.int16))})
    with pytest.raises(CorruptFile, match=r"running_tap.wav has 16000 samples; a background-noise file needs at least"):
        read(path)


# ---------------------------------------------------------------------------------------------
# The espeak-ng stand-in


needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None,
                                  reason="espeak-ng is not installed (Debian: apt-get install espeak-ng; setup.sh does)")


@needs_espeak
def test_standin_is_the_official_layout_split_by_voice(tmp_path):
    from tinyscale.datasets.speech_standin import STANDIN_FILE, build_standin

    path = tmp_path / STANDIN_FILE
    info = build_standin(path)  # the registered defaults, as the workflow builds it
    with tarfile.open(path) as tar:
        names = [m.name for m in tar.getmembers()]
        lists = {f: set(tar.extractfile(f).read().decode().split()) for f in ("validation_list.txt", "testing_list.txt")}
        with wave.open(tar.extractfile("yes/" + next(n.split("/")[1] for n in names if n.startswith("yes/")))) as w:
            assert (w.getframerate(), w.getnchannels(), w.getsampwidth(), w.getnframes()) == (SR, 1, 2, SR)
    words = {n.split("/")[0] for n in names if "/" in n}
    assert words >= set(KEYWORDS) | {"_background_noise_"} and len([n for n in names if n.startswith("yes/")]) == 60
    assert info["voices"] == 36 and len(info["test_voices"]) == 7 and len(info["validation_voices"]) == 4  # as described
    speaker = lambda n: n.split("/")[1].split("_nohash_")[0]  # noqa: E731  (the voice, + written as -)
    voices = {split: {v.replace("+", "-") for v in info[f"{split}_voices"]} for split in ("test", "validation")}
    assert {speaker(n) for n in lists["testing_list.txt"]} == voices["test"]
    assert {speaker(n) for n in lists["validation_list.txt"]} == voices["validation"]
    train = [n for n in names if n.endswith(".wav") and "_background_noise_" not in n
             and n not in lists["testing_list.txt"] | lists["validation_list.txt"]]
    assert not {speaker(n) for n in train} & voices["test"]  # test voices are never heard in training
    ds = prepare({"dataset": "speech_standin", "split_seed": 0, "verify_md5": False}, {STANDIN_FILE: path})
    n_kw = sum(1 for n in train if n.split("/")[0] in KEYWORDS)
    assert len(ds.train_y) == n_kw + 2 * math.ceil(n_kw / 10) == datasets.get("speech_standin").train_size
    assert ds.train_x.shape[1:] == (1, 40, 98) and set(ds.train_y) == set(range(12)) == set(ds.test_y)


@needs_espeak
def test_standin_bytes_depend_on_the_seed_alone(tmp_path):
    from tinyscale.datasets.speech_standin import build_standin

    small = dict(words=("yes", "no", "bed"), clips_per_word=3, clips_per_other_word=2)
    a, b, c = (build_standin(tmp_path / f"{n}.tar.gz", **small, seed=s) for n, s in (("a", 3), ("b", 3), ("c", 4)))
    assert (tmp_path / "a.tar.gz").read_bytes() == (tmp_path / "b.tar.gz").read_bytes()
    assert (tmp_path / "a.tar.gz").read_bytes() != (tmp_path / "c.tar.gz").read_bytes()
    assert a["clips"] == {"yes": 3, "no": 3, "bed": 2}


def test_standin_without_espeak_is_a_clear_error(monkeypatch):
    from tinyscale.datasets import speech_standin

    monkeypatch.setattr(speech_standin.shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match="espeak-ng is not installed .*apt-get install espeak-ng"):
        speech_standin.speak("yes", "en-us+f3", 175, 50)


# ---------------------------------------------------------------------------------------------
# DS-CNN


def dscnn_params(k, depth, classes, channels=1):
    stem = 40 * k * channels + 2 * k  # 10×4 conv (no bias) + BN
    block = 9 * k + 2 * k + k * k + 2 * k  # depthwise 3×3 + BN + pointwise 1×1 + BN
    return stem + depth * block + k * classes + classes


def test_dscnn_parameters_by_hand():
    assert count_params(build_model("dscnn", 64, 12, input_shape=(1, 40, 98))) == 23_180
    assert count_params(build_model("dscnn", 8, 12, input_shape=(1, 40, 98), options={"depth": 1})) == 612
    for k, depth, classes in [(16, 2, 12), (33, 5, 35), (4, 0, 3)]:
        m = build_model("dscnn", k, classes, input_shape=(1, 40, 98), options={"depth": depth})
        assert count_params(m) == dscnn_params(k, depth, classes)
    m = build_model("dscnn", 8, 12, input_shape=(1, 40, 98))
    assert m(torch.zeros(2, 1, 40, 98)).shape == (2, 12) and m.stem(torch.zeros(1, 1, 40, 98)).shape == (1, 8, 20, 49)
    assert len(m.blocks) == 4  # the family's default depth


def test_dscnn_options_and_input_shape_are_checked():
    with pytest.raises(ValueError, match="no option.*'widht'.*its options: depth"):
        build_model("dscnn", 8, 12, input_shape=(1, 40, 98), options={"widht": 2})
    with pytest.raises(ValueError, match="pass input_shape"):
        build_model("dscnn", 8, 12)


def test_quant_counts_depthwise_convolutions_by_hand():
    torch.manual_seed(0)
    model = build_model("dscnn", 8, 12, input_shape=(1, 40, 98), options={"depth": 1})
    x = torch.randn(4, 1, 40, 98)
    model.eval()
    with torch.no_grad():
        float_out = model(x)
    q = quant.quantize_model(model, 2, 8)
    dw = q.blocks[0][0]
    assert isinstance(dw, quant.QuantConv2d) and dw.groups == 8 and dw.weight.shape == (8, 1, 3, 3)
    # stem 20·49·8·(10·4) + depthwise 20·49·8·9 + pointwise 20·49·8·8 + head 8·12
    shape = (1, 40, 98)
    assert quant.macs(q, shape) == 313_600 + 70_560 + 62_720 + 96
    # the largest layer: the depthwise conv's 8×20×49 input plus its output, 4 bytes each at 32 bits
    assert quant.peak_activation_bytes(q, shape) == 2 * 7_840 * 4 and quant.peak_activation_bytes(q, shape, 8) == 15_680
    quantizers = [m for m in q.modules() if isinstance(m, quant.LSQQuantizer)]
    for m in quantizers:  # with the quantisers off, the quantised depthwise layer computes what the float one did
        m.enabled = False
    with torch.no_grad():
        assert torch.equal(q(x), float_out)
    for m in quantizers:
        m.enabled = True
    q.train()
    q(x)  # initialises the step sizes
    # 552 weights (320 + 72 + 64 + 96) at 2 bits; BN 48, head bias 12 and 4 layers × 2 steps at 32 bits
    assert quant.storage_bits(q) == 552 * 2 + (48 + 12 + 8) * 32
    codes = quant.export_integer_weights(q)["blocks.0.0"]
    assert codes.codes.shape == (8, 1, 3, 3) and codes.codes.abs().max() <= 2

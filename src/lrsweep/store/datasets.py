"""Datasets: registry, sources, checksum verification, decoding, the validation split.

A dataset is a set of files, each verified by a checksum of its *decompressed* bytes
(so a re-gzipped copy verifies too). Files are looked for, in order, in ``LRSWEEP_DATA``,
in the mirror ``LRSWEEP_MIRROR`` and finally at the official URLs (downloaded into
``LRSWEEP_DATA``). Nothing trains on a file that did not verify.
"""
from __future__ import annotations

import functools
import gzip
import hashlib
import io
import pickle
import shutil
import tarfile
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import UsageError
from . import paths

DOWNLOAD_TIMEOUT_S = 15
SPLIT_SALT = "lrsweep-validation-split-v1"


@dataclass(frozen=True)
class DataFile:
    name: str                # file name as stored, e.g. "train-images-idx3-ubyte.gz"
    digest: str              # "sha256:<hex>" or "md5:<hex>"
    decompress: bool = True  # digest is of the gunzipped bytes (source-independent)


@dataclass(frozen=True)
class Dataset:
    name: str
    label: str               # how figures and records name it
    mirror_subdir: str
    files: tuple[DataFile, ...]
    n_valid: int             # images carved from the training set for lr selection
    image_shape: tuple[int, int, int]  # channels, height, width
    num_classes: int = 10
    url: str | None = None   # base URL of the official files, None = mirror only


IDX_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
             "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
GREY_28, RGB_32 = (1, 28, 28), (3, 32, 32)


def _idx(digests: tuple[str, str, str, str]) -> tuple[DataFile, ...]:
    return tuple(DataFile(n, f"sha256:{d}") for n, d in zip(IDX_FILES, digests))


DATASETS: dict[str, Dataset] = {d.name: d for d in [
    Dataset("mnist", "MNIST", "mnist", _idx((
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2")),
        n_valid=10_000, image_shape=GREY_28, url="https://storage.googleapis.com/cvdf-datasets/mnist/"),
    Dataset("fashion_mnist", "Fashion-MNIST", "fashion-mnist", _idx((
        "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34")),
        n_valid=10_000, image_shape=GREY_28, url="http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"),
    # JPEG re-encoding changes pixels: never mix results on it with the official files.
    Dataset("cifar10_jpeg", "CIFAR-10 (JPEG copy)", "cifar10-jpeg", (DataFile(
        "cifar10-jpeg.tar.gz",
        "sha256:9a5c14829b9c6f806e0e25fd9ebde7caa47e19edd12f88269b33b20e0f3b1b3d"),),
        n_valid=5_000, image_shape=RGB_32),
    Dataset("cifar10", "CIFAR-10", "cifar10", (DataFile(
        "cifar-10-python.tar.gz", "md5:c58f30108f718f92721af3b95e74349a", decompress=False),),
        n_valid=5_000, image_shape=RGB_32, url="https://www.cs.toronto.edu/~kriz/"),
]}


def get(name: str) -> Dataset:
    if name not in DATASETS:
        raise UsageError(f"unknown dataset {name!r}; allowed: {', '.join(DATASETS)}")
    return DATASETS[name]


# --------------------------------------------------------------------------- sources

def _candidate_dirs(ds: Dataset) -> list[tuple[str, Path]]:
    dirs = [("data dir", paths.data_dir() / ds.mirror_subdir)]
    mirror = paths.mirror_dir()
    if mirror is not None:
        dirs.append(("mirror", mirror / ds.mirror_subdir))
    return dirs


def checksum(path: Path, f: DataFile) -> str:
    algo, _ = f.digest.split(":")
    h = hashlib.new(algo)
    opener = gzip.open if f.decompress else open
    with opener(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return f"{algo}:{h.hexdigest()}"


@dataclass
class Located:
    dataset: Dataset
    source: str                      # "data dir", "mirror" or "missing"
    directory: Path | None
    errors: list[str] = field(default_factory=list)  # what is wrong with the files found

    @property
    def ok(self) -> bool:
        return self.directory is not None and not self.errors


def verify(name: str) -> Located:
    """Find the first source holding every file of the dataset and check all checksums."""
    ds = get(name)
    for source, d in _candidate_dirs(ds):
        if all((d / f.name).is_file() for f in ds.files):
            loc = Located(ds, source, d)
            for f in ds.files:
                try:
                    actual = checksum(d / f.name, f)
                except (OSError, EOFError, gzip.BadGzipFile) as e:
                    actual = f"unreadable ({e})"
                if actual != f.digest:
                    loc.errors.append(
                        f"{d / f.name}: checksum mismatch, expected {f.digest}, got {actual}")
            return loc
    missing = [f.name for f in ds.files]
    where = " or ".join(str(d) for _, d in _candidate_dirs(ds))
    return Located(ds, "missing", None, [f"{name}: files {', '.join(missing)} not found in {where}"])


def fetch(name: str) -> Located:
    """Verify the dataset, downloading it into ``LRSWEEP_DATA`` if no local source has it."""
    loc = verify(name)
    if loc.source != "missing":
        return loc
    ds = loc.dataset
    if ds.url is None:
        raise UsageError(f"{name}: not found locally and it has no download source; "
                         f"set LRSWEEP_MIRROR to a folder holding {ds.mirror_subdir}/")
    target = paths.data_dir() / ds.mirror_subdir
    for f in ds.files:
        url = ds.url + f.name
        try:
            with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as r, \
                    paths.atomic_file(target / f.name, "wb") as out:
                shutil.copyfileobj(r, out)
        except (urllib.error.URLError, OSError) as e:
            raise UsageError(f"{name}: cannot download {url} ({e}); offline? put the files in "
                             f"{target} or set LRSWEEP_MIRROR") from None
    return verify(name)


def require(name: str) -> Located:
    """Verified location of a dataset, or a UsageError saying exactly what is wrong.
    Verified once per process and file state (path, size, mtime)."""
    return _require(name, _file_state(name))


def _file_state(name: str) -> tuple:
    ds = get(name)
    return tuple((str(d / f.name), st.st_size, st.st_mtime_ns)
                 for _, d in _candidate_dirs(ds) for f in ds.files
                 if (d / f.name).is_file() and (st := (d / f.name).stat()))


@functools.lru_cache(maxsize=16)
def _require(name: str, state: tuple) -> Located:
    loc = fetch(name)
    if not loc.ok:
        raise UsageError("; ".join(loc.errors))
    return loc


# --------------------------------------------------------------------------- readers

def _read_idx(path: Path) -> np.ndarray:
    with gzip.open(path, "rb") as fh:
        raw = fh.read()
    ndim = raw[3]
    dims = np.frombuffer(raw, dtype=">u4", count=ndim, offset=4)
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(tuple(dims))


def _read_idx_dataset(d: Path) -> tuple[np.ndarray, ...]:
    xtr, ytr, xte, yte = (_read_idx(d / f) for f in IDX_FILES)
    return xtr[:, None], ytr, xte[:, None], yte  # NCHW, C=1


def _read_cifar_jpeg(d: Path) -> tuple[np.ndarray, ...]:
    from PIL import Image
    parts: dict[str, list[tuple[str, int, np.ndarray]]] = {"train": [], "test": []}
    with tarfile.open(d / "cifar10-jpeg.tar.gz", "r:gz") as tar:
        members = [m for m in tar.getmembers() if m.isfile() and m.name.endswith(".jpg")]
        classes = sorted({m.name.split("/")[1] for m in members})  # alphabetical = CIFAR order
        for m in members:
            split, cls, _ = m.name.split("/")
            img = Image.open(io.BytesIO(tar.extractfile(m).read())).convert("RGB")
            parts[split].append((m.name, classes.index(cls), np.asarray(img)))
    out = []
    for split in ("train", "test"):
        rows = sorted(parts[split], key=lambda r: r[0])
        out.append(np.stack([r[2] for r in rows]).transpose(0, 3, 1, 2))  # NHWC -> NCHW
        out.append(np.array([r[1] for r in rows], dtype=np.uint8))
    return tuple(out)


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """The official CIFAR-10 python release is pickled; allow only plain numpy arrays."""
    ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
               ("numpy", "ndarray"), ("numpy", "dtype"),
               ("_codecs", "encode")}  # how protocol-2 pickles store raw bytes

    def find_class(self, module, name):
        if (module, name) not in self.ALLOWED:
            raise UsageError(f"refusing to unpickle {module}.{name} from a CIFAR-10 batch file")
        return super().find_class(module, name)


def _read_cifar_python(d: Path) -> tuple[np.ndarray, ...]:
    def batch(tar, member):
        obj = _NumpyOnlyUnpickler(tar.extractfile(member), encoding="bytes").load()
        x = np.asarray(obj[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
        return x, np.asarray(obj[b"labels"], dtype=np.uint8)
    with tarfile.open(d / "cifar-10-python.tar.gz", "r:gz") as tar:
        names = {m.name.rsplit("/", 1)[-1]: m for m in tar.getmembers() if m.isfile()}
        train = [batch(tar, names[f"data_batch_{i}"]) for i in range(1, 6)]
        xte, yte = batch(tar, names["test_batch"])
    return (np.concatenate([x for x, _ in train]), np.concatenate([y for _, y in train]), xte, yte)


READERS = {"mnist": _read_idx_dataset, "fashion_mnist": _read_idx_dataset,
           "cifar10_jpeg": _read_cifar_jpeg, "cifar10": _read_cifar_python}


def decoded(loc: Located) -> tuple[np.ndarray, ...]:
    """Raw uint8 arrays; JPEG/pickle decoding is cached as .npz keyed by the verified checksum."""
    if loc.dataset.name in ("mnist", "fashion_mnist"):
        return READERS[loc.dataset.name](loc.directory)
    key = loc.dataset.files[0].digest.split(":")[1][:16]
    cache = paths.data_dir() / "decoded" / f"{loc.dataset.name}-{key}.npz"
    if cache.is_file():
        with np.load(cache, allow_pickle=False) as z:
            return tuple(z[k] for k in ("xtr", "ytr", "xte", "yte"))
    arrays = READERS[loc.dataset.name](loc.directory)
    with paths.atomic_file(cache, "wb") as fh:  # parallel workers may decode at once
        np.savez(fh, **dict(zip(("xtr", "ytr", "xte", "yte"), arrays)))
    return arrays


# --------------------------------------------------------------------------- splits

def validation_indices(n_train: int, n_valid: int) -> np.ndarray:
    """A fixed pseudo-random subset of the training indices, independent of library
    versions: indices ordered by a keyed hash, first ``n_valid`` taken."""
    keys = [hashlib.blake2b(f"{SPLIT_SALT}:{i}".encode(), digest_size=8).digest()
            for i in range(n_train)]
    order = sorted(range(n_train), key=keys.__getitem__)
    return np.sort(np.array(order[:n_valid], dtype=np.int64))

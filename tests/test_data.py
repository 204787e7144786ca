import gzip
import io
import pickle
import shutil
import tarfile

import numpy as np
import pytest

from lrsweep.engine import data
from lrsweep.store import datasets
from lrsweep.errors import UsageError


@pytest.fixture
def local_mnist(tmp_path, monkeypatch):
    """A private copy of the MNIST files as LRSWEEP_DATA, with no mirror behind it."""
    src = datasets.verify("mnist").directory
    dst = tmp_path / "mnist"
    shutil.copytree(src, dst)
    monkeypatch.setenv("LRSWEEP_DATA", str(tmp_path))
    monkeypatch.setenv("LRSWEEP_MIRROR", str(tmp_path / "no-mirror"))
    return dst


def test_mirror_verifies():
    loc = datasets.verify("mnist")
    assert loc.ok and loc.source in ("mirror", "data dir")


def test_local_copy_verifies_and_is_preferred(local_mnist):
    loc = datasets.verify("mnist")
    assert loc.ok and loc.source == "data dir" and loc.directory == local_mnist


def test_regzipped_file_still_verifies(local_mnist):
    """The checksum is of the decompressed bytes, so a different gzip of the same data passes."""
    f = local_mnist / "t10k-labels-idx1-ubyte.gz"
    raw = gzip.decompress(f.read_bytes())
    f.write_bytes(gzip.compress(raw, compresslevel=1, mtime=0))
    assert datasets.verify("mnist").ok


def test_corrupted_file_is_named_with_both_checksums(local_mnist):
    f = local_mnist / "t10k-labels-idx1-ubyte.gz"
    raw = bytearray(gzip.decompress(f.read_bytes()))
    raw[100] ^= 0xFF
    f.write_bytes(gzip.compress(bytes(raw)))
    loc = datasets.verify("mnist")
    assert not loc.ok
    [problem] = loc.errors
    expected = next(x.digest for x in datasets.DATASETS["mnist"].files if x.name == f.name)
    actual = datasets.checksum(f, datasets.DataFile(f.name, expected))
    assert str(f) in problem and expected in problem and actual in problem and actual != expected
    with pytest.raises(UsageError, match="checksum mismatch"):
        datasets.require("mnist")


def test_missing_file_is_reported(local_mnist, monkeypatch):
    (local_mnist / "train-labels-idx1-ubyte.gz").unlink()
    monkeypatch.setattr(datasets.urllib.request, "urlopen", _offline)
    loc = datasets.verify("mnist")
    assert loc.source == "missing" and "train-labels-idx1-ubyte.gz" in loc.errors[0]
    with pytest.raises(UsageError, match="cannot download"):
        datasets.require("mnist")


def _offline(*args, **kwargs):
    raise datasets.urllib.error.URLError("network unreachable")


def test_unknown_dataset():
    with pytest.raises(UsageError, match="allowed: mnist, fashion_mnist"):
        datasets.get("imagenet")


def test_idx_reader_matches_header():
    s = data.load("mnist")
    assert s.train[0].shape == (50_000, 1, 28, 28) and s.valid[0].shape == (10_000, 1, 28, 28)
    assert s.test[0].shape == (10_000, 1, 28, 28)
    assert 0.0 <= s.train[0].min() and s.train[0].max() <= 1.0
    assert set(s.test[1].unique().tolist()) == set(range(10))


def test_validation_split_is_deterministic_and_disjoint():
    a = datasets.validation_indices(60_000, 10_000)
    b = datasets.validation_indices(60_000, 10_000)
    assert np.array_equal(a, b) and len(np.unique(a)) == 10_000
    assert a.min() >= 0 and a.max() < 60_000
    # spread over the whole training set, not a block at one end
    assert (a < 30_000).mean() == pytest.approx(0.5, abs=0.05)
    s = data.load("mnist")
    n = len(s.train[1]) + len(s.valid[1])
    assert n == 60_000


# ----------------------------------------------------------------- official CIFAR-10 pickles

def _cifar_archive(path, payload=None):
    rng = np.random.default_rng(0)
    with tarfile.open(path, "w:gz") as tar:
        for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
            obj = payload or {b"data": rng.integers(0, 255, (4, 3072), dtype=np.uint8),
                              b"labels": [0, 1, 2, 3]}
            blob = pickle.dumps(obj, protocol=2)
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))


def test_cifar_python_reader_accepts_numpy_batches(tmp_path):
    _cifar_archive(tmp_path / "cifar-10-python.tar.gz")
    xtr, ytr, xte, yte = datasets._read_cifar_python(tmp_path)
    assert xtr.shape == (20, 3, 32, 32) and xte.shape == (4, 3, 32, 32)
    assert ytr.tolist()[:4] == [0, 1, 2, 3]


class _Evil:
    def __reduce__(self):
        return (print, ("pwned",))


def test_cifar_python_reader_refuses_arbitrary_objects(tmp_path, capsys):
    _cifar_archive(tmp_path / "cifar-10-python.tar.gz", payload={b"data": _Evil(), b"labels": []})
    with pytest.raises(UsageError, match=r"refusing to unpickle (__builtin__|builtins)\.print"):
        datasets._read_cifar_python(tmp_path)
    assert "pwned" not in capsys.readouterr().out


def test_deepobs_baselines_verify_and_give_the_best_lr_per_epoch(tmp_path, monkeypatch):
    from lrsweep.stats import deepobs
    curves = deepobs.load()
    assert set(curves["optimizer"]) == {"adam", "momentum_0.99", "sgd"}
    best = deepobs.best_lr_by_epoch(curves).set_index(["problem", "optimizer", "epoch"])
    # against a plain scan of the seed-42 grid at one epoch
    grid = curves[(curves.seed == 42) & (curves.problem == "cifar10_3c3d") &
                  (curves.optimizer == "adam") & (curves.epoch == 100)]
    top = max(zip(grid.test_acc, grid.lr))
    assert best.loc[("cifar10_3c3d", "adam", 100), "lr"] == top[1]
    drift = deepobs.lr_drift(best.reset_index(), 10, 100).set_index(["problem", "optimizer"])
    assert drift.loc[("cifar10_3c3d", "adam"), "lr_end"] == top[1]
    # a damaged copy is refused
    (tmp_path / "deepobs-baselines").mkdir()
    (tmp_path / "deepobs-baselines" / "curves.csv.gz").write_bytes(
        gzip.compress(b"problem,optimizer\n"))
    monkeypatch.setenv("LRSWEEP_MIRROR", str(tmp_path))
    deepobs.load.cache_clear()
    with pytest.raises(UsageError, match="checksum mismatch"):
        deepobs.load()
    deepobs.load.cache_clear()


def test_our_curves_meet_deepobs_at_the_lrs_both_grids_have():
    import pandas as pd

    from lrsweep.stats import deepobs
    theirs = pd.DataFrame([dict(problem="p", optimizer="adam", lr=lr, seed=s, epoch=e, test_acc=0.5 + e / 10)
                           for lr in (1e-4, 1.584893192461114e-4, 1e-3) for s in (42, 43) for e in (0, 1, 2)])
    ours = pd.DataFrame([dict(problem="p", optimizer="adam", lr=lr, seed=s, epoch=e, status=st,
                              test_acc=0.6 + e / 10 + s / 100)
                         for lr, st in ((1e-4, "ok"), (3.16e-4, "ok"), (1e-3, "diverged"))
                         for s in (0, 1) for e in (0, 1)])
    m = deepobs.matched(ours, theirs)
    assert m["lr"].tolist() == [1e-4, 1e-4]  # 3.16e-4 is not on their grid; 1e-3 diverged here
    assert m["test_acc_ours"].tolist() == pytest.approx([0.605, 0.705])  # mean over our seeds
    assert m["test_acc_deepobs"].tolist() == pytest.approx([0.5, 0.6])   # their seed-42 grid only

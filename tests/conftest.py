import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from lrsweep.engine import data, train
from lrsweep.store import paths

# Tests read datasets from the mirror (LRSWEEP_MIRROR or ../shared/data) and never write
# into the project's data cache.
os.environ.setdefault("LRSWEEP_DATA", str(Path(os.environ.get("TMPDIR", "/tmp")) / "lrsweep-test-cache"))


_real_load = data.load


def pytest_configure(config):
    """Under pytest-xdist, a worker's torch takes its share of the cores, not all of them:
    two workers of two threads each on two cores wait on each other in every matmul."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers > 1:
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // workers))


def small_splits(name: str = "mnist", n_train: int = 1024, n_eval: int = 256) -> data.Splits:
    """A real dataset cut down to a few batches, for fast training tests: evenly strided, so
    every class is in it (the CIFAR-10 JPEG copy is stored class by class)."""
    full = _real_load(name)

    def cut(xy, n):
        step = max(1, len(xy[1]) // n)
        return xy[0][::step][:n].contiguous(), xy[1][::step][:n].contiguous()
    return data.Splits(full.dataset, full.source, cut(full.train, n_train),
                       cut(full.valid, n_eval), cut(full.test, n_eval))


@pytest.fixture
def small_data(monkeypatch):
    """Make every run train on small slices of the real datasets."""
    cache = {}

    def load(name):
        if name not in cache:
            cache[name] = small_splits(name)
        return cache[name]
    monkeypatch.setattr(data, "load", load)
    train.device_splits.cache_clear()  # it holds whatever data.load returned before
    yield load
    train.device_splits.cache_clear()


@pytest.fixture(autouse=True)
def _deterministic_threads():
    n = torch.get_num_threads()
    yield
    torch.set_num_threads(n)


def mirror_available() -> bool:
    return paths.mirror_dir() is not None and (paths.mirror_dir() / "mnist").is_dir()


# Tidy tables written by hand, for the statistics tests

def table(rows, problem="p"):
    """Tidy rows from (optimizer, lr, seed, epoch, status, valid_acc, test_acc)."""
    out = []
    for opt, lr, seed, epoch, status, va, ta in rows:
        out.append(dict(problem=problem, optimizer=opt, hparams="h", lr=lr, seed=seed, epoch=epoch,
                        status=status, train_loss=1.0, train_acc=va, valid_loss=1.0,
                        valid_acc=va, test_loss=1.0, test_acc=ta, chance_acc=0.1, n_test=10_000,
                        diverged_epoch=epoch + 1 if status == "diverged" else None,
                        run_id=f"{problem}{opt}{lr}{seed}"))
    return pd.DataFrame(out)


def curve(opt, accs, seeds=(0,), epoch=1, noise=None, test_shift=0.0):
    """One cell: {lr: accuracy}, the same on validation and test (+ optional seed noise)."""
    rng = np.random.default_rng(1)
    return [(opt, lr, s, epoch, "ok", a + (noise * rng.normal() if noise else 0),
             a + test_shift + (noise * rng.normal() if noise else 0))
            for lr, a in accs.items() for s in seeds]

import os
from pathlib import Path

import pytest
import torch

from lrsweep import data, paths, train

# Tests read datasets from the mirror (LRSWEEP_MIRROR or ../shared/data) and never write
# into the project's data cache.
os.environ.setdefault("LRSWEEP_DATA", str(Path(os.environ.get("TMPDIR", "/tmp")) / "lrsweep-test-cache"))


_real_load = data.load


def small_splits(name: str = "mnist", n_train: int = 1024, n_eval: int = 256) -> data.Splits:
    """A real dataset cut down to a few batches, for fast training tests."""
    return _real_load(name).head(n_train, n_eval)


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

"""Datasets in memory: the train/validation/test split as float32 tensors (what trains)."""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import torch

from ..store import datasets


@dataclass
class Splits:
    """Whole dataset in memory as float32 NCHW tensors in [0, 1] and int64 labels."""
    dataset: datasets.Dataset
    source: str
    train: tuple[torch.Tensor, torch.Tensor]
    valid: tuple[torch.Tensor, torch.Tensor]
    test: tuple[torch.Tensor, torch.Tensor]

    def head(self, n_train: int, n_eval: int) -> "Splits":
        """The first images of each split (views, no copy): for benchmarks and tests."""
        cut = lambda xy, n: (xy[0][:n], xy[1][:n])  # noqa: E731
        return Splits(self.dataset, self.source, cut(self.train, n_train),
                      cut(self.valid, n_eval), cut(self.test, n_eval))

    def to(self, device: torch.device) -> "Splits":
        move = lambda xy: (xy[0].to(device), xy[1].to(device))  # noqa: E731
        return Splits(self.dataset, self.source, move(self.train), move(self.valid), move(self.test))

    @property
    def provenance(self) -> dict:
        return {"dataset": self.dataset.name, "label": self.dataset.label, "source": self.source,
                "num_classes": self.dataset.num_classes,
                "checksums": {f.name: f.digest for f in self.dataset.files},
                "split": {"salt": datasets.SPLIT_SALT, "n_train": len(self.train[1]),
                          "n_valid": len(self.valid[1]), "n_test": len(self.test[1])}}


def _tensors(x: np.ndarray, y: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    # Convert in torch so the images always live in torch-allocated memory. Measured: the
    # very same float values in a numpy-allocated buffer gave 2c2d losses that differ in the
    # 7th digit (CPU convolution kernels are not independent of the input buffer).
    x = np.require(x, requirements=["C", "W"])  # IDX arrays are read-only views of the file
    return torch.from_numpy(x).float().div_(255.0), torch.from_numpy(y.astype(np.int64))


@functools.lru_cache(maxsize=4)
def load(name: str) -> Splits:
    loc = datasets.require(name)
    xtr, ytr, xte, yte = datasets.decoded(loc)
    vidx = datasets.validation_indices(len(ytr), loc.dataset.n_valid)
    keep = np.ones(len(ytr), dtype=bool)
    keep[vidx] = False
    return Splits(loc.dataset, loc.source,
                  _tensors(xtr[keep], ytr[keep]), _tensors(xtr[vidx], ytr[vidx]), _tensors(xte, yte))

"""Per-epoch checkpoints of single runs, so a run killed mid-way (a stopped session, a
restarted kernel, kill -9) resumes at its last finished epoch instead of from scratch.

An epoch's batches and augmentation depend only on (seed, epoch) (``train.batch_order``), so
a run resumed from the model and optimizer state after epoch k continues exactly as it
would have: on the same machine, the resumed curves are bit-identical. A checkpoint is
kept (git-ignored, under the data cache) until the sweep's driver has stored the run's
record, so nothing is lost between the two either. Files are read with
``torch.load(weights_only=True)``: tensors, numbers, strings and containers only.
"""
from __future__ import annotations

from pathlib import Path

import torch

from ..store import paths
from ..store.config import ENGINE_VERSION, RunConfig


def directory() -> Path:
    return paths.data_dir() / "checkpoints"


def path(cfg: RunConfig) -> Path:
    return directory() / f"{cfg.run_id}.pt"


def save(cfg: RunConfig, state: dict) -> None:
    """Atomically replace the checkpoint of ``cfg`` with ``state``."""
    with paths.atomic_file(path(cfg), "wb") as fh:
        torch.save({"engine": ENGINE_VERSION, "run_id": cfg.run_id, **state}, fh)


def load(cfg: RunConfig, data: dict, epochs: int) -> dict | None:
    """The checkpoint of ``cfg`` if it was written by this engine on this dataset
    (``data``: the splits' provenance) and has not gone past ``epochs``; else None."""
    p = path(cfg)
    if not p.is_file():
        return None
    try:
        state = torch.load(p, weights_only=True)
    except Exception:  # noqa: BLE001 - a damaged checkpoint only costs the retraining
        return None
    ok = (state.get("engine") == ENGINE_VERSION and state.get("run_id") == cfg.run_id
          and state.get("data") == data and state.get("epoch", epochs + 1) <= epochs)
    return state if ok else None


def remove(cfg: RunConfig) -> None:
    path(cfg).unlink(missing_ok=True)

"""The run store: one immutable JSON record per run, named by its config hash.

Records are written atomically (temporary file + rename in the same directory), so a
killed sweep leaves either a whole record or none, and two sweeps writing the same run
at once leave one whole record. JSON only: nothing in the store is ever unpickled.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pandas as pd

from .config import RunConfig
from .train import METRICS

SCHEMA = 1


def path_for(root: Path, cfg: RunConfig) -> Path:
    return Path(root) / cfg.problem / f"{cfg.run_id}.json"


def read(path: Path) -> dict | None:
    try:
        with open(path) as fh:
            rec = json.load(fh)
    except (OSError, json.JSONDecodeError):
        return None
    return rec if isinstance(rec, dict) and rec.get("schema") == SCHEMA else None


def covers(rec: dict | None, epochs: int) -> bool:
    """Whether a stored record answers a request for ``epochs`` epochs. A divergence is
    final for any budget; a failed run is retried."""
    return rec is not None and extent(rec) >= epochs


def extent(rec: dict) -> float:
    """How many epochs a record answers for: all of them once it diverged, none if it failed."""
    return {"diverged": float("inf"), "failed": -1.0}.get(rec["status"], rec["epochs"])


def lookup(root: Path, cfg: RunConfig, epochs: int) -> dict | None:
    rec = read(path_for(root, cfg))
    return rec if covers(rec, epochs) else None


def write(root: Path, rec: dict) -> Path:
    """Atomically store ``rec`` unless an existing record already covers more."""
    cfg = RunConfig.from_dict(rec["config"])
    target = path_for(root, cfg)
    target.parent.mkdir(parents=True, exist_ok=True)
    old = read(target)
    if old is not None and extent(old) >= extent(rec):
        return target
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{cfg.run_id}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(rec, fh, indent=1, sort_keys=True)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def make(cfg: RunConfig, result: dict, provenance: dict) -> dict:
    return {"schema": SCHEMA, "run_id": cfg.run_id, "config": cfg.to_dict(), **result,
            "provenance": provenance}


def load_all(root: Path) -> list[dict]:
    return [r for p in sorted(Path(root).glob("*/*.json")) if (r := read(p)) is not None]


# --------------------------------------------------------------------------- tidy table

COLUMNS = ["problem", "optimizer", "lr", "seed", "epoch", "status", *METRICS,
           "batch_size", "hparams", "diverged_epoch", "run_id"]


def rows(rec: dict, epochs: int | None = None) -> list[dict]:
    """One row per epoch, truncated to ``epochs``. Status is the run's status within that
    budget: a run that diverged after it is 'ok' for the shorter budget."""
    cfg = RunConfig.from_dict(rec["config"])
    diverged = rec["status"] == "diverged" and (epochs is None or rec["diverged_epoch"] <= epochs)
    status = "diverged" if diverged else ("failed" if rec["status"] == "failed" else "ok")
    c = rec["curves"]
    base = {"problem": cfg.problem, "optimizer": cfg.optimizer, "lr": cfg.lr, "seed": cfg.seed,
            "status": status, "batch_size": cfg.batch_size, "hparams": cfg.hparams_label(),
            "diverged_epoch": rec["diverged_epoch"] if diverged else None, "run_id": cfg.run_id}
    return [{**base, "epoch": e, **{m: c[m][i] for m in METRICS}}
            for i, e in enumerate(c["epoch"]) if epochs is None or e <= epochs]


def tidy(recs: list[dict], epochs: int | None = None) -> pd.DataFrame:
    table = pd.DataFrame([r for rec in recs for r in rows(rec, epochs)], columns=COLUMNS)
    return table.sort_values(["problem", "optimizer", "hparams", "lr", "seed", "epoch"],
                             ignore_index=True)

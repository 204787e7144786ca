"""The run store: one immutable JSON record per run, named by its config hash.

Records are written atomically (temporary file + rename in the same directory), so a
killed sweep leaves either a whole record or none, and two sweeps writing the same run
at once leave one whole record. JSON only: nothing in the store is ever unpickled.
A file that is there but does not read back as a record is an error that names the file;
it is never dropped or silently retrained. This module needs no torch: reading results
(``lrsweep results``, the cite and compute pages) does not load the training stack.
"""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypedDict

import numpy as np
import pandas as pd

from ..errors import UsageError
from .config import RunConfig
from .paths import atomic_file

SCHEMA = 3
READS = (2, 3)  # schema 2: the same record without per-example test predictions
SPLITS = ("train", "valid", "test")
METRICS = tuple(f"{s}_{m}" for s in SPLITS for m in ("loss", "acc"))
STATUSES = ("ok", "diverged", "failed")


def empty_curves() -> dict[str, list]:
    return {"epoch": [], **{m: [] for m in METRICS}}


@dataclass
class Outcome:
    """What training one run produced; both trainers (``train``, ``batched``) fill one in."""
    status: str = "ok"
    diverged_epoch: int | None = None
    message: str | None = None
    curves: dict[str, list] = field(default_factory=empty_curves)  # epoch 0 = before training
    wall_time_s: float = 0.0     # training and evaluation; batched members share it equally
    data: dict = field(default_factory=dict)  # the dataset's provenance (Splits.provenance)
    test_correct: list[str] = field(default_factory=list)  # per logged epoch: pack_correct(...)
    resumed_at: list[int] = field(default_factory=list)    # epochs it was resumed after (checkpoint)

    def log(self, epoch: int, metrics: dict) -> None:
        """One evaluated epoch; ``metrics["test_correct"]`` (bool per test example, in
        test-set order), where given, lets two runs be compared example by example."""
        self.curves["epoch"].append(epoch)
        for m in METRICS:
            self.curves[m].append(metrics[m])
        if (correct := metrics.get("test_correct")) is not None:
            self.test_correct.append(pack_correct(correct))

    def diverge(self, epoch: int, why: str) -> None:
        self.status, self.diverged_epoch, self.message = "diverged", epoch, why

    def fail(self, error: Exception) -> None:
        self.status, self.message = "failed", f"{type(error).__name__}: {error}"


# ------------------------------------------------------------ per-example test predictions
# Whether each test example was classified correctly, one bit each in test-set order
# (numpy.packbits, big-endian bit order), base64 in JSON: 1,250 bytes of bits (1,668
# characters) per evaluated epoch for 10,000 test images, so 68 kB for a 40-epoch run.
# That is all a paired comparison of accuracy needs; reading it needs numpy, not torch.
PREDICTIONS_ENCODING = "test_correct: numpy.packbits (big-endian) of bool per test example, base64"


def pack_correct(correct) -> str:
    return base64.b64encode(np.packbits(np.asarray(correct, dtype=bool)).tobytes()).decode("ascii")


def unpack_correct(packed: str, n: int) -> np.ndarray:
    bits = np.unpackbits(np.frombuffer(base64.b64decode(packed, validate=True), dtype=np.uint8))
    if len(bits) < n or bits[n:].any():
        raise ValueError(f"packed correctness does not hold exactly {n} examples")
    return bits[:n].astype(bool)


def has_predictions(rec: "Record") -> bool:
    return bool(rec.get("predictions"))


def test_correct(rec: "Record", epoch: int) -> np.ndarray:
    """Bool per test example at ``epoch`` (test-set order); KeyError if the record has none
    (schema 2, or a run that diverged before that epoch)."""
    if not has_predictions(rec):
        raise KeyError(f"run {rec['run_id']} stores no per-example test predictions")
    i = rec["curves"]["epoch"].index(epoch)
    return unpack_correct(rec["predictions"]["test_correct"][i], rec["data"]["split"]["n_test"])


class Record(TypedDict):
    """One run as stored (``schema`` 3; schema 2 lacks ``predictions``). ``epochs`` is what was trained: the ``budget``
    asked for, or fewer once the run diverged (or failed). ``engine`` states what the code
    fixed for every run: its version, the lr schedule and the divergence rule."""
    schema: int
    run_id: str
    config: dict
    budget: int
    epochs: int
    status: str
    diverged_epoch: int | None
    message: str | None
    curves: dict[str, list]
    wall_time_s: float
    engine: dict
    data: dict
    provenance: dict
    predictions: dict  # {"encoding": ..., "test_correct": [one pack_correct per curves epoch]}


def make(cfg: RunConfig, outcome: Outcome, *, budget: int, engine: dict,
         provenance: dict) -> Record:
    """The record of ``cfg`` trained for ``budget`` epochs: the one place a record is built.
    The sweep calls it with the engine's facts (``train.ENGINE``) and the machine's
    provenance, after training and before ``write``."""
    predictions = ({"encoding": PREDICTIONS_ENCODING, "test_correct": outcome.test_correct}
                   if outcome.test_correct else {})
    if outcome.resumed_at:  # said openly: the run was trained in pieces
        provenance = {**provenance, "resumed_at_epochs": outcome.resumed_at}
    return Record(schema=SCHEMA, run_id=cfg.run_id, config=cfg.to_dict(), budget=budget,
                  epochs=outcome.curves["epoch"][-1] if outcome.curves["epoch"] else 0,
                  status=outcome.status, diverged_epoch=outcome.diverged_epoch,
                  message=outcome.message, curves=outcome.curves, wall_time_s=outcome.wall_time_s,
                  engine=engine, data=outcome.data, provenance=provenance, predictions=predictions)


class DamagedRecord(UsageError):
    """A file in the store that is not a whole, valid record."""

    def __init__(self, path: Path, why: str):
        super().__init__(f"damaged run record {path}: {why}. Restore it (git checkout -- {path}) "
                         "or delete it to retrain that run on purpose")


def problems_with(rec: object, path: Path) -> str | None:
    """Why ``rec`` (read from ``path``) is not a valid record, or None."""
    if not isinstance(rec, dict):
        return "not a JSON object"
    if rec.get("schema") not in READS:
        return f"schema {rec.get('schema')!r}, this lrsweep reads schema {' or '.join(map(str, READS))}"
    needed = [k for k in Record.__annotations__ if rec["schema"] >= 3 or k != "predictions"]
    if missing := [k for k in needed if k not in rec]:
        return f"missing field(s) {', '.join(missing)}"
    if rec["status"] not in STATUSES:
        return f"status {rec['status']!r} is not one of {', '.join(STATUSES)}"
    try:
        run_id = RunConfig.from_dict(rec["config"]).run_id
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        return f"unreadable config ({e})"
    if rec["run_id"] != run_id or path.stem != run_id:
        return f"its config hashes to {run_id}, not to {rec['run_id']} / the file name {path.stem}"
    curves = rec["curves"]
    if not isinstance(curves, dict) or set(curves) != {"epoch", *METRICS}:
        return "curves must hold epoch and " + ", ".join(METRICS)
    if len({len(v) for v in curves.values()}) != 1:
        return "curves of unequal length"
    if has_predictions(rec):
        packed = rec["predictions"].get("test_correct")
        if not isinstance(packed, list) or len(packed) != len(curves["epoch"]):
            return "predictions.test_correct must hold one entry per curves epoch"
    return None


def read(path: Path) -> Record | None:
    """The record at ``path``; None if there is no file; DamagedRecord if it is not whole."""
    path = Path(path)
    try:
        with open(path) as fh:
            rec = json.load(fh)
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise DamagedRecord(path, f"not readable as JSON ({e})") from None
    if why := problems_with(rec, path):
        raise DamagedRecord(path, why)
    return rec


def path_for(root: Path, cfg: RunConfig) -> Path:
    return Path(root) / cfg.problem / f"{cfg.run_id}.json"


def extent(rec: Record) -> float:
    """How many epochs a record answers for: all of them once it diverged, none if it failed."""
    return {"diverged": float("inf"), "failed": -1.0}.get(rec["status"], rec["epochs"])


def covers(new: Record, old: Record) -> bool:
    """Whether ``new`` replaces ``old`` in the store: it answers for more epochs, or as many
    and adds the per-example predictions ``old`` lacks (a schema-2 run retrained openly:
    the new record's provenance names the commit that retrained it)."""
    if extent(new) != extent(old):
        return extent(new) > extent(old)
    return has_predictions(new) and not has_predictions(old)


def lookup(root: Path, cfg: RunConfig, epochs: int, need_predictions: bool = False) -> Record | None:
    """The stored record of ``cfg`` if it answers a request for ``epochs`` epochs (and, with
    ``need_predictions``, holds per-example test predictions). A divergence is final for
    any budget; a failed run is retried."""
    rec = read(path_for(root, cfg))
    if rec is None or extent(rec) < epochs:
        return None
    return None if need_predictions and rec["status"] == "ok" and not has_predictions(rec) else rec


def write(root: Path, rec: Record) -> Path:
    """Atomically store ``rec`` unless an existing record already covers more."""
    cfg = RunConfig.from_dict(rec["config"])
    target = path_for(root, cfg)
    target.parent.mkdir(parents=True, exist_ok=True)
    old = read(target)
    if old is not None and not covers(rec, old):
        return target
    with atomic_file(target) as fh:
        json.dump(rec, fh, indent=1, sort_keys=True)
        fh.write("\n")
    return target


def load_all(root: Path) -> list[Record]:
    """Every record under ``root``; the first damaged file is an error (DamagedRecord)."""
    return [read(p) for p in sorted(Path(root).glob("*/*.json"))]


# --------------------------------------------------------------------------- tidy table

COLUMNS = ["problem", "optimizer", "lr", "seed", "epoch", "status", *METRICS,
           "chance_acc", "n_test", "batch_size", "hparams", "diverged_epoch", "run_id",
           "test_correct"]  # packed per-example correctness (pack_correct), None before schema 3


def rows(rec: Record, epochs: int | None = None) -> list[dict]:
    """One row per epoch, truncated to ``epochs``. Status is the run's status within that
    budget: a run that diverged after it is 'ok' for the shorter budget."""
    cfg = RunConfig.from_dict(rec["config"])
    diverged = rec["status"] == "diverged" and (epochs is None or rec["diverged_epoch"] <= epochs)
    status = "diverged" if diverged else ("failed" if rec["status"] == "failed" else "ok")
    c = rec["curves"]
    base = {"problem": cfg.problem, "optimizer": cfg.optimizer, "lr": cfg.lr, "seed": cfg.seed,
            "status": status, "chance_acc": 1 / rec["data"]["num_classes"],
            "n_test": rec["data"]["split"]["n_test"],
            "batch_size": cfg.batch_size, "hparams": cfg.hparams_label(),
            "diverged_epoch": rec["diverged_epoch"] if diverged else None, "run_id": cfg.run_id}
    packed = rec["predictions"]["test_correct"] if has_predictions(rec) else [None] * len(c["epoch"])
    return [{**base, "epoch": e, **{m: c[m][i] for m in METRICS}, "test_correct": packed[i]}
            for i, e in enumerate(c["epoch"]) if epochs is None or e <= epochs]


def tidy(recs: list[Record], epochs: int | None = None) -> pd.DataFrame:
    """The records as one tidy table: a row per run and epoch (epoch 0 = before training),
    truncated to ``epochs`` if given. Everything downstream (analysis, figures, the book)
    reads this table, never the JSON."""
    table = pd.DataFrame([r for rec in recs for r in rows(rec, epochs)], columns=COLUMNS)
    return table.sort_values(["problem", "optimizer", "hparams", "lr", "seed", "epoch"],
                             ignore_index=True)

"""One run's configuration and its content address.

The run id hashes everything that determines the numbers *except the epoch budget*:
the learning rate is constant, so a longer run's first epochs are exactly a shorter
run's, and one record serves every budget up to the one it trained.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

# Bump when a change to the engine changes the numbers a config produces.
ENGINE_VERSION = 1


@dataclass(frozen=True)
class RunConfig:
    problem: str
    optimizer: str
    lr: float
    seed: int
    batch_size: int
    hparams: tuple[tuple[str, object], ...]  # every optimizer hyperparameter, resolved, sorted

    def to_dict(self) -> dict:
        d = asdict(self)
        d["hparams"] = dict(self.hparams)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "RunConfig":
        return cls(d["problem"], d["optimizer"], float(d["lr"]), int(d["seed"]),
                   int(d["batch_size"]), tuple(sorted(d["hparams"].items())))

    @property
    def run_id(self) -> str:
        canonical = json.dumps({"engine": ENGINE_VERSION, **self.to_dict()}, sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()[:20]

    def hparams_label(self) -> str:
        return ",".join(f"{k}={v}" for k, v in self.hparams)

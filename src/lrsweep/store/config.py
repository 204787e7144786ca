"""One run's configuration and its content address.

The run id hashes everything that determines the numbers *except the epoch budget*:
with a constant learning rate a longer run's first epochs are exactly a shorter run's,
and one record serves every budget up to the one it trained. A schedule that depends on
the budget names it (``cosine:10`` anneals over 10 epochs), so such a run is its own config.
"""
from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass

# Bump when a change to the engine changes the numbers a config produces.
ENGINE_VERSION = 1
CONSTANT = "constant"
SCHEDULES = (CONSTANT, "cosine")  # cosine: lr * (1 + cos(pi * step / total steps)) / 2
# A run has diverged once a minibatch loss is non-finite or this many times its initial loss.
DIVERGENCE_FACTOR = 100.0
DIVERGENCE_CHECK_EVERY = 50   # steps between host syncs for the divergence check


@dataclass(frozen=True)
class RunConfig:
    problem: str
    optimizer: str
    lr: float
    seed: int
    batch_size: int
    hparams: tuple[tuple[str, object], ...]  # every optimizer hyperparameter, resolved, sorted
    schedule: str = CONSTANT                  # or "cosine:EPOCHS"

    def to_dict(self) -> dict:
        d = asdict(self)
        d["hparams"] = dict(self.hparams)
        if self.schedule == CONSTANT:  # left out, so constant-lr run ids stay what they were
            del d["schedule"]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "RunConfig":
        return cls(d["problem"], d["optimizer"], float(d["lr"]), int(d["seed"]),
                   int(d["batch_size"]), tuple(sorted(d["hparams"].items())),
                   d.get("schedule", CONSTANT))

    def lr_factor(self, step: int, steps_per_epoch: int) -> float:
        """The schedule's multiplier of the lr at optimizer step ``step`` (0-based)."""
        if self.schedule == CONSTANT:
            return 1.0
        total = steps_per_epoch * int(self.schedule.split(":")[1])
        return 0.5 * (1 + math.cos(math.pi * min(step, total) / total))

    @property
    def run_id(self) -> str:
        canonical = json.dumps({"engine": ENGINE_VERSION, **self.to_dict()}, sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()[:20]

    def hparams_label(self) -> str:
        """Everything but problem, optimizer, lr and seed that sets a run apart: what makes
        an analysis cell."""
        extra = () if self.schedule == CONSTANT else (("schedule", self.schedule),)
        return ",".join(f"{k}={v}" for k, v in self.hparams + extra)

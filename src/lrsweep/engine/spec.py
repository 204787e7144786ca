"""A sweep's specification: problems x optimizers x lrs x seeds x budget, plus optimizer
settings, validated in full before any work starts, and expanded into run configs."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterable

from ..errors import UsageError
from ..store import optim, problems
from ..store.config import CONSTANT, RunConfig, SCHEDULES


def as_list(value, what: str) -> list:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise UsageError(f"{what} must be a list, got {value!r} "
                         "(with papermill, pass lists as YAML: -y '{\"%s\": [...]}')" % what)
    value = list(value)
    if not value:
        raise UsageError(f"{what} is empty; give at least one value")
    return value


def _names(value, what: str, registry: dict) -> tuple[str, ...]:
    for v in as_list(value, what):
        if v not in registry:
            raise UsageError(f"unknown {what[:-1]} {v!r}; allowed: {', '.join(registry)}")
    return tuple(dict.fromkeys(value))


EXECUTORS = ("auto", "inprocess", "processes", "dask")
BATCHING = ("auto", "always", "never")


def check_options(executor: str, batching: str, workers: int | None, threads: int | None) -> None:
    """Refuse bad executor options before any work starts (without importing the executors)."""
    if executor not in EXECUTORS:
        raise UsageError(f"unknown executor {executor!r}; allowed: {', '.join(EXECUTORS)}")
    if batching not in BATCHING:
        raise UsageError(f"unknown batching {batching!r}; allowed: {', '.join(BATCHING)}")
    for value, what in ((workers, "workers"), (threads, "threads")):
        if value is not None:
            integer_at_least(value, what, 1)


def integer_at_least(v, what: str, minimum: int) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < minimum:
        raise UsageError(f"{what} must be an integer >= {minimum}, got {v!r}")
    return v


def _lrs(value) -> tuple[float, ...]:
    out = []
    for v in as_list(value, "lrs"):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
            raise UsageError(f"every lr must be a finite number > 0, got {v!r}")
        out.append(float(v))
    return tuple(dict.fromkeys(out))


@dataclass(frozen=True)
class SweepSpec:
    """problems x optimizers x lrs x seeds, each trained for ``epochs`` epochs.

    ``settings`` overrides optimizer hyperparameters and the batch size: ``{"beta2": 0.99}``
    applies to every optimizer of the sweep that has a beta2, ``{"adam.beta2": 0.99}`` to
    Adam only, ``{"batch_size": 64}`` to every run, ``{"schedule": "cosine"}`` anneals the
    lr to 0 over the ``epochs`` of every run."""
    problems: tuple[str, ...]
    optimizers: tuple[str, ...]
    lrs: tuple[float, ...]
    seeds: tuple[int, ...]
    epochs: int
    settings: dict = field(default_factory=dict)

    def __post_init__(self):
        set_ = object.__setattr__
        set_(self, "problems", _names(self.problems, "problems", problems.PROBLEMS))
        set_(self, "optimizers", _names(self.optimizers, "optimizers", optim.OPTIMIZERS))
        set_(self, "lrs", _lrs(self.lrs))
        set_(self, "seeds", tuple(dict.fromkeys(
            integer_at_least(s, "every seed", 0) for s in as_list(self.seeds, "seeds"))))
        set_(self, "epochs", integer_at_least(self.epochs, "epochs", 1))
        if not isinstance(self.settings, dict):
            raise UsageError(f"settings must be a mapping of name to value, got {self.settings!r}")
        _ = self.hparams_for, self.schedule  # a bad key or schedule fails before any work

    @property
    def schedule(self) -> str:
        name = self.settings.get("schedule", CONSTANT)
        if name not in SCHEDULES:
            raise UsageError(f"unknown schedule {name!r}; allowed: {', '.join(SCHEDULES)}")
        return name if name == CONSTANT else f"{name}:{self.epochs}"

    @property
    def batch_size(self) -> int | None:
        bs = self.settings.get("batch_size")
        return None if bs is None else integer_at_least(bs, "batch_size", 1)

    @property
    def hparams_for(self) -> dict[str, dict]:
        known = {k for o in self.optimizers for k in optim.get(o).defaults}
        per: dict[str, dict] = {o: {} for o in self.optimizers}
        for key, value in self.settings.items():
            if key in ("batch_size", "schedule"):
                continue
            opt_name, _, name = key.rpartition(".")
            if opt_name:
                if opt_name not in per:
                    raise UsageError(f"setting {key!r} names optimizer {opt_name!r}, which is not "
                                     f"in this sweep ({', '.join(self.optimizers)})")
                per[opt_name][name] = value
            elif name not in known:
                raise UsageError(f"unknown setting {key!r}; allowed: batch_size, schedule, "
                                 f"{', '.join(sorted(known))} (or OPTIMIZER.NAME)")
            else:
                for o in self.optimizers:
                    if name in optim.get(o).defaults:
                        per[o].setdefault(name, value)
        return {o: optim.get(o).resolve(h) for o, h in per.items()}

    def configs(self) -> list[RunConfig]:
        hp = self.hparams_for
        return [RunConfig(p, o, lr, s, self.batch_size or problems.get(p).batch_size,
                          tuple(sorted(hp[o].items())), self.schedule)
                for p in self.problems for o in self.optimizers for s in self.seeds for lr in self.lrs]

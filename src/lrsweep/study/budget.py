"""The default against the training budget: Adam at 0.001 and at the lr the study tuned on
CIFAR-10 (0.000316), trained far past the study's budget with more seeds, so the default's
regret can be read at every epoch where practitioners train.

The study's budgets (10-20 epochs) are what a 2-core CPU affords for a whole grid. What
decides the verdict is the default's regret at the budget people train, and in DeepOBS's
100-epoch curves it grows with the budget; these runs measure it on our own conv nets,
with per-example test predictions so the comparison is paired image by image.
"""
from __future__ import annotations

from typing import NamedTuple

import pandas as pd

from ..errors import UsageError
from ..store import records


class LongRuns(NamedTuple):
    optimizer: str
    lrs: tuple[float, ...]
    seeds: tuple[int, ...]
    epochs: int


# Planned from the measured cost (about 98 s per cifar10_3c3d epoch and 93 s per fmnist_2c2d
# epoch of one worker): 10 runs x 40 epochs is about 11 worker-hours, 6 x 30 about 5.
PUBLISHED: dict[str, LongRuns] = {
    "cifar10_3c3d": LongRuns("adam", (1e-3, 3.16e-4), (0, 1, 2, 3, 4), 40),
    "fmnist_2c2d": LongRuns("adam", (1e-3, 3.16e-4), (0, 1, 2), 30),
}


def check(problem: str) -> LongRuns:
    if problem not in PUBLISHED:
        raise UsageError(f"no long-budget runs of {problem!r}; published: {', '.join(PUBLISHED)}")
    return PUBLISHED[problem]


def specs(problem: str) -> list:
    from ..engine.spec import SweepSpec
    long = check(problem)
    return [SweepSpec([problem], [long.optimizer], list(long.lrs), list(long.seeds), long.epochs)]


def progress(problem: str, results_dir=None) -> tuple[int, int]:
    """(done, planned) runs of the long budget on ``problem``; trains nothing."""
    from ..store.paths import runs_dir
    from ..engine.sweep import plan
    done, todo = plan(specs(problem), runs_dir(results_dir))
    return len(done), len(done) + len(todo)


def run(problem: str, results_dir=None, *, train_missing: bool = True, **sweep_options) -> pd.DataFrame:
    """The long runs of ``problem`` (missing ones trained unless ``train_missing`` is False)."""
    from ..engine.sweep import run_sweep
    return run_sweep(specs(problem), results_dir, train_missing=train_missing, **sweep_options)


def stored(problem: str, results_dir=None) -> pd.DataFrame:
    """Whatever the store holds of the long runs' configs, each as far as it trained (a
    study run of 10 epochs counts up to epoch 10): what the page reads while they run."""
    from ..store.paths import runs_dir
    store = runs_dir(results_dir)
    found = [rec for cfg in specs(problem)[0].configs()
             if (rec := records.read(records.path_for(store, cfg))) is not None
             and rec["status"] != "failed"]
    return records.tidy(found)

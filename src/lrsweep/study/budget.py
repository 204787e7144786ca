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
from ..stats import analysis
from ..store import records
from . import lr_study


STUDY, LONG = "our study (finalists)", "our long runs"  # the two series of regret_rows


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


def regret_rows(results_dir=None, train_missing: bool = False,
                study: pd.DataFrame | None = None) -> tuple[pd.DataFrame, dict]:
    """Adam's regret at its default at every epoch: of the study's runs up to each problem's
    budget (``study``: a study's table already read; None: the published study's), and of
    the long runs as far as they are stored; and the long runs' progress."""
    if study is None:
        study, running = lr_study.stored(list(lr_study.PROBLEMS), results_dir, train_missing=train_missing,
                                         optimizers=["adam"])
    else:
        study, running = study[study["optimizer"] == "adam"], {}
    frames = [analysis.regret_by_budget(study).assign(series=STUDY)] if study is not None and len(study) else []
    long_progress = {problem: progress(problem, results_dir) for problem in PUBLISHED}
    for problem in PUBLISHED:
        long = stored(problem, results_dir)
        if len(long):
            frames.append(analysis.regret_by_budget(long).assign(series=LONG))
    rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    order = {p: i for i, p in enumerate(lr_study.PROBLEMS)}
    rows = rows.sort_values(["problem", "epoch"], key=lambda c: c.map(order) if c.name == "problem" else c,
                            kind="stable", ignore_index=True)
    return rows, {"running": running, "long": long_progress}


def past_study(rows: pd.DataFrame) -> pd.Series:
    """Which ``regret_rows`` rows lie past their problem's study budget: what only the long
    runs tell (up to it, the study's finalists say more)."""
    study_budget = rows[rows["series"] == STUDY].groupby("problem")["epoch"].max()
    return rows["epoch"] > rows["problem"].map(study_budget).fillna(0)

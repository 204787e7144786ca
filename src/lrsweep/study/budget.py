"""The default against the training budget: Adam at 0.001 and at the lr the study tuned on
CIFAR-10 (0.000316), trained far past the study's budget with more seeds, so the default's
regret can be read at every epoch where practitioners train.

The study's budgets (10-20 epochs) are what a 2-core CPU affords for a whole grid. What
decides the verdict is the default's regret at the budget people train, and in DeepOBS's
100-epoch curves it grows with the budget; these runs measure it on our own conv nets,
with per-example test predictions so the comparison is paired image by image.
"""
from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import ClassVar, Mapping, NamedTuple

import pandas as pd

from ..errors import UsageError
from ..stats import analysis
from ..store import records
from . import lr_study
from .progress import Progress, counted


STUDY, LONG = "our study (finalists)", "our long runs"  # the two series of regret_rows


class LongRuns(NamedTuple):
    optimizer: str
    lrs: tuple[float, ...]
    seeds: tuple[int, ...]
    epochs: int


@dataclass(frozen=True)
class LongBudget:
    """``runs``: problem -> the long runs trained on it."""
    runs: Mapping[str, LongRuns]

    name: ClassVar[str] = "long"
    about: ClassVar[str] = ("Adam at its default and at the tuned lr, trained far past the study's budget "
                            "on some problems (lrsweep.study.budget.PUBLISHED)")

    def check(self, problem: str) -> LongRuns:
        if problem not in self.runs:
            raise UsageError(f"no long-budget runs of {problem!r}; published: {', '.join(self.runs)}")
        return self.runs[problem]

    def specs(self, problem: str) -> list:
        from ..engine.spec import SweepSpec
        long = self.check(problem)
        return [SweepSpec([problem], [long.optimizer], list(long.lrs), list(long.seeds), long.epochs)]

    def progress(self, problem: str, results_dir=None) -> Progress:
        """The long runs of ``problem`` stored; trains nothing."""
        return counted(self.specs(problem), results_dir)

    def run(self, problem: str, results_dir=None, *, train_missing: bool = True, **sweep_options) -> pd.DataFrame:
        """The long runs of ``problem`` (missing ones trained unless ``train_missing`` is False)."""
        from ..engine.sweep import run_sweep
        return run_sweep(self.specs(problem), results_dir, train_missing=train_missing, **sweep_options)

    def stored(self, problem: str, results_dir=None) -> tuple[pd.DataFrame, Progress]:
        """Whatever the store holds of the long runs' configs, each as far as it trained (a
        study run of 10 epochs counts up to epoch 10): what the page reads while they run;
        and their progress (the runs that reached the long budget), from the same read."""
        from ..store.paths import runs_dir
        store, long = runs_dir(results_dir), self.check(problem)
        configs = self.specs(problem)[0].configs()
        found = [rec for cfg in configs if (rec := records.read(records.path_for(store, cfg))) is not None
                 and rec["status"] != "failed"]
        done = sum(records.extent(rec) >= long.epochs for rec in found)
        return records.tidy(found), Progress(done, len(configs))


# Planned from the measured cost (about 98 s per cifar10_3c3d epoch and 93 s per fmnist_2c2d
# epoch of one worker): 10 runs x 40 epochs is about 11 worker-hours, 6 x 30 about 5.
PUBLISHED = LongBudget(MappingProxyType({
    "cifar10_3c3d": LongRuns("adam", (1e-3, 3.16e-4), (0, 1, 2, 3, 4), 40),
    "fmnist_2c2d": LongRuns("adam", (1e-3, 3.16e-4), (0, 1, 2), 30),
}))


def regret_rows(study: pd.DataFrame | None, results_dir=None,
                long: LongBudget = PUBLISHED) -> tuple[pd.DataFrame, dict[str, Progress]]:
    """Adam's regret at its default at every epoch: of the study's runs (``study``: its
    tidy table, None while none is stored) up to each problem's budget, and of the long
    runs of ``long`` as far as they are stored; and the long runs' progress."""
    problems_ = lr_study.PUBLISHED.problems
    study = None if study is None else study[study["optimizer"] == "adam"]
    frames = [analysis.regret_by_budget(study).assign(series=STUDY)] if study is not None and len(study) else []
    long_progress = {}
    for problem in long.runs:
        runs, long_progress[problem] = long.stored(problem, results_dir)  # one read for both
        if len(runs):
            frames.append(analysis.regret_by_budget(runs).assign(series=LONG))
    rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    order = {p: i for i, p in enumerate(problems_)}
    rows = rows.sort_values(["problem", "epoch"], key=lambda c: c.map(order) if c.name == "problem" else c,
                            kind="stable", ignore_index=True)
    return rows, long_progress


def past_study(rows: pd.DataFrame) -> pd.Series:
    """Which ``regret_rows`` rows lie past their problem's study budget: what only the long
    runs tell (up to it, the study's finalists say more)."""
    study_budget = rows[rows["series"] == STUDY].groupby("problem")["epoch"].max()
    return rows["epoch"] > rows["problem"].map(study_budget).fillna(0)

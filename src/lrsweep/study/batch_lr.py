"""The best lr against the batch size: on a problem, each optimizer's lrs of the study's
grid within ``window`` decades of its tuned lr, at each of the problem's batch sizes
(``PUBLISHED``), with one seed and a short budget (the Sobol designs' on that problem). The
study's own runs (batch size 128, longer) are reused, read at this budget.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import ClassVar, Mapping

import numpy as np
import pandas as pd

from ..errors import UsageError
from ..stats import analysis
from . import lr_study
from .progress import Progress, counted

BATCH_SIZES = (32, 64, 128, 256, 512, 1024)


@dataclass(frozen=True)
class BatchSweep:
    """``sweeps``: problem -> (epochs, batch sizes); ``window``: decades either side of the
    study's tuned lr; ``study``: the design whose grid and tuned lr the sweep is centred on."""
    sweeps: Mapping[str, tuple[int, tuple[int, ...]]]
    window: float = 1.5
    seed: int = 0
    study: lr_study.LrStudy = lr_study.PUBLISHED

    name: ClassVar[str] = "batch"
    about: ClassVar[str] = "the best lr against the batch size on some problems (lrsweep.study.batch_lr.PUBLISHED)"

    def check(self, problem: str) -> tuple[int, tuple[int, ...]]:
        """The budget and batch sizes of the sweep on ``problem``; a clear error if there is none."""
        if problem not in self.sweeps:
            raise UsageError(f"no batch-size sweep of {problem!r}; published: {', '.join(self.sweeps)}")
        return self.sweeps[problem]

    def centres(self, problem: str, study_table: pd.DataFrame) -> dict[str, float]:
        """Each optimizer's tuned lr (at the problem's own batch size) read at the sweep's
        budget, from ``study_table``: the tidy table of ``study`` on ``problem``."""
        epochs, _ = self.check(problem)
        final = analysis.final_epoch(study_table, epochs)
        return {o: analysis.tuned_lr(final[final["optimizer"] == o]) for o in self.study.optimizers}

    def lrs(self, centre: float) -> list[float]:
        """The study's grid within ``window`` decades of ``centre``."""
        return [lr for lr in self.study.grid if abs(math.log10(lr / centre)) <= self.window + 0.01]  # 3.16: rounded

    def specs(self, problem: str, study_table: pd.DataFrame) -> list:
        from ..engine.spec import SweepSpec
        budget, sizes = self.check(problem)
        centres = self.centres(problem, study_table)
        return [SweepSpec([problem], [o], self.lrs(centres[o]), [self.seed], budget, settings={"batch_size": b})
                for o in self.study.optimizers for b in sizes]

    def _study(self, problem: str, results_dir) -> pd.DataFrame:
        table, _ = self.study.stored([problem], results_dir, train_missing=False)
        if table is None:
            raise UsageError(f"the batch-size sweep of {problem!r} is centred on the study's tuned lr: "
                             f"run the study first (python -m lrsweep study {problem})")
        return table

    def stored(self, problem: str, study_table: pd.DataFrame, results_dir=None, *,
               train_missing: bool = False, **sweep_options) -> tuple[pd.DataFrame | None, Progress]:
        """The sweep on ``problem`` around the tuned lrs of ``study_table``, planned once:
        its tidy table (None while runs are missing and ``train_missing`` is False; with
        it, they are trained) and its progress."""
        from ..engine.sweep import plan, run_sweep
        from ..store import records
        from ..store.paths import runs_dir
        specs = self.specs(problem, study_table)
        done, todo = plan(specs, runs_dir(results_dir))
        now = Progress(len(done), len(done) + len(todo))
        if not todo:
            return records.tidy(done, specs[0].epochs), now
        if not train_missing:
            return None, now
        return run_sweep(specs, results_dir, **sweep_options), Progress(now.planned, now.planned)

    def progress(self, problem: str, results_dir=None) -> Progress:
        """The runs of the sweep on ``problem`` stored; trains nothing."""
        return counted(self.specs(problem, self._study(problem, results_dir)), results_dir)

    def run(self, problem: str, results_dir=None, *, train_missing: bool = True, **sweep_options) -> pd.DataFrame:
        """The sweep on ``problem`` (missing runs trained unless ``train_missing`` is False),
        as a tidy table read at its budget."""
        from ..engine.sweep import run_sweep
        return run_sweep(self.specs(problem, self._study(problem, results_dir)), results_dir,
                         train_missing=train_missing, **sweep_options)


# Batch sizes 32..1024 span 1.5 decades, and linear scaling moves the lr as far. The
# epochs are the Sobol designs' on each problem (``design.PUBLISHED``); the conv net gets
# the two ends and the middle: its runs cost about five times the MLP's.
# It is centred as it was trained: on the lr the study's first two stages tuned (stage 3,
# the tuned lr's neighbours, came later and would move the window of runs already stored).
PUBLISHED = BatchSweep(MappingProxyType({"fmnist_mlp": (5, BATCH_SIZES), "fmnist_2c2d": (2, (32, 128, 1024))}),
                       study=replace(lr_study.PUBLISHED, neighbours=()))


def best_lrs(table: pd.DataFrame) -> pd.DataFrame:
    """Per problem, optimizer and batch size: the tuned lr (validation, at the table's last
    epoch), its validation accuracy, and whether it sits at an end of the lrs tried there
    (then the best may lie beyond)."""
    final = analysis.final_epoch(table)
    rows = []
    for (problem, optimizer, batch), cell in final.groupby(["problem", "optimizer", "batch_size"]):
        best = analysis.tuned_lr(cell)
        tried = sorted(cell["lr"].unique())
        rows.append(dict(problem=problem, optimizer=optimizer, batch_size=int(batch), best_lr=best,
                         valid_acc=float(cell.loc[cell["lr"] == best, "valid_acc"].mean()),
                         at_edge=best in (tried[0], tried[-1])))
    return pd.DataFrame(rows)


def kept_regret(table: pd.DataFrame, kept: dict[tuple[str, str], float]) -> pd.DataFrame:
    """Per problem, optimizer and batch size: the test accuracy lost by keeping the lr
    ``kept[(problem, optimizer)]`` rather than the best there (chosen on validation, as in
    ``best_lrs``). One seed per point, so a point estimate without an interval."""
    final = analysis.final_epoch(table)
    rows = []
    for (problem, optimizer, batch), cell in final.groupby(["problem", "optimizer", "batch_size"]):
        lr = kept.get((problem, optimizer))
        if lr is None or lr not in set(cell["lr"]):
            continue
        acc = cell.groupby("lr")["test_acc"].mean()
        rows.append(dict(problem=problem, optimizer=optimizer, batch_size=int(batch), kept_lr=lr,
                         regret=float(acc[analysis.tuned_lr(cell)] - acc[lr])))
    return pd.DataFrame(rows)


def slope(best: pd.DataFrame) -> float:
    """Least-squares slope of log10(best lr) on log10(batch size): 1 is the linear scaling
    rule, 0.5 the square-root rule, 0 a best lr that ignores the batch size."""
    return float(np.polyfit(np.log10(best["batch_size"]), np.log10(best["best_lr"]), 1)[0])

"""The quarter-decade grid near the optimum: how wide each optimizer's basin is, resolved
finer than the study's half-decade grid, on the problems where runs are cheap.

The study's grid counts basins in half-decade steps, so two medians half a decade apart are
the least it can tell apart. Here, for each optimizer and problem, the half-decade steps
whose stage-1 run (``study.stage1_seeds``) ends within ``within`` of the best test
accuracy, and the step on either side of them, get their geometric midpoint, trained with
the same seeds and budget. The basin is then read on one curve of quarter-decade steps
(``stats.analysis.fine_basins``). The runs are kept apart from the study's tuning: a
midpoint has one seed, and must not move the tuned lr or a verdict.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import pandas as pd

from ..errors import UsageError
from ..stats import analysis
from . import lr_study
from .progress import Progress


def midpoints(cell: pd.DataFrame, within: float) -> list[float]:
    """Quarter-decade points to add to one half-decade cell: the geometric midpoint of each
    step that touches its ``within`` basin (``analysis.basin_edges``), rounded to 3 digits
    as the grid's lrs are."""
    lrs, lo, hi = analysis.basin_edges(cell, within)
    steps = range(max(lo - 1, 0), min(hi + 1, len(lrs) - 1))  # the step from lrs[k] to lrs[k + 1]
    return [midpoint(lrs[k], lrs[k + 1]) for k in steps]


def midpoint(a: float, b: float) -> float:
    """The geometric midpoint of two lrs, rounded to 3 digits as the grid's lrs are."""
    return float(f"{(a * b) ** 0.5:.3g}")


@dataclass(frozen=True)
class FineBasin:
    """``problems``: where the quarter-decade points are trained (the study's other
    problems keep their half-decade basins); ``within``: how far below the best a stage-1
    run may end and still have its steps filled (the widest basin the book reports)."""
    problems: tuple[str, ...]
    study: lr_study.LrStudy = lr_study.PUBLISHED
    within: float = max(analysis.BASIN_DELTAS)

    name: ClassVar[str] = "fine"
    about: ClassVar[str] = ("the quarter-decade grid around each optimizer's best lr on some problems, "
                            "for basin widths finer than the study's grid (lrsweep.study.fine_basin.PUBLISHED)")

    def check(self, problem: str) -> int:
        budget = self.study.budget(problem)
        if problem not in self.problems:
            raise UsageError(f"the report trains no quarter-decade points on {problem!r}; it trains them "
                             f"on {', '.join(self.problems)} (lrsweep.study.fine_basin.PUBLISHED)")
        return budget

    def owns(self, cfg: dict) -> bool:
        """Whether a record's config is one of this design's midpoints (as planned: the study's
        optimizers with their defaults, stage 1's seeds, between two lrs of the grid)."""
        from ..store import optim, problems
        if (cfg["problem"] not in self.problems or cfg["optimizer"] not in self.study.optimizers
                or "schedule" in cfg or cfg["seed"] not in self.study.stage1_seeds
                or cfg["hparams"] != optim.get(cfg["optimizer"]).defaults
                or cfg["batch_size"] != problems.get(cfg["problem"]).batch_size):
            return False
        grid = self.study.grid_of(cfg["problem"])
        return any(cfg["lr"] == midpoint(a, b) for a, b in zip(grid, grid[1:]))

    def specs(self, problem: str, stage1, stage1_table: pd.DataFrame) -> list:
        """One spec per optimizer: its midpoints, with stage 1's seeds, budget and settings."""
        from ..engine.spec import SweepSpec
        final = analysis.final_epoch(stage1_table)
        return [SweepSpec([problem], [opt], mids, stage1.seeds, stage1.epochs, stage1.settings)
                for opt, cell in final.groupby("optimizer", sort=False)
                if (mids := midpoints(cell, self.within))]

    def stored(self, problem: str, results_dir=None) -> tuple[pd.DataFrame | None, Progress]:
        """The tidy table of stage 1 and the midpoints of ``problem`` once all are stored
        (None before), and its progress: the store is read once; trains nothing."""
        from ..engine.sweep import plan
        from ..store import records
        from ..store.paths import runs_dir
        self.check(problem)
        stage1 = self.study._stage1(problem)
        done, todo = plan([stage1], runs_dir(results_dir))
        if todo:  # the midpoints are planned once the study's stage 1 is stored
            return None, Progress(len(done), len(done) + len(todo), stage=1, stages=2, what="the study's stage 1")
        fine, todo = plan(self.specs(problem, stage1, records.tidy(done, stage1.epochs)), runs_dir(results_dir))
        now = Progress(len(fine), len(fine) + len(todo), stage=2, stages=2, what="its quarter-decade points")
        return (None if todo else records.tidy(fine + done, stage1.epochs)), now

    def progress(self, problem: str, results_dir=None) -> Progress:
        return self.stored(problem, results_dir)[1]

    def run(self, problem: str, results_dir=None, *, train_missing: bool = True, **sweep_options) -> pd.DataFrame:
        """Stage 1 and the midpoints of ``problem`` (missing runs trained unless
        ``train_missing`` is False): the tidy table of the quarter-decade curves."""
        from ..engine.sweep import run_sweep
        self.check(problem)
        stage1 = self.study._stage1(problem)
        table = run_sweep(stage1, results_dir, train_missing=train_missing, **sweep_options)
        return run_sweep(self.specs(problem, stage1, table) + [stage1], results_dir,
                         train_missing=train_missing, **sweep_options)


# Where runs are cheap: the logistic regressions in seconds, the MLPs in about 2 minutes of
# a worker per run; on the conv nets a midpoint costs 15-20 worker-minutes.
PUBLISHED = FineBasin(problems=("mnist_logreg", "mnist_mlp", "fmnist_logreg", "fmnist_mlp"))

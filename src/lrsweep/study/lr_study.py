"""The published study: its design in one object, and how it runs in two stages.

Stage 1 trains every lr of the grid with one seed. Stage 2 adds seeds where the answer
depends on them: at each optimizer's library default and at its ``stage2_top`` best lrs by
stage-1 validation accuracy. Stage 3 (on the kinds of problem in ``neighbours``) gives the
same seeds to the half-decade neighbours of the lr tuned after stage 2, so the tuned lr is
always compared with the lrs either side of it: a reference that leads is then measured
against its nearest rivals, never against finalists far behind it. The chapters take their defaults from ``PUBLISHED`` (a
parameter left at None means "as published", ``LrStudy.varied``), so prose, code and
records cannot drift apart.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import ClassVar, Mapping

import pandas as pd

from ..errors import UsageError
from ..store import optim
from .progress import Progress, counted


@dataclass(frozen=True)
class LrStudy:
    """The lr study's design. ``budgets``: epochs per problem (``epochs``, when set, is one
    budget for every problem, a rerun's); ``grid``, continued upward per problem by
    ``grid_above``; ``stage2_seeds`` per kind of problem ("small" or "conv"), and the
    kinds that get stage 3 (``neighbours``);
    ``chapters``: the book's chapters and their problems, in reading order; ``settings``:
    optimizer hyperparameters or a schedule, as ``SweepSpec`` takes them."""
    grid: tuple[float, ...]
    budgets: Mapping[str, int]
    chapters: Mapping[str, tuple[str, ...]]
    optimizers: tuple[str, ...] = ("adam", "sgd_momentum")
    grid_above: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    stage1_seeds: tuple[int, ...] = (0,)
    stage2_seeds: Mapping[str, tuple[int, ...]] = field(default_factory=lambda: {"small": (0,), "conv": (0,)})
    stage2_top: int = 2
    neighbours: tuple[str, ...] = ()
    epochs: int | None = None
    settings: Mapping[str, object] = field(default_factory=dict)

    name: ClassVar[str] = "study"
    about: ClassVar[str] = ("the published study of some problems: the whole lr grid with one seed, "
                            "then more seeds where it matters")

    @property
    def problems(self) -> tuple[str, ...]:
        """The book's problems, in chapter order."""
        return tuple(p for ps in self.chapters.values() for p in ps)

    def varied(self, *, optimizers=None, lrs=None, epochs: int | None = None,
               stage2_seeds=None, settings: dict | None = None) -> "LrStudy":
        """This design with a rerun's changes (each None: as here): ``lrs`` replaces the
        whole grid, ``epochs`` every budget, ``stage2_seeds`` the seeds of every problem."""
        from ..engine.spec import as_list  # a papermill string is refused here, before any work
        changes = {}
        if optimizers is not None:
            changes["optimizers"] = tuple(as_list(optimizers, "optimizers"))
        if lrs is not None:
            changes.update(grid=tuple(as_list(lrs, "lrs")), grid_above={})
        if epochs is not None:
            changes["epochs"] = epochs
        if stage2_seeds is not None:
            seeds = tuple(as_list(stage2_seeds, "stage2_seeds"))
            changes["stage2_seeds"] = {"small": seeds, "conv": seeds}
        if settings:
            changes["settings"] = dict(settings)
        return replace(self, **changes) if changes else self

    def check(self, problem: str) -> int:
        return self.budget(problem)

    def budget(self, problem: str) -> int:
        if self.epochs is not None:
            return self.epochs
        if problem not in self.budgets:
            raise UsageError(f"{problem!r} is not in the published study; allowed: {', '.join(self.budgets)}")
        return self.budgets[problem]

    def grid_of(self, problem: str) -> tuple[float, ...]:
        """The grid of ``problem``: ``grid``, continued upward where ``grid_above`` says."""
        return self.grid + tuple(self.grid_above.get(problem, ()))

    @staticmethod
    def kind(problem: str) -> str:
        return "conv" if problem.endswith(("2c2d", "3c3d")) else "small"

    def stage2_seeds_of(self, problem: str) -> tuple[int, ...]:
        return self.stage2_seeds[self.kind(problem)]

    def stages_of(self, problem: str) -> int:
        return 3 if self.kind(problem) in self.neighbours else 2

    def stage2_lrs(self, stage1: pd.DataFrame, optimizer: str) -> list[float]:
        """The lrs that get more seeds: the library default and the ``stage2_top`` best by
        stage-1 validation accuracy at the budget (a diverged run counts at chance)."""
        from ..stats.analysis import final_epoch  # analysis needs no torch; keep this module light too
        final = final_epoch(stage1)
        valid = final[final["optimizer"] == optimizer].groupby("lr")["valid_acc"].mean()
        top = valid.sort_values(ascending=False, kind="stable").index[:self.stage2_top]
        return sorted({optim.get(optimizer).default_lr, *map(float, top)})

    def _stage1(self, problem: str):
        from ..engine.spec import SweepSpec  # it validates every input (a papermill string is refused)
        return SweepSpec([problem], list(self.optimizers), list(self.grid_of(problem)), self.stage1_seeds,
                         self.budget(problem), dict(self.settings))

    def _stage2(self, problem: str, stage1, stage1_table: pd.DataFrame) -> list:
        from ..engine.spec import SweepSpec
        return [SweepSpec([problem], [o], self.stage2_lrs(stage1_table, o), self.stage2_seeds_of(problem),
                          stage1.epochs, stage1.settings) for o in stage1.optimizers]

    def _stage3(self, problem: str, stage2: list, stage12_table: pd.DataFrame) -> list:
        """Per optimizer, the grid's half-decade neighbours of the lr tuned after stage 2
        (validation, over the finalists) with the stage-2 seeds."""
        from ..engine.spec import SweepSpec
        from ..stats.analysis import final_epoch, tuned_lr
        final = final_epoch(stage12_table)
        grid = list(self.grid_of(problem))
        out = []
        for spec in stage2:
            i = grid.index(tuned_lr(final[final["optimizer"] == spec.optimizers[0]]))
            out.append(SweepSpec([problem], spec.optimizers, grid[max(i - 1, 0):i + 2], spec.seeds,
                                 spec.epochs, spec.settings))
        return out

    def _planned(self, problem: str, results_dir) -> tuple[list, list, Progress]:
        """The specs of every stage planned so far, the records stored of them, and the
        progress: a stage is planned once the stages before it are all stored."""
        from ..engine.sweep import plan
        from ..store import records
        from ..store.paths import runs_dir
        store, stages = runs_dir(results_dir), self.stages_of(problem)
        specs = [self._stage1(problem)]  # later stages go in front: stage 1 stays last
        done, todo = plan(specs, store)
        for stage in range(2, stages + 1):
            if todo:
                return specs, done, Progress(len(done), len(done) + len(todo), stage - 1, stages, f"stage {stage - 1}")
            table = records.tidy(done, specs[0].epochs)
            more = (self._stage2(problem, specs[0], table) if stage == 2
                    else self._stage3(problem, specs[:-1], table))  # specs: stage 2's, then stage 1
            specs = more + specs
            done, todo = plan(specs, store)
        return specs, done, Progress(len(done), len(done) + len(todo), stages, stages, f"stage {stages}")

    def progress(self, problem: str, results_dir: str | Path | None = None) -> Progress:
        """How many runs of the study the store holds; trains nothing."""
        return self._planned(problem, results_dir)[2]

    def run(self, problem: str, results_dir: str | Path | None = None, *,
            train_missing: bool = True, **sweep_options) -> pd.DataFrame:
        """Every stage for one problem, each planned once the one before is stored (and
        trained, unless ``train_missing`` is False); the tidy table of every run it uses."""
        from ..engine.sweep import run_sweep
        while True:
            specs, _, now = self._planned(problem, results_dir)
            table = run_sweep(specs, results_dir, train_missing=train_missing, **sweep_options)
            if now.stage == now.stages:
                return table

    def stored(self, problems_: list[str], results_dir: str | Path | None = None, *,
               train_missing: bool = True) -> tuple[pd.DataFrame | None, dict[str, Progress]]:
        """The tidy table of every problem whose study is complete (missing runs trained
        first when ``train_missing``), and the progress of those still running (a
        published build reports a study in progress rather than training it)."""
        from ..store import records
        tables, pending = [], {}
        for p in problems_:
            if train_missing:
                tables.append(self.run(p, results_dir))
                continue
            specs, done, now = self._planned(p, results_dir)  # the store read once
            if now.complete:
                tables.append(records.tidy(done, specs[0].epochs))
            else:
                pending[p] = now
        return (pd.concat(tables, ignore_index=True) if tables else None), pending


# Half-decade steps with 0.001 exactly on it, rounded to 3 digits as written in the records.
# Where the grid's top does not reach a basin's upper edge (at 3.16 the logistic
# regressions' test accuracy was still within 3 points of the best), it goes on upward.
# The budgets: the best lr has mostly settled by then (DeepOBS's 100-epoch curves and our
# per-epoch curves; method chapter), at a cost the 2-core machine can pay.
PUBLISHED = LrStudy(
    grid=(1e-5, 3.16e-5, 1e-4, 3.16e-4, 1e-3, 3.16e-3, 1e-2, 3.16e-2, 0.1, 0.316, 1.0, 3.16),
    grid_above=MappingProxyType({"mnist_logreg": (10.0, 31.6), "fmnist_logreg": (10.0, 31.6)}),
    budgets=MappingProxyType({"mnist_logreg": 20, "mnist_mlp": 20, "fmnist_logreg": 20, "fmnist_mlp": 20,
                              "fmnist_2c2d": 10, "cifar10_3c3d": 10, "mnist_2c2d": 10}),
    chapters=MappingProxyType({"mnist": ("mnist_logreg", "mnist_mlp"),
                               "fmnist": ("fmnist_logreg", "fmnist_mlp", "fmnist_2c2d"),
                               "cifar10": ("cifar10_3c3d",)}),
    stage2_seeds=MappingProxyType({"small": (0, 1, 2, 3, 4), "conv": (0, 1, 2)}),
    neighbours=("small", "conv"),
)

"""The published study: its design in one place, and how it runs in two stages.

Stage 1 trains every lr of the grid with one seed. Stage 2 adds seeds where the answer
depends on them: at each optimizer's library default and at its ``STAGE2_TOP`` best lrs by
stage-1 validation accuracy. The chapters take their defaults from here (a parameter left at
None means "as published"), so prose, code and records cannot drift apart.
"""
from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import pandas as pd

from ..errors import UsageError
from ..store import optim

# Half-decade steps with 0.001 exactly on it, rounded to 3 digits as written in the records.
GRID = (1e-5, 3.16e-5, 1e-4, 3.16e-4, 1e-3, 3.16e-3, 1e-2, 3.16e-2, 0.1, 0.316, 1.0, 3.16)
# Where the grid's top does not reach a basin's upper edge (at 3.16 the logistic
# regressions' test accuracy was still within 3 points of the best), it goes on upward.
GRID_ABOVE = {"mnist_logreg": (10.0, 31.6), "fmnist_logreg": (10.0, 31.6)}
OPTIMIZERS = ("adam", "sgd_momentum")
# Epoch budgets: the best lr has mostly settled by then (DeepOBS's 100-epoch curves and our
# per-epoch curves; method chapter), at a cost the 2-core machine can pay.
BUDGETS = {"mnist_logreg": 20, "mnist_mlp": 20, "fmnist_logreg": 20, "fmnist_mlp": 20,
           "fmnist_2c2d": 10, "cifar10_3c3d": 10, "mnist_2c2d": 10}
STAGE1_SEEDS = (0,)
STAGE2_SEEDS = {"small": (0, 1, 2, 3, 4), "conv": (0, 1, 2)}
STAGE2_TOP = 2
CHAPTERS = {"mnist": ("mnist_logreg", "mnist_mlp"),
            "fmnist": ("fmnist_logreg", "fmnist_mlp", "fmnist_2c2d"),
            "cifar10": ("cifar10_3c3d",)}
PROBLEMS = tuple(p for ps in CHAPTERS.values() for p in ps)  # the book's, in chapter order


def budget(problem: str) -> int:
    if problem not in BUDGETS:
        raise UsageError(f"{problem!r} is not in the published study; allowed: {', '.join(BUDGETS)}")
    return BUDGETS[problem]


def grid(problem: str) -> tuple[float, ...]:
    """The published grid of ``problem``: ``GRID``, continued upward where ``GRID_ABOVE`` says."""
    return GRID + GRID_ABOVE.get(problem, ())


def stage2_seeds_of(problem: str) -> tuple[int, ...]:
    return STAGE2_SEEDS["conv" if problem.endswith(("2c2d", "3c3d")) else "small"]


def stage2_lrs(stage1: pd.DataFrame, optimizer: str) -> list[float]:
    """The lrs that get more seeds: the library default and the ``STAGE2_TOP`` best by
    stage-1 validation accuracy at the budget (a diverged run counts at chance)."""
    from ..stats.analysis import final_epoch  # analysis needs no torch; keep this module light too
    final = final_epoch(stage1)
    valid = final[final["optimizer"] == optimizer].groupby("lr")["valid_acc"].mean()
    top = valid.sort_values(ascending=False, kind="stable").index[:STAGE2_TOP]
    return sorted({optim.get(optimizer).default_lr, *map(float, top)})


class Progress(NamedTuple):
    """How far the study of one problem is: ``done`` of ``planned`` runs stored in ``stage``
    (stage 2 is planned only once stage 1 is complete)."""
    stage: int
    done: int
    planned: int

    @property
    def complete(self) -> bool:
        return self.stage == 2 and self.done == self.planned


def _stage1(problem, optimizers, lrs, epochs, settings=None):
    from ..engine.sweep import SweepSpec  # it validates every input (a papermill string is refused)
    return SweepSpec([problem], optimizers or OPTIMIZERS, lrs or grid(problem), STAGE1_SEEDS,
                     epochs or budget(problem), dict(settings or {}))


def _stage2(problem, stage1, stage1_table, stage2_seeds):
    from ..engine.sweep import SweepSpec
    seeds = stage2_seeds or stage2_seeds_of(problem)
    return [SweepSpec([problem], [o], stage2_lrs(stage1_table, o), seeds, stage1.epochs,
                      stage1.settings) for o in stage1.optimizers]


def progress(problem: str, results_dir: str | Path | None = None, *, optimizers=None, lrs=None,
             epochs: int | None = None, stage2_seeds: list[int] | None = None,
             settings: dict | None = None) -> Progress:
    """How many runs of the study (None: as published) the store holds; trains nothing."""
    from ..store import records
    from ..store.paths import runs_dir
    from ..engine.sweep import plan
    store = runs_dir(results_dir)
    stage1 = _stage1(problem, optimizers, lrs, epochs, settings)
    done, todo = plan([stage1], store)
    if todo:
        return Progress(1, len(done), len(done) + len(todo))
    stage2 = _stage2(problem, stage1, records.tidy(done, stage1.epochs), stage2_seeds)
    done, todo = plan(stage2 + [stage1], store)
    return Progress(2, len(done), len(done) + len(todo))


def run(problem: str, results_dir: str | Path | None = None, *, optimizers=None, lrs=None,
        epochs: int | None = None, stage2_seeds: list[int] | None = None,
        settings: dict | None = None, train_missing: bool = True, **sweep_options) -> pd.DataFrame:
    """Both stages for one problem; every design argument left at None is as published
    (``settings``: optimizer hyperparameters or a schedule, as ``SweepSpec`` takes them).
    Returns the tidy table of every run the study uses."""
    from ..engine.sweep import run_sweep
    stage1 = _stage1(problem, optimizers, lrs, epochs, settings)
    stage1_table = run_sweep(stage1, results_dir, train_missing=train_missing, **sweep_options)
    stage2 = _stage2(problem, stage1, stage1_table, stage2_seeds)
    return run_sweep(stage2 + [stage1], results_dir, train_missing=train_missing, **sweep_options)


def stored(problems_: list[str], results_dir: str | Path | None = None, *,
           train_missing: bool = True, **design) -> tuple[pd.DataFrame | None, dict[str, Progress]]:
    """The tidy table of every problem whose study is complete (missing runs trained first
    when ``train_missing``), and the progress of those still running (a published build
    reports a study in progress rather than training it)."""
    tables, pending = [], {}
    for p in problems_:
        if not train_missing and not (now := progress(p, results_dir, **design)).complete:
            pending[p] = now
            continue
        tables.append(run(p, results_dir, train_missing=train_missing, **design))
    return (pd.concat(tables, ignore_index=True) if tables else None), pending

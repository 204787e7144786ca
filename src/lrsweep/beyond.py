"""The runs behind "Beyond the learning rate", defined in one place like ``study``: the
alternatives to tuning Adam's lr, each run on the study's problems with the study's
budgets and stage-2 seeds, so its regret against tuned Adam is paired by seed.

* the learning-rate-free optimizers, and Schedule-Free AdamW, at their library defaults;
* two variants of Adam that might widen the basin, over the study's grid, in two stages as
  the study tunes: AMSGrad, and Adam with a cosine schedule over the budget;
* the LR range test (``range_test``): one test with seed 0, its pick trained with the
  stage-2 seeds.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from . import optim, range_test, study

AT_DEFAULT = ("prodigy", "dadapt_adam", "dog", "schedulefree_adamw")
VARIANTS = {"AMSGrad": {"optimizers": ["amsgrad"]},
            "Adam, cosine schedule": {"optimizers": ["adam"], "settings": {"schedule": "cosine"}}}
RANGE_TEST_SEED = 0


def at_default_specs(problem: str) -> list:
    """One spec per lr-free optimizer: its default lr, the problem's stage-2 seeds and budget."""
    from .sweep import SweepSpec
    return [SweepSpec([problem], [o], [optim.get(o).default_lr], study.stage2_seeds_of(problem),
                      study.budget(problem)) for o in AT_DEFAULT]


def range_test_spec(problem: str, optimizer: str, range_dir: str | Path, train_missing: bool = True):
    """The range test's pick (run and stored in ``range_dir`` if missing and
    ``train_missing``), trained with the problem's stage-2 seeds."""
    from .sweep import SweepSpec
    picked = range_test.stored(problem, optimizer, RANGE_TEST_SEED, range_dir, train_missing)["picked_lr"]
    return SweepSpec([problem], [optimizer], [float(f"{picked:.3g}")], study.stage2_seeds_of(problem),
                     study.budget(problem))


def run(problem: str, results_dir=None, range_dir: str | Path | None = None, *,
        train_missing: bool = True, **sweep_options) -> pd.DataFrame:
    """Every alternative's runs on ``problem`` (missing ones trained unless
    ``train_missing`` is False); the tidy table of all of them."""
    from . import paths
    from .sweep import run_sweep
    range_dir = Path(range_dir or paths.ROOT / "data" / "range_tests")
    ranged = range_test_spec(problem, "adam", range_dir, train_missing)
    tables = [run_sweep(at_default_specs(problem) + [ranged],
                        results_dir, train_missing=train_missing, **sweep_options)]
    for design in VARIANTS.values():
        tables.append(study.run(problem, results_dir, train_missing=train_missing, **design,
                                **sweep_options))
    return pd.concat(tables, ignore_index=True)


def complete(problem: str, results_dir=None, range_dir: str | Path | None = None) -> tuple[bool, int, int]:
    """Whether every alternative's runs on ``problem`` are stored, and how many of those
    planned so far are (a variant's stage 2 is planned once its stage 1 is complete)."""
    from . import paths
    from .sweep import plan
    range_dir = Path(range_dir or paths.ROOT / "data" / "range_tests")
    specs = at_default_specs(problem)
    tested = (range_dir / problem / f"adam-seed{RANGE_TEST_SEED}.json").is_file()
    if tested:
        specs.append(range_test_spec(problem, "adam", range_dir, train_missing=False))
    done, todo = plan(specs, paths.runs_dir(results_dir))
    n_done, n_planned, all_done = len(done), len(done) + len(todo) + (not tested), tested and not todo
    for design in VARIANTS.values():
        now = study.progress(problem, results_dir, **design)
        n_done, n_planned, all_done = n_done + now.done, n_planned + now.planned, all_done and now.complete
    return all_done, n_done, n_planned

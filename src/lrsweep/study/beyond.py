"""The runs behind "Beyond the learning rate", defined in one place like ``study``: the
alternatives to tuning Adam's lr, each run on the study's problems with the study's
budgets and stage-2 seeds, so its regret against tuned Adam is paired by seed.

* the learning-rate-free optimizers, and Schedule-Free AdamW, at their library defaults;
* two variants of Adam that might widen the basin, over the study's grid, in two stages as
  the study tunes: AMSGrad, and Adam with a cosine schedule over the budget;
* the LR range test (``range_test``): one test with seed 0, its pick trained with the
  stage-2 seeds.

``PUBLISHED`` says which of these the report runs on which problem. The alternatives read
from the study itself (Adam at its default, the coarse grids) need no runs of their own and
are shown on every problem (``alternatives``).
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..store import optim
from ..engine import range_test
from . import lr_study

AT_DEFAULT = ("prodigy", "dadapt_adam", "dog", "schedulefree_adamw")
VARIANTS = {"AMSGrad": {"optimizers": ["amsgrad"]},
            "Adam, cosine schedule": {"optimizers": ["adam"], "settings": {"schedule": "cosine"}}}
RANGE_TEST_SEED = 0
KINDS = ("at_default", "range_test", "variants")
ONE_RUN = ("at_default", "range_test")  # one training run per seed at the problem's budget
# The alternatives had a budget of about 5 hours of the 2-core machine, so: every kind
# where runs are cheap (logistic regression); on fmnist_mlp only those that cost one run,
# since a tuned variant costs a whole grid, as much as tuning itself, and so cannot be the
# cheapest; elsewhere none (on the conv nets, one run of all four lr-free optimizers and the
# range test at the study's seeds would take 4 to 5 hours per problem; the chapter glues it).
PUBLISHED = {"mnist_logreg": KINDS, "fmnist_logreg": KINDS, "fmnist_mlp": ONE_RUN}


def check(problem: str) -> tuple[str, ...]:
    """The kinds of alternative the report runs on ``problem``; a clear error if none."""
    from ..errors import UsageError
    lr_study.budget(problem)
    if problem not in PUBLISHED:
        raise UsageError(f"the report runs no alternatives on {problem!r}; it runs them on "
                         f"{', '.join(PUBLISHED)} (lrsweep.study.beyond.PUBLISHED)")
    return PUBLISHED[problem]


def at_default_specs(problem: str) -> list:
    """One spec per lr-free optimizer: its default lr, the problem's stage-2 seeds and budget."""
    from ..engine.sweep import SweepSpec
    return [SweepSpec([problem], [o], [optim.get(o).default_lr], lr_study.stage2_seeds_of(problem),
                      lr_study.budget(problem)) for o in AT_DEFAULT]


def range_test_spec(problem: str, optimizer: str, range_dir: str | Path, train_missing: bool = True):
    """The range test's pick (run and stored in ``range_dir`` if missing and
    ``train_missing``), trained with the problem's stage-2 seeds."""
    from ..engine.sweep import SweepSpec
    picked = range_test.stored(problem, optimizer, RANGE_TEST_SEED, range_dir, train_missing)["picked_lr"]
    return SweepSpec([problem], [optimizer], [float(f"{picked:.3g}")], lr_study.stage2_seeds_of(problem),
                     lr_study.budget(problem))


def run(problem: str, results_dir=None, range_dir: str | Path | None = None, *,
        train_missing: bool = True, **sweep_options) -> pd.DataFrame:
    """The runs of every alternative ``PUBLISHED`` for ``problem`` (missing ones trained
    unless ``train_missing`` is False); the tidy table of all of them."""
    from ..store import paths
    from ..engine.sweep import run_sweep
    kinds = check(problem)
    range_dir = Path(range_dir or paths.ROOT / "data" / "range_tests")
    specs = at_default_specs(problem) if "at_default" in kinds else []
    if "range_test" in kinds:
        specs.append(range_test_spec(problem, "adam", range_dir, train_missing))
    tables = [run_sweep(specs, results_dir, train_missing=train_missing, **sweep_options)] if specs else []
    for design in VARIANTS.values() if "variants" in kinds else ():
        tables.append(lr_study.run(problem, results_dir, train_missing=train_missing, **design,
                                **sweep_options))
    return pd.concat(tables, ignore_index=True)


def complete(problem: str, results_dir=None, range_dir: str | Path | None = None) -> tuple[bool, int, int]:
    """Whether the runs of every alternative ``PUBLISHED`` for ``problem`` are stored, and
    how many of those planned so far are (a variant's stage 2 is planned once its stage 1 is
    complete)."""
    from ..store import paths
    from ..engine.sweep import plan
    kinds = check(problem)
    range_dir = Path(range_dir or paths.ROOT / "data" / "range_tests")
    specs = at_default_specs(problem) if "at_default" in kinds else []
    tested = "range_test" not in kinds or (range_dir / problem / f"adam-seed{RANGE_TEST_SEED}.json").is_file()
    if tested and "range_test" in kinds:
        specs.append(range_test_spec(problem, "adam", range_dir, train_missing=False))
    done, todo = plan(specs, paths.runs_dir(results_dir))
    n_done, n_planned, all_done = len(done), len(done) + len(todo) + (not tested), tested and not todo
    for design in VARIANTS.values() if "variants" in kinds else ():
        now = lr_study.progress(problem, results_dir, **design)
        n_done, n_planned, all_done = n_done + now.done, n_planned + now.planned, all_done and now.complete
    return all_done, n_done, n_planned

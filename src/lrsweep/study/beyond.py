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

from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import ClassVar, Mapping

import pandas as pd

from ..errors import UsageError
from ..store import optim
from ..engine import range_test
from . import lr_study
from .progress import Progress

AT_DEFAULT = ("prodigy", "dadapt_adam", "dog", "schedulefree_adamw")
VARIANTS = {"AMSGrad": {"optimizers": ["amsgrad"]},
            "Adam, cosine schedule": {"optimizers": ["adam"], "settings": {"schedule": "cosine"}}}
KINDS = ("at_default", "range_test", "variants")
ONE_RUN = ("at_default", "range_test")  # one training run per seed at the problem's budget


@dataclass(frozen=True)
class Alternatives:
    """``kinds``: problem -> the kinds of alternative (``KINDS``) run on it; each on the
    budgets and stage-2 seeds of ``study``; the range test with ``range_seed`` and
    ``range_steps`` steps, stored in ``range_dir`` (None: data/range_tests)."""
    kinds: Mapping[str, tuple[str, ...]]
    study: lr_study.LrStudy = lr_study.PUBLISHED
    range_seed: int = 0
    range_steps: int = range_test.STEPS

    name: ClassVar[str] = "beyond"
    about: ClassVar[str] = ("the alternatives to tuning Adam's lr on some problems (lrsweep.study.beyond.PUBLISHED): "
                            "lr-free optimizers, AMSGrad, cosine, the LR range test")

    def check(self, problem: str) -> tuple[str, ...]:
        """The kinds of alternative run on ``problem``; a clear error if none."""
        self.study.budget(problem)
        if problem not in self.kinds:
            raise UsageError(f"the report runs no alternatives on {problem!r}; it runs them on "
                             f"{', '.join(self.kinds)} (lrsweep.study.beyond.PUBLISHED)")
        return self.kinds[problem]

    def at_default_specs(self, problem: str) -> list:
        """One spec per lr-free optimizer: its default lr, the problem's stage-2 seeds and budget."""
        from ..engine.spec import SweepSpec
        return [SweepSpec([problem], [o], [optim.get(o).default_lr], self.study.stage2_seeds_of(problem),
                          self.study.budget(problem)) for o in AT_DEFAULT]

    def range_test(self, problem: str, range_dir: str | Path | None = None, train_missing: bool = True) -> dict:
        """Adam's range test on ``problem`` (run and stored if missing and ``train_missing``)."""
        return range_test.stored(problem, "adam", self.range_seed, _range_dir(range_dir), train_missing,
                                 steps=self.range_steps)

    def range_test_spec(self, problem: str, range_dir: str | Path | None = None, train_missing: bool = True):
        """The range test's pick, trained with the problem's stage-2 seeds."""
        from ..engine.spec import SweepSpec
        picked = self.range_test(problem, range_dir, train_missing)["picked_lr"]
        return SweepSpec([problem], ["adam"], [float(f"{picked:.3g}")], self.study.stage2_seeds_of(problem),
                         self.study.budget(problem))

    def variants(self, problem: str) -> list[lr_study.LrStudy]:
        """The tuned variants run on ``problem``: the study, varied."""
        return [self.study.varied(**v) for v in VARIANTS.values()] if "variants" in self.check(problem) else []

    def run(self, problem: str, results_dir=None, range_dir: str | Path | None = None, *,
            train_missing: bool = True, **sweep_options) -> pd.DataFrame:
        """The runs of every alternative for ``problem`` (missing ones trained unless
        ``train_missing`` is False); the tidy table of all of them."""
        from ..engine.sweep import run_sweep
        kinds = self.check(problem)
        specs = self.at_default_specs(problem) if "at_default" in kinds else []
        if "range_test" in kinds:
            specs.append(self.range_test_spec(problem, range_dir, train_missing))
        tables = [run_sweep(specs, results_dir, train_missing=train_missing, **sweep_options)] if specs else []
        tables += [v.run(problem, results_dir, train_missing=train_missing, **sweep_options)
                   for v in self.variants(problem)]
        return pd.concat(tables, ignore_index=True)

    def stored(self, problem: str, results_dir=None,
               range_dir: str | Path | None = None) -> tuple[pd.DataFrame | None, Progress]:
        """The tidy table of every alternative's runs on ``problem`` once all are stored
        (None before), and how many of the runs planned so far are stored (a variant's
        stage 2 is planned once its stage 1 is complete; the range test's pick once the test
        is stored): the store read once; trains nothing."""
        from ..engine.sweep import plan
        from ..store import records
        from ..store.paths import runs_dir
        kinds = self.check(problem)
        specs = self.at_default_specs(problem) if "at_default" in kinds else []
        tested = "range_test" not in kinds or range_test.path_for(
            _range_dir(range_dir), problem, "adam", self.range_seed).is_file()
        if tested and "range_test" in kinds:
            specs.append(self.range_test_spec(problem, range_dir, train_missing=False))
        done, todo = plan(specs, runs_dir(results_dir)) if specs else ([], [])
        tables = [records.tidy(done, self.study.budget(problem))] if specs else []
        n_done, planned, final = len(done), len(done) + len(todo) + (not tested), tested
        for variant in self.variants(problem):
            table, running = variant.stored([problem], results_dir, train_missing=False)
            if table is None:
                v = running[problem]
                n_done, planned, final = n_done + v.done, planned + v.planned, final and v.stage == v.stages
            else:
                n = table["run_id"].nunique()
                n_done, planned = n_done + n, planned + n
                tables.append(table)
        now = Progress(n_done, planned, stage=2 if final else 1, stages=2, what="its alternatives")
        return (pd.concat(tables, ignore_index=True) if now.complete else None), now

    def progress(self, problem: str, results_dir=None, range_dir: str | Path | None = None) -> Progress:
        return self.stored(problem, results_dir, range_dir)[1]


def _range_dir(range_dir) -> Path:
    from ..store import paths
    return Path(range_dir or paths.ROOT / "data" / "range_tests")


# The alternatives had a budget of about 5 hours of the 2-core machine, so: every kind
# where runs are cheap (logistic regression); on fmnist_mlp only those that cost one run,
# since a tuned variant costs a whole grid, as much as tuning itself, and so cannot be the
# cheapest; elsewhere none (on the conv nets, one run of all four lr-free optimizers and the
# range test at the study's seeds would take 4 to 5 hours per problem; the chapter glues it).
PUBLISHED = Alternatives(MappingProxyType({"mnist_logreg": KINDS, "fmnist_logreg": KINDS, "fmnist_mlp": ONE_RUN}))

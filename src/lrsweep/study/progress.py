"""What every design shares: how far it is (``Progress``) and the protocol the CLI and the
pages drive it through (``StudyDesign``). A design is a frozen dataclass; the published
one is an instance, and a test or a rerun passes a smaller one."""
from __future__ import annotations

from pathlib import Path
from typing import NamedTuple, Protocol

import pandas as pd


class Progress(NamedTuple):
    """How far a design is on one problem: ``done`` of the ``planned`` runs are stored. A
    design in stages plans a later stage only once the earlier ones are stored, so it is
    complete when its last stage is planned and stored; ``what`` names the runs counted
    ("stage 2", "its alternatives")."""
    done: int
    planned: int
    stage: int = 1
    stages: int = 1
    what: str = "its runs"

    @property
    def complete(self) -> bool:
        return self.stage == self.stages and self.done == self.planned


class StudyDesign(Protocol):
    """A design the CLI runs problem by problem (``lrsweep <name> PROBLEM ...``)."""
    name: str    # the CLI command
    about: str   # its help, "run (or resume) <about>"

    def check(self, problem: str) -> object:
        """Its plan for ``problem``; a clear error (``UsageError``) if it has none."""

    def progress(self, problem: str, results_dir: str | Path | None = None) -> Progress:
        """How many of its runs on ``problem`` are stored; trains nothing."""

    def run(self, problem: str, results_dir: str | Path | None = None, *,
            train_missing: bool = True, **sweep_options) -> pd.DataFrame:
        """Its runs on ``problem``, the missing ones trained (unless ``train_missing`` is
        False: then a missing run is an error), as a tidy table."""


def counted(specs: list, results_dir=None, **progress) -> Progress:
    """``Progress`` of the runs ``specs`` plan (stored or not)."""
    from ..engine.sweep import plan
    from ..store.paths import runs_dir
    done, todo = plan(specs, runs_dir(results_dir))
    return Progress(len(done), len(done) + len(todo), **progress)

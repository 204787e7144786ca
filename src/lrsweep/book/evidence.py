"""What a page reads from a record store, each study read once and shared by the page's
sections. A notebook opens one ``Evidence`` from its parameters (``Evidence.of_page``) and
hands it to its page; the page asks it for tables and never sees a directory or a flag.

``study`` is the page's own lr study (a rerun's variant, or the published one) on
``problems``; ``designs`` are the report's other designs, read beside it. ``may_train``:
the runs of the page's own study that the store lacks are trained (a variant book); with it
False, a study still running is reported as progress instead.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..stats import analysis
from ..store import paths, records
from ..study.lr_study import LrStudy
from ..study.progress import Progress
from ..study.registry import PUBLISHED, Designs


class Evidence:
    def __init__(self, results_dir: str | Path | None = None, *, may_train: bool = False,
                 study: LrStudy | None = None, problems: list[str] | None = None,
                 designs: Designs = PUBLISHED, range_dir: str | Path | None = None):
        self.results_dir, self.may_train, self.designs, self.range_dir = results_dir, may_train, designs, range_dir
        self.study = study or designs.study
        self.problems = list(problems or self.study.problems)
        self._read: dict[tuple[str, str], tuple[pd.DataFrame | None, Progress | None]] = {}
        self._records: list | None = None

    @property
    def store(self) -> Path:
        """The record store's directory."""
        return paths.runs_dir(self.results_dir)

    def records(self) -> list:
        """Every record of the store (its runs of any design), read once."""
        if self._records is None:
            self._records = records.load_all(self.store)
        return self._records

    @classmethod
    def of_page(cls, problems: list[str] | None = None, results_dir: str | Path | None = None, *,
                train_missing: bool = False, optimizers=None, lrs=None, epochs: int | None = None,
                stage2_seeds=None, designs: Designs = PUBLISHED) -> "Evidence":
        """A page's evidence from its notebook's parameters (each design argument None: as
        published; ``LrStudy.varied``)."""
        study = designs.study.varied(optimizers=optimizers, lrs=lrs, epochs=epochs, stage2_seeds=stage2_seeds)
        return cls(results_dir, may_train=train_missing, study=study, problems=problems, designs=designs)

    def studied(self, study: LrStudy | None = None, problems: list[str] | None = None,
                may_train: bool | None = None) -> tuple[pd.DataFrame | None, dict[str, Progress]]:
        """``study.stored`` (None: the page's study, its problems, its ``may_train``): the
        tidy table of the problems whose study is complete, and the progress of the others.
        Each problem's study is read once per page (read again only to train it)."""
        study, problems = study or self.study, problems or self.problems
        may_train = self.may_train if may_train is None else may_train

        def read(p):
            table, now = study.stored([p], self.results_dir, train_missing=may_train)
            return table, now.get(p)
        return self._each(problems, lambda p: (repr(study), p), read,
                          again=lambda table: may_train and table is None)

    def fine(self) -> tuple[pd.DataFrame | None, dict[str, Progress]]:
        """The quarter-decade design's runs (``designs.fine``) on the page's problems where
        it is complete, and the progress of those where it is not; never trains (its runs
        are trained from the command line, ``lrsweep fine PROBLEM``)."""
        fine = self.designs.fine
        return self._each([p for p in self.problems if p in fine.problems], lambda p: ("fine", p),
                          lambda p: fine.stored(p, self.results_dir))

    def _each(self, problems: list[str], key, read, again=lambda table: False):
        """``read(p)`` -> (table or None, progress) of each problem, once per page under
        ``key(p)`` (again where ``again(table)``): the tables of those stored, concatenated,
        and the progress of the others."""
        tables, running = [], {}
        for p in problems:
            if (k := key(p)) not in self._read or again(self._read[k][0]):
                self._read[k] = read(p)
            table, now = self._read[k]
            if table is None:
                running[p] = now
            else:
                tables.append(table)
        return (pd.concat(tables, ignore_index=True) if tables else None), running

    def fine_basins(self, partial: bool = False) -> pd.DataFrame | None:
        """``analysis.fine_basins`` of the quarter-decade design once it is complete on all
        the page's problems it covers (None before: the half-decade basins speak alone);
        with ``partial``, of the problems where it is complete so far."""
        table, running = self.fine()
        if table is None or (running and not partial):
            return None
        return analysis.fine_basins(analysis.final_epoch(table), self.designs.fine.study.stage1_seeds)

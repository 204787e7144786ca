"""Every design of the report in one place: the published instances, and the registry the
CLI dispatches over (``lrsweep <name> PROBLEM ...``)."""
from __future__ import annotations

from dataclasses import dataclass, fields, replace

from . import batch_lr, beyond, budget, design, fine_basin, lr_study
from .progress import StudyDesign


@dataclass(frozen=True)
class Designs:
    """The report's designs: the lr study, and those centred on it or read beside it."""
    study: lr_study.LrStudy = lr_study.PUBLISHED
    alternatives: beyond.Alternatives = beyond.PUBLISHED
    batch: batch_lr.BatchSweep = batch_lr.PUBLISHED
    sobol: design.SobolDesigns = design.PUBLISHED
    long: budget.LongBudget = budget.PUBLISHED
    fine: fine_basin.FineBasin = fine_basin.PUBLISHED

    def around(self, study: lr_study.LrStudy) -> "Designs":
        """These designs with ``study`` in place of the lr study, the alternatives, the
        batch-size sweep and the quarter-decade points centred on it (a test's or a rerun's
        smaller study)."""
        return replace(self, study=study, alternatives=replace(self.alternatives, study=study),
                       batch=replace(self.batch, study=study), fine=replace(self.fine, study=study))

    def by_name(self) -> dict[str, StudyDesign]:
        return {d.name: d for d in (getattr(self, f.name) for f in fields(self))}


PUBLISHED = Designs()

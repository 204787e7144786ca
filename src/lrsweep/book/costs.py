"""What the study cost: training hours and runs per chapter, from the records' wall time."""
from __future__ import annotations

import pandas as pd

from ..store import problems
from ..study import fine_basin, lr_study


def chapter_of(cfg: dict, study: lr_study.LrStudy = lr_study.PUBLISHED,
               fine: fine_basin.FineBasin = fine_basin.PUBLISHED) -> str:
    """The chapter of ``study`` whose runs a record's config is: its grid with the library's
    defaults belongs to its problem's chapter; the quarter-decade points (``fine``) to the
    synthesis, which reads them; anything else (other optimizers, settings, batch sizes or
    lrs) to "beyond" (runs the study reused there count once, in the study)."""
    if fine.owns(cfg):
        return "synthesis"
    from ..store import optim
    chapter = next((c for c, ps in study.chapters.items() if cfg["problem"] in ps), "none")
    spec = optim.OPTIMIZERS.get(cfg["optimizer"])
    in_study = (cfg["optimizer"] in study.optimizers and cfg["lr"] in study.grid_of(cfg["problem"])
                and "schedule" not in cfg and cfg["hparams"] == spec.defaults
                and cfg["batch_size"] == problems.get(cfg["problem"]).batch_size)
    return chapter if in_study else "beyond"


def run_costs(recs: list, study: lr_study.LrStudy = lr_study.PUBLISHED) -> pd.DataFrame:
    """Training hours of records ``recs`` (summed wall time: runs went in parallel) and
    runs, per chapter, problem and optimizer, with the budget each was trained for."""
    rows = [{"chapter": chapter_of(r["config"], study),
             "problem": r["config"]["problem"], "optimizer": r["config"]["optimizer"],
             "budget": r["budget"], "hours": r["wall_time_s"] / 3600}
            for r in recs]
    return (pd.DataFrame(rows, columns=["chapter", "problem", "optimizer", "budget", "hours"])
            .groupby(["chapter", "problem", "optimizer", "budget"], as_index=False)
            .agg(runs=("hours", "size"), hours=("hours", "sum")))


def chapter_hours(chapter: str, recs: list, study: lr_study.LrStudy = lr_study.PUBLISHED) -> float:
    """Training hours of the runs counted in ``chapter`` (``chapter_of``)."""
    cost = run_costs(recs, study)
    return float(cost.loc[cost["chapter"] == chapter, "hours"].sum())


def study_run_hours(recs: list, study: lr_study.LrStudy = lr_study.PUBLISHED) -> dict[str, float]:
    """Per problem with one, the mean training hours of a run of its study that trained its
    whole budget (a diverged run stops early and would make the mean look cheap), from
    records ``recs``."""
    hours: dict[str, list[float]] = {}
    for r in recs:
        p = r["config"]["problem"]
        if (r["status"] == "ok" and r["budget"] == study.budget(p)
                and chapter_of(r["config"], study) != "beyond"):
            hours.setdefault(p, []).append(r["wall_time_s"] / 3600)
    return {p: sum(h) / len(h) for p, h in hours.items()}

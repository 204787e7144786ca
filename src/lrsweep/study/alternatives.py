"""What each alternative to tuning Adam's lr costs, and what it loses against tuned Adam
(the main study's two-stage tuning over the grid), per problem.

Cost is counted in training runs at the problem's budget that the choice needs, for one
seed: 1 for a fixed setting, k for a k-point grid, the whole grid for full tuning, and a
fraction of a run more for the LR range test's ramp. Regret is tuned Adam's test accuracy
minus the alternative's, paired by seed (``analysis.regret`` within Adam's grid,
``analysis.regret_against`` for everything else).
"""
from __future__ import annotations

import pandas as pd

from ..store import optim
from ..stats import analysis
from . import beyond, lr_study

ADAM = "adam"
REFERENCE = "Adam, tuned (reference)"  # shown beside the alternatives, never one of them


def _runs_at(final: pd.DataFrame, problem: str, optimizer: str, lr: float, hparams: str | None = None):
    rows = final[(final["problem"] == problem) & (final["optimizer"] == optimizer)
                 & (final["lr"] == lr)]
    return rows if hparams is None else rows[rows["hparams"] == hparams]


def _tuned_runs(cell: pd.DataFrame) -> pd.DataFrame:
    return cell[cell["lr"] == analysis.tuned_lr(cell)]


def table(main: pd.DataFrame, extra: pd.DataFrame, range_picks: dict[str, tuple[float, float]],
          study: lr_study.LrStudy = lr_study.PUBLISHED) -> pd.DataFrame:
    """``main``: the final-epoch rows (``analysis.final_epoch``) of ``study``; ``extra``:
    the alternatives' (``beyond.Alternatives.run``); ``range_picks``: per problem, the
    range test's picked lr (as trained) and its ramp's length in epochs."""
    out = []
    adam_hp = main.loc[main["optimizer"] == ADAM, "hparams"].iloc[0]
    for problem, cell in main[(main["optimizer"] == ADAM) & (main["hparams"] == adam_hp)].groupby("problem"):
        budget = study.budget(problem)

        def row(name, cost, r, own_runs=True):  # own_runs: trained for it, not read from the study
            out.append(dict(problem=problem, alternative=name, cost_runs=cost, regret=r["regret"],
                            lo=r["lo"], hi=r["hi"], n=r["n"], paired=r["paired"],
                            lead=r.get("lead", float("nan")), own_runs=own_runs))
        default = optim.get(ADAM).default_lr
        row(f"Adam at {default:g}", 1, analysis.regret(cell, default), own_runs=False)
        for name, grid in analysis.COARSE_GRIDS.items():
            lr = analysis.grid_choice(cell, grid)
            if lr is not None:
                row(f"grid: {name}", len(grid), analysis.regret(cell, lr), own_runs=False)
        if problem in range_picks:
            lr, ramp_epochs = range_picks[problem]
            runs = _runs_at(extra, problem, ADAM, lr, adam_hp)
            if len(runs):
                row("LR range test", 1 + ramp_epochs / budget, analysis.regret_against(cell, runs))
        for o in beyond.AT_DEFAULT:
            runs = _runs_at(extra, problem, o, optim.get(o).default_lr)
            if len(runs):
                row(f"{optim.get(o).label} at its default", 1, analysis.regret_against(cell, runs))
        for name in beyond.VARIANTS:
            mine = extra[(extra["problem"] == problem) & _is_variant(extra, name)]
            if len(mine):
                row(f"{name}, tuned", mine["lr"].nunique(), analysis.regret_against(cell, _tuned_runs(mine)))
        row(REFERENCE, cell["lr"].nunique(), analysis.regret(cell, analysis.tuned_lr(cell)), own_runs=False)
    return pd.DataFrame(out)


def _is_variant(frame: pd.DataFrame, name: str) -> pd.Series:
    v = beyond.VARIANTS[name]
    schedule = (v.get("settings") or {}).get("schedule")
    is_opt = frame["optimizer"].isin(v["optimizers"])
    has_schedule = frame["hparams"].str.contains("schedule=")
    return is_opt & (has_schedule if schedule else ~has_schedule)


def cheapest_within(rows: pd.DataFrame, delta: float = analysis.DELTA) -> str | None:
    """The cheapest alternative whose regret interval lies below ``delta`` on every problem
    (an alternative missing on a problem, or without an interval there, does not qualify;
    tuned Adam itself is the reference, not an alternative)."""
    n = rows["problem"].nunique()
    rows = rows[rows["alternative"] != REFERENCE]
    ok = rows.groupby("alternative").apply(
        lambda g: g["problem"].nunique() == n and bool((g["hi"] < delta).all()), include_groups=False)
    cost = rows.groupby("alternative")["cost_runs"].max()
    good = cost[ok[ok].index].sort_values(kind="stable")
    return None if good.empty else str(good.index[0])

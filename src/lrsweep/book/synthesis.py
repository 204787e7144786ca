"""The synthesis chapter: the answer across problems, asked fairly of both optimizers. Basin
widths at three tolerances, one lr for every task (leave-one-task-out), the coarse grids,
the best lr against the epoch budget, and a recommendation worded by a rule fixed before
the results were read (``recommendation``). The page's prose is MyST in its notebook.
"""
from __future__ import annotations

import math

import pandas as pd

from ..errors import UsageError
from ..store import optim
from ..stats import analysis
from ..study import lr_study
from . import beyond_summary, claims, figures, report, verdicts, wording
from .evidence import Evidence


def _in_book_order(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows by problem in the book's chapter order, then by optimizer in registry order."""
    rank = {name: i for i, name in enumerate([*lr_study.PUBLISHED.problems, *optim.OPTIMIZERS])}
    return rows.sort_values(["problem", "optimizer"], key=lambda c: c.map(rank).fillna(len(rank)),
                            kind="stable", ignore_index=True)


NAMES = {"problem": ("problem", wording.readable), "optimizer": ("optimizer", wording.optimizer_name)}


def basin_table(summary: pd.DataFrame, decimals: int = 1) -> report.Table:
    """Per problem and optimizer, each basin width with the most the grid allows (to
    ``decimals``: 1 on the half-decade grid, 2 on the quarter-decade points)."""
    cols = dict(NAMES)
    shown = _in_book_order(summary)
    for d in analysis.BASIN_DELTAS:
        k = f"basin_{round(d * 1000)}"
        shown[k + "_shown"] = [report.fmt_basin(w, m, decimals) for w, m in zip(shown[k], shown[k + "_most"])]
        cols[f"decades within {100 * d:g} pt"] = (k + "_shown", "{}")
    return report.table(shown, cols)


def choices_table(rows: pd.DataFrame, how: str) -> report.Table:
    """Rows of ``analysis.fixed_lr_table`` or ``grid_table`` as one row per problem and
    optimizer and a column per choice (``how``): the lr chosen, its regret with interval, n."""
    shown = report.with_regret_text(rows)
    lr = shown["lr"].map(lambda x: "none on the grid" if x is None or math.isnan(x) else report.fmt_lr(x))
    shown["cell"] = [f"{x}: {rc}, n = {n}" for x, rc, n in zip(lr, shown["regret_ci"], shown["n"])]
    wide = shown.pivot(index=["problem", "optimizer"], columns=how, values="cell").reset_index()
    choices = list(dict.fromkeys(rows[how]))
    return report.table(_in_book_order(wide), {**NAMES, **{c: (c, "{}") for c in choices}})


def fine_section(evidence: Evidence) -> tuple[str, dict]:
    """The basins on the quarter-decade design (``study.fine_basin``) where its runs are all
    stored: MyST text and the values it glues, and what is still running (the sensitivity
    rule reads them only once every problem of the design has them)."""
    running, fine = evidence.fine()[1], evidence.fine_basins(partial=True)
    note = verdicts.pending_note(running)
    if fine is None:
        return note or "No quarter-decade points are planned on these problems.\n", {}
    values = {"fine_table": basin_table(fine, decimals=2),
              "fine_problems": wording.and_list([wording.readable(p) for p in fine["problem"].unique()]),
              "fine_seeds": wording.plural(len(evidence.designs.fine.study.stage1_seeds), "seed")}
    if running:
        note += (" Until they are, the sensitivity near the best is worded from the half-decade basins "
                 "([Method](method)).")
    return report.fill("fine_basins", pending=note, table=report.table_block(
        "fine_table", "Basin widths on the quarter-decade grid near the best: decades of learning rate "
        "within each tolerance of the best, per problem and optimizer (one seed)", "tbl-fine-basins")), values


def recommendation(final: pd.DataFrame, optimizer: str = "adam") -> str:
    """The cheapest way to set ``optimizer``'s lr that stayed within the tolerance on every
    problem, from the library default (1 run) through the coarse grids by their size; or
    that none did, so the lr must be tuned over a full grid."""
    spec = optim.get(optimizer)
    tol = wording.tolerance()
    n = final.loc[final["optimizer"] == optimizer, "problem"].nunique()
    if (found := verdicts.cheapest(final, optimizer)) is not None:
        runs, what = found
        return (f"For {spec.label}, {what} ({runs} training run{'s' if runs > 1 else ''} per "
                f"seed) lost less than {tol} against tuning on every one of the {n} problems, "
                f"the whole {analysis.LEVEL:.0%} interval included; it is the cheapest choice "
                "here that did.")
    default_rows = verdicts.options(final, optimizer)[0][2]
    return (f"For {spec.label}, neither its default nor any of the coarse grids stayed within "
            f"{tol} of tuning on every one of the {n} problems (with the whole "
            f"{analysis.LEVEL:.0%} interval), so tuning its learning rate over a half-decade grid "
            f"is the only choice shown safe on all of them. {_default_verdicts(default_rows, spec)}")


def _default_verdicts(summary: pd.DataFrame, spec) -> str:
    """Where the default stood, by the verdict rule: within the tolerance, beyond, or untold."""
    tol = wording.tolerance()
    words = dict(zip(analysis.VERDICTS, (f"it lost less than {tol} on", f"it lost more than {tol} on",
                                         "the seeds cannot tell on")))
    parts = [f"{words[v]} {wording.problems_phrase(len(names), len(summary), sorted(names))}"
             for v, names in verdicts.by_verdict(summary).items() if names]
    return f"At its default {spec.default_lr:g}, " + "; ".join(parts) + "."


def budget_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The tuned lr at every epoch budget, and how far it moved over the second half of
    the budget (decades), per problem and optimizer."""
    by = analysis.tuned_by_budget(table)
    out = []
    for (prob, opt), sub in by.groupby(["problem", "optimizer"]):
        end = int(sub["epoch"].max())
        half = sub[sub["epoch"] == max(1, end // 2)]["tuned_lr"].iloc[0]
        last = sub[sub["epoch"] == end]["tuned_lr"].iloc[0]
        out.append(dict(problem=prob, optimizer=opt, half=end // 2 or 1, end=end, lr_half=half,
                        lr_end=last, decades=math.log10(last / half)))
    return pd.DataFrame(out)


def run(evidence: Evidence, figures_dir=None) -> dict:
    """The values the synthesis glues (its prose is MyST in chapters/synthesis.ipynb), from
    the page's study on every problem of ``evidence`` whose runs are all stored."""
    from ..stats import deepobs
    problems_ = evidence.problems
    table, running = evidence.studied()
    shares, designs_running, near, _ = beyond_summary.read_designs(evidence)  # read once, used twice
    values = {"pending_note": verdicts.pending_note(running), "level": f"{analysis.LEVEL:.0%}",
              "delta": f"{100 * analysis.DELTA:g}", "n_problems": str(len(problems_) - len(running)),
              "plain_answer": verdicts.plain_answer(pd.DataFrame(columns=["optimizer"]))}
    if table is None:
        raise UsageError("the synthesis reads stored studies, and none of these problems has all its runs "
                         f"stored yet: {values['pending_note']} Train them (train_missing=True, or "
                         "python -m lrsweep study PROBLEM).")
    final = analysis.final_epoch(table)
    summary = analysis.summary(final)
    fixed = analysis.fixed_lr_table(final)
    fine = evidence.fine_basins()
    grids = analysis.grid_table(final)
    budget = budget_rows(table)
    theirs = deepobs.best_lr_by_epoch(deepobs.load())
    values.update(
        basin_deltas=" / ".join(f"{100 * d:g}" for d in analysis.BASIN_DELTAS) + " points",
        basin_table=basin_table(summary),
        **figures.placed("fig-basin", figures.basin_overview(summary), figures_dir),
        fixed_table=choices_table(fixed.replace({"choice": {
            "leave-one-task-out": "one lr, chosen on the other problems",
            "library default": "the library default"}}), "choice"),
        grid_table=choices_table(grids, "grid"),
        budget_table=report.table(_in_book_order(budget), {**NAMES,
            "tuned lr, half the budget": ("lr_half", report.fmt_lr), "epochs": ("half", "{}"),
            "tuned lr, full budget": ("lr_end", report.fmt_lr), "budget": ("end", "{}"),
            "change (decades)": ("decades", "{:+.1f}")}),
        budget_max_drift=f"{budget['decades'].abs().max():.1f}",
        **figures.placed("fig-fixed-lr", figures.regret_overview(fixed, label="choice"), figures_dir),
        **figures.placed("fig-grids", figures.regret_overview(grids, label="grid"), figures_dir),
        **figures.placed("fig-best-lr-budget", figures.best_lr_by_budget(
            analysis.tuned_by_budget(table), theirs[theirs["problem"].isin(final["problem"])]), figures_dir),
        recommendations=" ".join(recommendation(final, o) for o in sorted(set(final["optimizer"]))),
        claims_table=claims.shown(claims.table(final, table, shares=shares, near=near)),
        plain_answer=verdicts.plain_answer(summary, fixed, fine),
        influence_sentence=verdicts.influence_sentence(summary, fixed, fine=fine),
        adam_default_lr=f"{optim.get('adam').default_lr:g}", deepobs_epochs=str(int(theirs["epoch"].max())),
        importance=beyond_summary.importance_short(shares, designs_running),
        batch_caveat=beyond_summary.batch_caveat(evidence))
    return values

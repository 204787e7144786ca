"""The rules that word the answer, fixed before the results they decide were read: the
verdict on the default per problem, the two kinds of influence, the cheapest choice within
the tolerance, and what a page says while a study is still running. The first page, the
synthesis and the Method read them from here."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..store import optim, problems
from ..stats import analysis
from ..study import budget, lr_study
from ..study.progress import Progress
from . import report, wording

# Two optimizers' median basin widths at most one grid step (half a decade) apart are "about
# the same": basins are counted in grid steps, so one step is the least the grid resolves.
SAME_BASIN = 0.5
# The same rule on the quarter-decade points near the best (study.fine_basin): one step of
# that grid. Fixed, with the rule that prefers it, before any of those runs was trained.
SAME_FINE_BASIN = 0.25


def by_verdict(summary: pd.DataFrame) -> dict[str, list[str]]:
    """The problems of ``summary`` (one optimizer's rows) under each verdict of ``analysis.verdict``."""
    return {v: list(summary.loc[summary["verdict"] == v, "problem"]) for v in analysis.VERDICTS}


def verdict_sentence(summary: pd.DataFrame, optimizer: str = "adam") -> str:
    """The verdicts on ``optimizer``'s default lr (the rule of ``analysis.verdict``),
    counted over the problems and naming them."""
    ref = summary[summary["optimizer"] == optimizer]
    spec = optim.get(optimizer)
    total = len(ref)
    if total == 0:
        return f"No problem of this study has all its runs yet, so there is no answer for {spec.label}."
    by = by_verdict(ref)
    enough, tune, open_ = by["default is enough"], by["tune the lr"], by["undecided"]
    tol = wording.tolerance()
    parts = []
    if enough:
        parts.append(f"on {wording.problems_phrase(len(enough), total, enough)}, keeping "
                     f"{spec.label}'s learning rate at its default {spec.default_lr:g} cost less "
                     f"than {tol} of test accuracy (the whole {analysis.LEVEL:.0%} interval of the "
                     f"loss lies below {tol})")
    if tune:
        parts.append(f"on {wording.problems_phrase(len(tune), total, tune)}, tuning it gained more "
                     f"than {tol}")
    if open_:
        parts.append(f"on {wording.problems_phrase(len(open_), total, open_)}, the seeds cannot tell "
                     f"whether the default loses more than {tol}")
    first = "; ".join(parts)
    return first[0].upper() + first[1:] + "."


def basin_sentence(summary: pd.DataFrame, optimizer: str = "adam", other: str = "sgd_momentum") -> str:
    """The median basin width (decades of lr within 1 point of the best) of two optimizers
    compared: more or less influential only when they differ by more than ``SAME_BASIN``."""
    if summary.empty:
        return ""
    basins = summary.groupby("optimizer")["basin_10"].median()
    if optimizer not in basins or other not in basins:
        return ""
    a, b = basins[optimizer], basins[other]
    how = ("about as influential as" if abs(a - b) <= SAME_BASIN
           else "less influential than" if a > b else "more influential than")
    spec, them = optim.get(optimizer).label, optim.get(other).label
    return (f"The learning rates within {wording.tolerance()} of the best span a median "
            f"of {a:.1f} decades for {spec} and {b:.1f} for {them}, so {spec}'s learning rate is "
            f"{how} {them}'s.")


def influence(summary: pd.DataFrame, fixed: pd.DataFrame, fine: pd.DataFrame | None = None) -> pd.DataFrame:
    """Both kinds of influence of an optimizer's lr, per optimizer: **sensitivity** near the
    optimum (the median over problems of the decades within ``analysis.DELTA`` of the best;
    with ``fine``, ``analysis.fine_basins`` of the quarter-decade design, also its median
    over that design's problems) and **location**, how far the best lr moves from problem
    to problem (the decades between the smallest and the largest tuned lr) and what one lr
    for every problem costs (the largest leave-one-task-out regret, and on how many problems
    its interval stays within the tolerance)."""
    loto = fixed[fixed["choice"] == "leave-one-task-out"]
    rows = []
    for opt, cell in summary.groupby("optimizer"):
        mine = loto[loto["optimizer"] == opt]
        near = fine[fine["optimizer"] == opt] if fine is not None else fine
        rows.append({"optimizer": opt, "basin": cell["basin_10"].median(),
                     "fine_basin": near["basin_10"].median() if near is not None and len(near) else np.nan,
                     "fine_n": 0 if near is None else len(near),
                     "spread": float(np.log10(cell["best_lr"].max() / cell["best_lr"].min())),
                     "loto_max": mine["regret"].max() if len(mine) else np.nan,
                     "loto_within": int((mine["hi"] < analysis.DELTA).sum()),
                     "loto_untold": int(mine["hi"].isna().sum()), "n": len(cell)})
    return pd.DataFrame(rows).set_index("optimizer")


def _sensitivity(gap: float, same: float) -> str:
    """The rule for sensitivity: median basins (``gap``: the first's minus the second's)
    apart by more than one step of their grid (``same``)."""
    return ("about as sensitive as" if abs(gap) <= same
            else "less sensitive than" if gap > 0 else "more sensitive than")


def sensitivity(a: pd.Series, b: pd.Series) -> tuple[str, str]:
    """Two rows of ``influence`` compared near the optimum: the words and how they were
    measured. The quarter-decade basins decide where both optimizers have them, on the same
    problems; otherwise the half-decade basins of every problem do. Where the two rules word
    it differently, the half-decade reading is said beside (the rule before the finer grid)."""
    tol = wording.tolerance()
    coarse = _sensitivity(a["basin"] - b["basin"], SAME_BASIN)
    on_coarse = (f"the learning rates within {tol} of the best span a median of {a['basin']:.1f} "
                 f"decades against {b['basin']:.1f}, half a decade being the grid's step")
    if not (a["fine_n"] and a["fine_n"] == b["fine_n"]):
        return coarse, on_coarse
    fine = _sensitivity(a["fine_basin"] - b["fine_basin"], SAME_FINE_BASIN)
    how = (f"on a quarter-decade grid near the best, on {wording.plural(int(a['fine_n']), 'problem')} "
           f"with one seed, the learning rates within {tol} of the best span a median of "
           f"{a['fine_basin']:.2f} decades against {b['fine_basin']:.2f}")
    if fine != coarse:
        how += (f"; on the half-decade grid of all {int(a['n'])} problems the rule before it read "
                f"\"{coarse}\" ({a['basin']:.1f} against {b['basin']:.1f} decades)")
    return fine, how


def influence_sentence(summary: pd.DataFrame, fixed: pd.DataFrame, optimizer: str = "adam",
                       other: str = "sgd_momentum", fine: pd.DataFrame | None = None) -> str:
    """The two kinds of influence, each worded by a rule fixed before the runs it reads.
    Sensitivity (``sensitivity``): the median basins differ only beyond one step of their
    grid. Location: one lr for every problem (leave-one-task-out) serves an optimizer on a
    problem when its whole interval lies within the tolerance; the optimizer it serves on
    more problems has its best lr in the more predictable place."""
    inf = influence(summary, fixed, fine)
    if optimizer not in inf.index or other not in inf.index:
        return ""
    a, b = inf.loc[optimizer], inf.loc[other]
    spec, them = optim.get(optimizer).label, optim.get(other).label
    tol = wording.tolerance()
    near, how = sensitivity(a, b)
    where = ("on more problems than" if a["loto_within"] > b["loto_within"]
             else "on fewer problems than" if a["loto_within"] < b["loto_within"] else "on as many problems as")

    def untold(row):
        n = int(row["loto_untold"])
        return f", {n} of them with one seed and so no interval" if n else ""
    return (f"Near its best, {spec}'s learning rate is {near} {them}'s ({how}). Where its best lies "
            f"is another matter: its tuned "
            f"learning rates span {a['spread']:.1f} decades across the problems against "
            f"{b['spread']:.1f}, and one learning rate, chosen on the other problems, stayed within "
            f"{tol} (its whole interval) "
            f"on {int(a['loto_within'])} of {int(a['n'])} problems for {spec}{untold(a)}, and on "
            f"{int(b['loto_within'])} of {int(b['n'])} for {them}{untold(b)}; it lost at most "
            f"{100 * a['loto_max']:.1f} and {100 * b['loto_max']:.1f} points. So one learning rate "
            f"serves {spec} {where} {them}.")


def plain_answer(summary: pd.DataFrame, fixed: pd.DataFrame | None = None,
                 fine: pd.DataFrame | None = None) -> str:
    """The verdicts on Adam's default, then both kinds of influence of its lr against
    SGD-momentum's (``influence_sentence``; without ``fixed``, the basins alone)."""
    second = basin_sentence(summary) if fixed is None else influence_sentence(summary, fixed, fine=fine)
    return " ".join(s for s in (verdict_sentence(summary), second) if s)


def verdict_short(summary: pd.DataFrame, optimizer: str = "adam") -> str:
    """The verdicts on the default in one sentence for the answer box: the count within the
    tolerance, and the problems under the other verdicts by name."""
    ref = summary[summary["optimizer"] == optimizer]
    if ref.empty:
        return ""
    spec, by, total = optim.get(optimizer), by_verdict(ref), len(ref)
    tol = wording.tolerance()
    out = (f"{spec.label}'s default learning rate {spec.default_lr:g} lost less than {tol} of test "
           f"accuracy against tuning on {len(by[analysis.VERDICTS[0]])} of {total} problems")
    if by[analysis.VERDICTS[1]]:
        out += f"; tuning gained more than {tol} on {wording.and_list([wording.readable(p) for p in by[analysis.VERDICTS[1]]])}"
    if by[analysis.VERDICTS[2]]:
        out += f"; on {wording.and_list([wording.readable(p) for p in by[analysis.VERDICTS[2]]])}, the seeds cannot tell"
    return out + "."


def influence_short(summary: pd.DataFrame, fixed: pd.DataFrame, optimizer: str = "adam",
                    other: str = "sgd_momentum", fine: pd.DataFrame | None = None) -> str:
    """``influence_sentence`` in one sentence, by the same rules."""
    inf = influence(summary, fixed, fine)
    if optimizer not in inf.index or other not in inf.index:
        return ""
    a, b = inf.loc[optimizer], inf.loc[other]
    spec, them = optim.get(optimizer).label, optim.get(other).label
    near, _ = sensitivity(a, b)
    return (f"Near its best, its learning rate is {near} {them}'s; one learning rate for all "
            f"problems stayed within {wording.tolerance()} on {int(a['loto_within'])} of "
            f"{int(a['n'])} for {spec} and on {int(b['loto_within'])} of {int(b['n'])} for {them}.")


def scope(problems_: list[str], study) -> str:
    """What the answer was measured on, from the design of ``study`` (an ``LrStudy``)."""
    budgets = sorted({study.budget(p) for p in problems_})
    span = f"{budgets[0]}" if len(budgets) == 1 else f"{budgets[0]} to {budgets[-1]}"
    batch = sorted({problems.get(p).batch_size for p in problems_})
    return (f"{span} epochs, a constant learning rate, batch size {'/'.join(map(str, batch))}, "
            f"small networks without batch normalisation, on a CPU.")


def budget_short(rows: pd.DataFrame) -> str:
    """The verdict at the longest budget the long runs trained past the study's (``rows``:
    ``budget.regret_rows``), problem by problem; empty while none has gone past it."""
    long = rows[(rows["series"] == budget.LONG) & budget.past_study(rows)]
    if long.empty:
        return ""
    last = report.with_regret_text(long.loc[long.groupby("problem", sort=False)["epoch"].idxmax()])
    parts = [f"after {wording.plural(r.epoch, 'epoch')} on {wording.readable(r.problem)}, the default's "
             f"regret is {r.regret_ci}, n = {r.n}: {r.verdict}" for r in last.itertuples()]
    return f"Trained longer: {'; '.join(parts)}."


def cliff_sentence(final: pd.DataFrame, optimizer: str = "adam") -> str:
    """Where one half-decade step above the default costs most (mean test accuracy over the
    seeds each lr has, seed counts said): the asymmetry a practitioner raising the lr meets."""
    spec = optim.get(optimizer)
    up = next((lr for lr in lr_study.PUBLISHED.grid if lr > spec.default_lr), None)
    rows = []
    for problem, cell in final[final["optimizer"] == optimizer].groupby("problem"):
        at = cell.groupby("lr")["test_acc"].agg(["mean", "count"])
        if spec.default_lr in at.index and up in at.index:
            rows.append((at.loc[spec.default_lr, "mean"] - at.loc[up, "mean"], problem, at))
    if not rows:
        return ""
    drop, problem, at = max(rows, key=lambda r: r[0])
    n_up, n_at = int(at.loc[up, "count"]), int(at.loc[spec.default_lr, "count"])
    out = (f"Above the default the ground falls away fastest on {wording.readable(problem)}: at "
           f"{report.fmt_lr(up)}, half a decade up, test accuracy was {report.fmt_pct(at.loc[up, 'mean'])} "
           f"({wording.plural(n_up, 'seed')}) against {report.fmt_pct(at.loc[spec.default_lr, 'mean'])} "
           f"at {spec.default_lr:g} ({wording.plural(n_at, 'seed')}), a drop of {100 * drop:.0f} points")
    others = [r[0] for r in rows if r[1] != problem]
    if others:
        out += f"; on the other problems that step cost at most {100 * max(0.0, max(others)):.1f} points"
    return out + "."


def pending_note(running: dict[str, Progress]) -> str:
    """The page's one status line: what is still running ("" once everything is stored)."""
    if not running:
        return ""
    return ("Still running, so not in the table yet: " + "; ".join(
        f"{p} ({now.done} of {now.planned} runs of {now.what})"
        for p, now in running.items()) + ".")


def options(final: pd.DataFrame, optimizer: str) -> list[tuple[int, str, pd.DataFrame]]:
    """The ways to set ``optimizer``'s lr without a full grid, cheapest first: (runs per
    seed, what it is, its regret rows over the problems)."""
    cell = final[final["optimizer"] == optimizer]
    spec = optim.get(optimizer)
    options = [(1, f"its default {spec.default_lr:g}",
                analysis.summary(cell).rename(columns={"regret_hi": "hi"}))]
    grids = analysis.grid_table(cell)
    for name, grid in sorted(analysis.COARSE_GRIDS.items(), key=lambda kv: len(kv[1])):
        options.append((len(grid), f"choosing on validation among {', '.join(report.fmt_lr(x) for x in grid)}",
                        grids[grids["grid"] == name]))
    return options


def cheapest(final: pd.DataFrame, optimizer: str = "adam") -> tuple[int, str] | None:
    """The cheapest option (``options``) that stayed within the tolerance on every problem,
    the whole interval included; None when none did."""
    return next(((runs, what) for runs, what, rows in options(final, optimizer)
                 if within_tolerance(rows)), None)


def within_tolerance(rows: pd.DataFrame) -> bool:
    """Whether every regret interval's upper end is below the verdict's tolerance (an lr
    with one seed has no interval, so it cannot be shown to be within)."""
    return bool(len(rows)) and bool((rows["hi"] < analysis.DELTA).all())

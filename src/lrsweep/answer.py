"""The answer across problems, for the first page: one table of every problem and optimizer,
an overview figure, and the plain answer. Its sentences are worded by
rules fixed before the study's results were read (``plain_answer``), so the page says what
the records say, for the published study or for any rerun.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import analysis, claims, optim, problems, report, study

# Two optimizers' median basin widths at most one grid step (half a decade) apart are "about
# the same": basins are counted in grid steps, so one step is the least the grid resolves.
SAME_BASIN = 0.5


def _names(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _problems_phrase(n: int, total: int, names: list[str]) -> str:
    return f"{n} of {total} problem{'s' if total != 1 else ''} ({_names([report.readable(p) for p in names])})"


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
    tol = f"{100 * analysis.DELTA:g} point"
    parts = []
    if enough:
        parts.append(f"on {_problems_phrase(len(enough), total, enough)}, keeping "
                     f"{spec.label}'s learning rate at its default {spec.default_lr:g} cost less "
                     f"than {tol} of test accuracy (the whole {analysis.LEVEL:.0%} interval of the "
                     f"loss lies below {tol})")
    if tune:
        parts.append(f"on {_problems_phrase(len(tune), total, tune)}, tuning it gained more "
                     f"than {tol}")
    if open_:
        parts.append(f"on {_problems_phrase(len(open_), total, open_)}, the seeds cannot tell "
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
    return (f"The learning rates within {100 * analysis.DELTA:g} point of the best span a median "
            f"of {a:.1f} decades for {spec} and {b:.1f} for {them}, so {spec}'s learning rate is "
            f"{how} {them}'s.")


def influence(summary: pd.DataFrame, fixed: pd.DataFrame) -> pd.DataFrame:
    """Both kinds of influence of an optimizer's lr, per optimizer: **sensitivity** near the
    optimum (the median over problems of the decades within ``analysis.DELTA`` of the best)
    and **location**, how far the best lr moves from problem to problem (the decades between
    the smallest and the largest tuned lr) and what one lr for every problem costs (the
    largest leave-one-task-out regret, and on how many problems its interval stays within
    the tolerance)."""
    loto = fixed[fixed["choice"] == "leave-one-task-out"]
    rows = []
    for opt, cell in summary.groupby("optimizer"):
        mine = loto[loto["optimizer"] == opt]
        rows.append({"optimizer": opt, "basin": cell["basin_10"].median(),
                     "spread": float(np.log10(cell["best_lr"].max() / cell["best_lr"].min())),
                     "loto_max": mine["regret"].max() if len(mine) else np.nan,
                     "loto_within": int((mine["hi"] < analysis.DELTA).sum()),
                     "loto_untold": int(mine["hi"].isna().sum()), "n": len(cell)})
    return pd.DataFrame(rows).set_index("optimizer")


def _sensitivity(a: pd.Series, b: pd.Series) -> str:
    """The rule for sensitivity: median basins apart by more than one grid step."""
    gap = a["basin"] - b["basin"]
    return ("about as sensitive as" if abs(gap) <= SAME_BASIN
            else "less sensitive than" if gap > 0 else "more sensitive than")


def influence_sentence(summary: pd.DataFrame, fixed: pd.DataFrame, optimizer: str = "adam",
                       other: str = "sgd_momentum") -> str:
    """The two kinds of influence, each worded by a rule fixed before the long runs were
    read. Sensitivity: the median basins differ only beyond one grid step (``SAME_BASIN``
    decades). Location: one lr for every problem (leave-one-task-out) serves an optimizer
    on a problem when its whole interval lies within the tolerance; the optimizer it serves
    on more problems has its best lr in the more predictable place."""
    inf = influence(summary, fixed)
    if optimizer not in inf.index or other not in inf.index:
        return ""
    a, b = inf.loc[optimizer], inf.loc[other]
    spec, them = optim.get(optimizer).label, optim.get(other).label
    tol = f"{100 * analysis.DELTA:g} point"
    near = _sensitivity(a, b)
    where = ("on more problems than" if a["loto_within"] > b["loto_within"]
             else "on fewer problems than" if a["loto_within"] < b["loto_within"] else "on as many problems as")

    def untold(row):
        n = int(row["loto_untold"])
        return f", {n} of them with one seed and so no interval" if n else ""
    return (f"Near its best, {spec}'s learning rate is {near} {them}'s (the learning rates within "
            f"{tol} of the best span a median of {a['basin']:.1f} decades against {b['basin']:.1f}, "
            f"half a decade being the grid's step). Where its best lies is another matter: its tuned "
            f"learning rates span {a['spread']:.1f} decades across the problems against "
            f"{b['spread']:.1f}, and one learning rate, chosen on the other problems, stayed within "
            f"{tol} (its whole interval) "
            f"on {int(a['loto_within'])} of {int(a['n'])} problems for {spec}{untold(a)}, and on "
            f"{int(b['loto_within'])} of {int(b['n'])} for {them}{untold(b)}; it lost at most "
            f"{100 * a['loto_max']:.1f} and {100 * b['loto_max']:.1f} points. So one learning rate "
            f"serves {spec} {where} {them}.")


def plain_answer(summary: pd.DataFrame, fixed: pd.DataFrame | None = None) -> str:
    """The verdicts on Adam's default, then both kinds of influence of its lr against
    SGD-momentum's (``influence_sentence``; without ``fixed``, the basins alone)."""
    second = basin_sentence(summary) if fixed is None else influence_sentence(summary, fixed)
    return " ".join(s for s in (verdict_sentence(summary), second) if s)


def verdict_short(summary: pd.DataFrame, optimizer: str = "adam") -> str:
    """The verdicts on the default in one sentence for the answer box: the count within the
    tolerance, and the problems under the other verdicts by name."""
    ref = summary[summary["optimizer"] == optimizer]
    if ref.empty:
        return ""
    spec, by, total = optim.get(optimizer), by_verdict(ref), len(ref)
    tol = f"{100 * analysis.DELTA:g} point"
    out = (f"{spec.label}'s default learning rate {spec.default_lr:g} lost less than {tol} of test "
           f"accuracy against tuning on {len(by[analysis.VERDICTS[0]])} of {total} problems")
    if by[analysis.VERDICTS[1]]:
        out += f"; tuning gained more than {tol} on {_names([report.readable(p) for p in by[analysis.VERDICTS[1]]])}"
    if by[analysis.VERDICTS[2]]:
        out += f"; on {_names([report.readable(p) for p in by[analysis.VERDICTS[2]]])}, the seeds cannot tell"
    return out + "."


def influence_short(summary: pd.DataFrame, fixed: pd.DataFrame, optimizer: str = "adam",
                    other: str = "sgd_momentum") -> str:
    """``influence_sentence`` in one sentence, by the same rules."""
    inf = influence(summary, fixed)
    if optimizer not in inf.index or other not in inf.index:
        return ""
    a, b = inf.loc[optimizer], inf.loc[other]
    spec, them = optim.get(optimizer).label, optim.get(other).label
    near = _sensitivity(a, b)
    return (f"Near its best, its learning rate is {near} {them}'s; one learning rate for all "
            f"problems stayed within {100 * analysis.DELTA:g} point on {int(a['loto_within'])} of "
            f"{int(a['n'])} for {spec} and on {int(b['loto_within'])} of {int(b['n'])} for {them}.")


def scope(problems_: list[str], epochs: int | None = None) -> str:
    """What the answer was measured on, from the study's design."""
    budgets = sorted({epochs or study.budget(p) for p in problems_})
    span = f"{budgets[0]}" if len(budgets) == 1 else f"{budgets[0]} to {budgets[-1]}"
    batch = sorted({problems.get(p).batch_size for p in problems_})
    return (f"{span} epochs, a constant learning rate, batch size {'/'.join(map(str, batch))}, "
            f"small networks without batch normalisation, on a CPU.")


def cliff_sentence(final: pd.DataFrame, optimizer: str = "adam") -> str:
    """Where one half-decade step above the default costs most (mean test accuracy over the
    seeds each lr has, seed counts said): the asymmetry a practitioner raising the lr meets."""
    spec = optim.get(optimizer)
    up = next((lr for lr in study.GRID if lr > spec.default_lr), None)
    rows = []
    for problem, cell in final[final["optimizer"] == optimizer].groupby("problem"):
        at = cell.groupby("lr")["test_acc"].agg(["mean", "count"])
        if spec.default_lr in at.index and up in at.index:
            rows.append((at.loc[spec.default_lr, "mean"] - at.loc[up, "mean"], problem, at))
    if not rows:
        return ""
    drop, problem, at = max(rows, key=lambda r: r[0])
    n_up, n_at = int(at.loc[up, "count"]), int(at.loc[spec.default_lr, "count"])
    out = (f"Above the default the ground falls away fastest on {report.readable(problem)}: at "
           f"{report.fmt_lr(up)}, half a decade up, test accuracy was {report.fmt_pct(at.loc[up, 'mean'])} "
           f"({n_up} seed{'s' if n_up != 1 else ''}) against {report.fmt_pct(at.loc[spec.default_lr, 'mean'])} "
           f"at {spec.default_lr:g} ({n_at} seed{'s' if n_at != 1 else ''}), a drop of {100 * drop:.0f} points")
    others = [r[0] for r in rows if r[1] != problem]
    if others:
        out += f"; on the other problems that step cost at most {100 * max(0.0, max(others)):.1f} points"
    return out + "."


def todo_short(final: pd.DataFrame, summary: pd.DataFrame, optimizer: str = "adam") -> str:
    """What the intervals support doing, by the synthesis's rule (``synthesis.cheapest``)."""
    from .synthesis import cheapest
    spec, tol = optim.get(optimizer), f"{100 * analysis.DELTA:g} point"
    found = cheapest(final, optimizer)
    if found is not None:
        return f"What to do: {found[1]}; it was within {tol} of tuning on every problem here."
    enough = by_verdict(summary[summary["optimizer"] == optimizer])[analysis.VERDICTS[0]]
    return (f"What to do: where a point of accuracy matters, tune over a half-decade grid "
            f"(no shortcut was shown within {tol} everywhere), starting from {spec.default_lr:g} "
            f"(within {tol} on {len(enough)} of {summary['problem'].nunique()}).")


def overview_rows(final: pd.DataFrame, reference: str = "adam") -> pd.DataFrame:
    """The regrets the overview figure shows: ``reference``'s default lr, and for every
    optimizer the one lr chosen on the other tasks (leave-one-task-out, when there are
    several) - the fair comparison, since it asks each optimizer the same question."""
    rows = analysis.fixed_lr_table(final)
    keep = (rows["choice"] == "leave-one-task-out") | (
        (rows["choice"] == "library default") & (rows["optimizer"] == reference))
    rows = rows[keep].copy()
    rows["what"] = np.where(rows["choice"] == "library default",
                            [f"default {optim.get(reference).default_lr:g}"] * len(rows), "one lr for all tasks")
    return rows


def pending_note(running: dict[str, study.Progress]) -> str:
    if not running:
        return "Every problem of this study has all its runs."
    return ("Still running, so not in the table yet: " + "; ".join(
        f"{p} ({now.done} of {now.planned} runs"
        + (f" of stage {now.stage}" if now.stage else " of its alternatives") + ")"
        for p, now in running.items()) + ".")


BOX = """```{admonition} The answer
:class: answer

**{glue:text}`verdict_short`** {glue:text}`influence_short` {glue:text}`todo_short`

*Scope:* {glue:text}`scope` Longer training:
[the default against the budget](chapters/budget).
```
"""


def run(problems_: list[str] | None = None, results_dir=None, figures_dir=None, *, optimizers=None,
        lrs=None, epochs=None, stage2_seeds=None, train_missing: bool = True) -> tuple[str, str, dict]:
    """The first page's answer as MyST text, in two parts, and the values they glue: the
    answer box (first on the page, short enough for a phone's first screen) and the
    evidence under it. ``problems_`` None: every problem of the published study; other
    design arguments as in ``study.run``."""
    from . import beyond_page, chapter, figures
    problems_ = problems_ or list(study.PROBLEMS)
    table, running = study.stored(problems_, results_dir, train_missing=train_missing,
                                  optimizers=optimizers, lrs=lrs, epochs=epochs,
                                  stage2_seeds=stage2_seeds)
    # the alternatives are only read here (their chapter trains them in a variant book)
    alternatives, _ = beyond_page.rows(problems_, results_dir, train_missing=False)
    shares, designs_running, near, _ = beyond_page.read_designs(None, results_dir)  # read once, used twice
    values = {"pending_note": pending_note(running), "design": chapter.design(problems_, stage2_seeds),
              "cheapest": beyond_page.cheapest_sentence(alternatives),
              "importance": beyond_page.importance_summary(shares, designs_running, near),
              "batch_caveat": beyond_page.batch_caveat(results_dir),
              "scope": scope(problems_, epochs),
              "adam_default_lr": f"{optim.get('adam').default_lr:g}"}
    if table is None:
        values["plain_answer"] = plain_answer(pd.DataFrame(columns=["optimizer"]))
        return "{glue:text}`plain_answer` {glue:text}`pending_note`\n", "", values
    final = analysis.final_epoch(table)
    summary = analysis.summary(final)
    fixed = analysis.fixed_lr_table(final)
    values.update(plain_answer=plain_answer(summary, fixed), answer_table=report.summary_table(summary),
                  verdict_short=verdict_short(summary), influence_short=influence_short(summary, fixed),
                  todo_short=todo_short(final, summary), cliff=cliff_sentence(final),
                  old_influence=basin_sentence(summary),
                  claims_table=claims.shown(claims.table(final, table, shares=shares, near=near), "chapters/"),
                  level=f"{analysis.LEVEL:.0%}", delta=f"{100 * analysis.DELTA:g}",
                  fig_overview=figures.saved("fig-overview", figures.regret_overview(
                      overview_rows(final)), figures_dir))
    return BOX, f"""## The answer in full

{{glue:text}}`plain_answer`

{{glue:text}}`cliff`

Until the two kinds of influence were told apart, this page compared the basins alone and
said: "{{glue:text}}`old_influence`" ([Method](chapters/method)).

```{{glue:}} answer_table
```

Per problem and optimizer: the learning rate tuned on validation, test accuracy at the
library's default learning rate and tuned, the regret of the default (tuned minus default,
in accuracy points) with its {{glue:text}}`level` interval and the seeds behind it (n), the
decades of learning rate within {{glue:text}}`delta` point of the best, and the verdict
([Method](chapters/method)). The interval is for the regret against the best of the
learning rates given every seed, which cannot be below 0; the estimate is the largest mean
gain of such a learning rate over the default (0 where the default leads), so it lies
inside. An interval marked "(paired)" scored both learning rates on the same test images,
image by image; the others use the independence bound. Where every other finalist is shown
worse than the default, the interval would read 0 to 0; the table says instead by how much
the default leads them at least. {{glue:text}}`pending_note`

```{{glue:figure}} fig_overview
:name: fig-overview

Regret per problem (test accuracy points lost against tuning the learning rate, with its
{{glue:text}}`level` interval): of Adam at its default, and of each optimizer at one
learning rate for all problems, chosen on the other problems (leave-one-task-out). Left of
the dashed line, the loss is within the verdict's tolerance of {{glue:text}}`delta` point.
```

{chapter.downloads("fig-overview", "figures")}

### The cheapest alternative to tuning

{{glue:text}}`cheapest` ([Beyond the learning rate](chapters/beyond))

### Which of Adam's hyperparameters matter

{{glue:text}}`importance` ([Beyond the learning rate](chapters/beyond))

{{glue:text}}`batch_caveat` ([Beyond the learning rate](chapters/beyond))

### The thread's claims

Each claim of the thread's one answer, with the verdict of a rule fixed before the results
were read and the number behind it ([Synthesis](chapters/synthesis)).

```{{glue:}} claims_table
```
""", values

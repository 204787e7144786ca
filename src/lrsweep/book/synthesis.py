"""The synthesis chapter: the answer across problems, asked fairly of both optimizers. Basin
widths at three tolerances, one lr for every task (leave-one-task-out), the coarse grids,
the best lr against the epoch budget, and a recommendation worded by a rule fixed before
the results were read (``recommendation``).
"""
from __future__ import annotations

import math

import pandas as pd

from ..store import optim
from ..stats import analysis
from ..study import lr_study
from . import beyond_summary, claims, figures, report, verdicts, wording


def _in_book_order(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows by problem in the book's chapter order, then by optimizer in registry order."""
    probs, opts = list(lr_study.PROBLEMS), list(optim.OPTIMIZERS)
    key = lambda c: c.map(lambda v: (probs if c.name == "problem" else opts).index(v)  # noqa: E731
                          if v in (probs if c.name == "problem" else opts) else len(probs))
    return rows.sort_values(["problem", "optimizer"], key=key, kind="stable", ignore_index=True)


NAMES = {"problem": ("problem", wording.readable), "optimizer": ("optimizer", wording.optimizer_name)}


def basin_table(summary: pd.DataFrame) -> report.Table:
    """Per problem and optimizer, each basin width with the most the grid allows."""
    cols = dict(NAMES)
    shown = _in_book_order(summary)
    for d in analysis.BASIN_DELTAS:
        k = f"basin_{round(d * 1000)}"
        shown[k + "_shown"] = [report.fmt_basin(w, m) for w, m in zip(shown[k], shown[k + "_most"])]
        cols[f"decades within {100 * d:g} pt"] = (k + "_shown", "{}")
    return report.table(shown, cols)


def choices_table(rows: pd.DataFrame, how: str) -> report.Table:
    """Rows of ``analysis.fixed_lr_table`` or ``grid_table`` as one row per problem and
    optimizer and a column per choice (``how``): the lr chosen, its regret with interval, n."""
    shown = report.with_regret_text(rows)
    lr = shown["lr"].map(lambda x: "none on the grid" if x is None or math.isnan(x) else report.fmt_lr(x))
    shown["cell"] = [f"{x}: {r} {ci}, n = {n}" for x, r, ci, n in zip(lr, shown["regret_shown"], shown["ci"], shown["n"])]
    wide = shown.pivot(index=["problem", "optimizer"], columns=how, values="cell").reset_index()
    choices = list(dict.fromkeys(rows[how]))
    return report.table(_in_book_order(wide), {**NAMES, **{c: (c, "{}") for c in choices}})


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


def run(problems_: list[str] | None = None, results_dir=None, figures_dir=None, *, optimizers=None,
        lrs=None, epochs=None, stage2_seeds=None, train_missing: bool = True) -> tuple[str, dict]:
    """The synthesis as MyST text, and the values it glues. ``problems_`` None: every
    problem of the published study whose runs are all stored."""
    from ..stats import deepobs
    problems_ = problems_ or list(lr_study.PROBLEMS)
    table, running = lr_study.stored(problems_, results_dir, train_missing=train_missing,
                                  optimizers=optimizers, lrs=lrs, epochs=epochs,
                                  stage2_seeds=stage2_seeds)
    shares, designs_running, near, _ = beyond_summary.read_designs(None, results_dir)  # read once, used twice
    values = {"pending_note": verdicts.pending_note(running), "level": f"{analysis.LEVEL:.0%}",
              "delta": f"{100 * analysis.DELTA:g}", "n_problems": str(len(problems_) - len(running)),
              "plain_answer": verdicts.plain_answer(pd.DataFrame(columns=["optimizer"]))}
    if table is None:
        return "", values  # the page head says so (plain_answer)
    final = analysis.final_epoch(table)
    summary = analysis.summary(final)
    fixed = analysis.fixed_lr_table(final)
    grids = analysis.grid_table(final)
    budget = budget_rows(table)
    theirs = deepobs.best_lr_by_epoch(deepobs.load())
    values.update(
        basin_deltas=" / ".join(f"{100 * d:g}" for d in analysis.BASIN_DELTAS) + " points",
        basin_table=basin_table(summary),
        fig_basin=figures.saved("fig-basin", figures.basin_overview(summary), figures_dir),
        fixed_table=choices_table(fixed.replace({"choice": {
            "leave-one-task-out": "one lr, chosen on the other problems",
            "library default": "the library default"}}), "choice"),
        grid_table=choices_table(grids, "grid"),
        budget_table=report.table(_in_book_order(budget), {**NAMES,
            "tuned lr, half the budget": ("lr_half", report.fmt_lr), "epochs": ("half", "{}"),
            "tuned lr, full budget": ("lr_end", report.fmt_lr), "budget": ("end", "{}"),
            "change (decades)": ("decades", "{:+.1f}")}),
        budget_max_drift=f"{budget['decades'].abs().max():.1f}",
        fig_fixed=figures.saved("fig-fixed-lr", figures.regret_overview(fixed, label="choice"), figures_dir),
        fig_grids=figures.saved("fig-grids", figures.regret_overview(grids, label="grid"), figures_dir),
        fig_budget=figures.saved("fig-best-lr-budget", figures.best_lr_by_budget(
            analysis.tuned_by_budget(table), theirs[theirs["problem"].isin(final["problem"])]), figures_dir),
        **{f"{o}_recommendation": recommendation(final, o) for o in sorted(set(final["optimizer"]))},
        claims_table=claims.shown(claims.table(final, table, shares=shares, near=near)),
        plain_answer=verdicts.plain_answer(summary, fixed), influence_sentence=verdicts.influence_sentence(summary, fixed),
        adam_default_lr=f"{optim.get('adam').default_lr:g}", deepobs_epochs=str(int(theirs["epoch"].max())),
        importance=beyond_summary.importance_short(shares, designs_running),
        batch_caveat=beyond_summary.batch_caveat(results_dir))
    optimizers_ = sorted(set(final["optimizer"]))
    recommendations = " ".join(f"{{glue:text}}`{o}_recommendation`" for o in optimizers_)
    return f"""The distance from one arbitrary learning rate says little about an optimizer: SGD with
momentum at Adam's {{glue:text}}`adam_default_lr` is simply at the wrong place. The fair questions are how wide the
range of good learning rates is, how much one learning rate for every problem loses, and
how much a coarse grid loses. Each is answered below with the rules of the
[Method](method): learning rates are chosen on validation, losses are measured on test,
and every interval is a simultaneous {{glue:text}}`level` interval with the seeds behind it
(n).

## How wide is the good range?

The basin of an optimizer on a problem is the span of learning rates, in decades, around
its best whose mean test accuracy stays within a tolerance of the best. A wide basin means
the learning rate matters little; the grid's step of half a decade is the least it resolves.
The true edges lie between the last learning rate inside and the first outside, so the
grid bounds each width: the table gives the span measured and, after "to", the most it can
be ("or more" where the basin reaches an end of the grid); most grid points have one seed,
whose noise these bounds leave out.

```{{glue:figure}} fig_basin
:name: fig-basin

Basin widths: the decades of learning rate around each optimizer's best whose mean test
accuracy stays within {{glue:text}}`basin_deltas` of the best, per problem. Wider is less
sensitive to the learning rate; the grid resolves half a decade.
```

{report.downloads("fig-basin")}

{report.table_block("basin_table", "Basin widths: decades of learning rate within each tolerance of the best, per problem and optimizer", "tbl-basins")}

## One learning rate for every problem

If the learning rate could be dropped from tuning, one value would serve every problem. For
each optimizer and each problem, the value is chosen on the *other* problems (the learning
rate with the least mean validation loss against their best, leave-one-task-out) and its
regret is measured on the problem left out; Adam's library default is shown beside it.

{report.table_block("fixed_table", "One learning rate for every problem, chosen on the other problems, and the library default: regret on the problem left out", "tbl-fixed-lr")}

```{{glue:figure}} fig_fixed
:name: fig-fixed-lr

Regret of one learning rate for every problem (test accuracy points against tuning, with
its {{glue:text}}`level` interval), chosen on the other problems or left at the library
default, per optimizer. Left of the dashed line, the loss is within the verdict's
tolerance of {{glue:text}}`delta` point.
```

{report.downloads("fig-fixed-lr")}

## The coarse grids

The thread suggests trying four decades, or "0.001 and 0.0001". Here each grid picks its
learning rate on validation (mean over the seeds each point has), and the regret of that
pick is measured on test. A pick with one seed has no interval: stage 2 did not find it
promising enough to add seeds.

{report.table_block("grid_table", "The thread's coarse grids: regret of the learning rate each grid picks on validation", "tbl-grids")}

```{{glue:figure}} fig_grids
:name: fig-grids

Regret of choosing the learning rate within each coarse grid on validation (test accuracy
points against tuning over the study's grid, with its {{glue:text}}`level` interval), per
problem and optimizer. Left of the dashed line, the loss is within the verdict's tolerance
of {{glue:text}}`delta` point; a pick with one seed has no interval.
```

{report.downloads("fig-grids")}

## What the budget does to the best learning rate

```{{glue:figure}} fig_budget
:name: fig-best-lr-budget

The tuned learning rate against the epoch budget (log scales): ours chosen on validation
among the finalists at each epoch, and DeepOBS's chosen on test over its {{glue:text}}`deepobs_epochs`-epoch curves,
on the problems both have.
```

{report.downloads("fig-best-lr-budget")}

Over the second half of each budget, our tuned learning rate moved by at most
{{glue:text}}`budget_max_drift` decades:

{report.table_block("budget_table", "How far the tuned learning rate moved over the second half of each budget", "tbl-lr-drift")}

## The thread's claims

The one answer in the thread makes claims that these runs can check. Each verdict follows a
rule written down before the results were read (`lrsweep.book.claims`): a grid is supported when
choosing within it loses less than {{glue:text}}`delta` point against full tuning on every
problem (the whole {{glue:text}}`level` interval), not supported when it loses more on
every problem; the claim about the curves is read from the seed-0 run at every learning
rate that did not diverge, with divergence reported on its own (the curves over the epochs
in the [MNIST](mnist), [Fashion-MNIST](fmnist) and [CIFAR-10](cifar10) chapters show a few
of them); the claim about the betas is judged near the tuned learning rate. Those two rules
were changed after a review showed that the first ones measured the claims where they do not
live (a diverged run ranked as infinitely unstable; the betas over five decades of learning
rate); each row shows the old verdict beside the new.

{report.table_block("claims_table", "The thread's claims, each with its verdict and the evidence behind it", "tbl-claims")}

## What to do

{recommendations}

These hold for the problems, budgets and constant learning rate of this study (see the
limits in the [Method](method)); a longer budget or a schedule can move the best learning
rate, as the figure above shows for DeepOBS's {{glue:text}}`deepobs_epochs` epochs.
{{glue:text}}`batch_caveat` ([Beyond the learning rate](beyond))

## Against the literature

Kingma and Ba {{cite:p}}`kingma2015adam` proposed {{glue:text}}`adam_default_lr` as a good default for the problems
they tested; the verdicts above say on which of ours it stays within the tolerance.
Wilson et al. {{cite:p}}`wilson2017marginal` found that tuned SGD with momentum generalised
better than adaptive methods on their tasks, and Choi et al. {{cite:p}}`choi2019empirical`
that such comparisons turn on how each optimizer is tuned: with enough tuning, adaptive
methods did not lose to momentum. Both are about tuned optimizers; the chapters' tables give
each optimizer's tuned accuracy on our problems. Sivaprasad et al.
{{cite:p}}`sivaprasad2020optimizer` measured how easy an optimizer is to tune and found Adam
the most practical under a small tuning budget, and Schmidt et al.
{{cite:p}}`schmidt2021descending` that no optimizer wins everywhere, while trying several at
their defaults did about as well as tuning one. Our version of the ease-of-tuning question
is the basin width, and where the best lies: {{glue:text}}`influence_sentence` The thread's answer calls the learning rate
the most influential of Adam's hyperparameters; functional ANOVA
{{cite:p}}`hutter2014fanova` over a design of all of them measures it ([Beyond the learning
rate](beyond)): {{glue:text}}`importance` Loshchilov and Hutter
{{cite:p}}`loshchilov2019decoupled` showed that with L2 regularisation inside Adam the best
learning rate and the regularisation strength are coupled; CIFAR-10 (3c3d CNN) has such an L2 term
(DeepOBS's), so its best learning rate belongs to that regularisation.
""", values

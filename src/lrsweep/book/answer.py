"""The answer across problems, for the first page: one table of every problem and optimizer,
an overview figure, and the plain answer. Its sentences are worded by
rules fixed before the study's results were read (``plain_answer``), so the page says what
the records say, for the published study or for any rerun.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..store import optim
from ..stats import analysis, deepobs
from ..study import budget, lr_study
from . import beyond_summary, claims, figures, report, verdicts, wording


def todo_short(final: pd.DataFrame, summary: pd.DataFrame, optimizer: str = "adam") -> str:
    """What the intervals support doing, by the synthesis's rule (``verdicts.cheapest``)."""
    spec, tol = optim.get(optimizer), wording.tolerance()
    found = verdicts.cheapest(final, optimizer)
    if found is not None:
        return f"What to do: {found[1]}; it was within {tol} of tuning on every problem here."
    enough = verdicts.by_verdict(summary[summary["optimizer"] == optimizer])[analysis.VERDICTS[0]]
    return (f"What to do: where a point of accuracy matters, tune over a half-decade grid "
            f"(no shortcut was shown within {tol} everywhere), starting from {spec.default_lr:g} "
            f"(within {tol} on {len(enough)} of {summary['problem'].nunique()}).")


BOX = """```{admonition} The answer
:class: answer

**{glue:text}`verdict_short`** {glue:text}`budget_short` {glue:text}`influence_short` {glue:text}`todo_short`

*Scope:* {glue:text}`scope` Longer training:
[the default against the budget](chapters/budget).
```

```{glue:figure} fig_headline
:name: fig-headline

Test accuracy against the learning rate after each problem's budget (mean over seeds):
Adam in blue, SGD with momentum in pink. Stars: each optimizer's default learning rate;
rings: the learning rate tuned on validation.
```
"""


def run(problems_: list[str] | None = None, results_dir=None, figures_dir=None, *, optimizers=None,
        lrs=None, epochs=None, stage2_seeds=None, train_missing: bool = True) -> tuple[str, str, dict]:
    """The first page's answer as MyST text, in two parts, and the values they glue: the
    answer box (first on the page, short enough for a phone's first screen) and the
    evidence under it. ``problems_`` None: every problem of the published study; other
    design arguments as in ``lr_study.run``."""
    problems_ = problems_ or list(lr_study.PROBLEMS)
    table, running = lr_study.stored(problems_, results_dir, train_missing=train_missing,
                                  optimizers=optimizers, lrs=lrs, epochs=epochs,
                                  stage2_seeds=stage2_seeds)
    # the alternatives are only read here (their chapter trains them in a variant book)
    alternatives, _ = beyond_summary.rows(problems_, results_dir, train_missing=False)
    shares, designs_running, near, _ = beyond_summary.read_designs(None, results_dir)  # read once, used twice
    values = {"pending_note": verdicts.pending_note(running), "design": wording.design_phrase(problems_, stage2_seeds),
              "cheapest": beyond_summary.cheapest_sentence(alternatives),
              "importance": beyond_summary.importance_short(shares, designs_running),
              "batch_caveat": beyond_summary.batch_caveat(results_dir),
              "scope": verdicts.scope(problems_, epochs),
              "adam_default_lr": f"{optim.get('adam').default_lr:g}"}
    if table is None:
        values["plain_answer"] = verdicts.plain_answer(pd.DataFrame(columns=["optimizer"]))
        return "{glue:text}`plain_answer` {glue:text}`pending_note`\n", "", values
    final = analysis.final_epoch(table)
    summary = analysis.summary(final)
    budget_rows, _ = budget.regret_rows(results_dir, study=table)
    budget_rows = budget_rows[budget_rows["problem"].isin(problems_)]
    theirs = deepobs.default_regret_by_epoch(deepobs.load())
    theirs = theirs[(theirs["optimizer"] == "adam") & theirs["problem"].isin(problems_)]
    fixed = analysis.fixed_lr_table(final)
    values.update(plain_answer=verdicts.plain_answer(summary, fixed), answer_table=report.summary_table(summary),
                  verdict_short=verdicts.verdict_short(summary), influence_short=verdicts.influence_short(summary, fixed),
                  todo_short=todo_short(final, summary), budget_short=verdicts.budget_short(budget_rows, budget.LONG),
                  cliff=verdicts.cliff_sentence(final),
                  old_influence=verdicts.basin_sentence(summary),
                  claims_table=claims.shown(claims.table(final, table, shares=shares, near=near)),
                  level=f"{analysis.LEVEL:.0%}", delta=f"{100 * analysis.DELTA:g}",
                  fig_headline=figures.saved("fig-headline", figures.headline(
                      final, summary.sort_values("problem", key=lambda c: c.map(problems_.index), kind="stable")),
                      figures_dir),
                  fig_budget=figures.saved("fig-answer-budget", figures.regret_by_budget(
                      budget_rows, theirs, analysis.DELTA), figures_dir))
    return BOX + report.downloads("fig-headline", "figures"), f"""## The answer in full

{{glue:text}}`plain_answer`

{{glue:text}}`cliff`

Until the two kinds of influence were told apart, this page compared the basins alone and
said: "{{glue:text}}`old_influence`" ([Method](chapters/method)).

{report.table_block("answer_table", "The verdict on each optimizer's default learning rate, per problem", "tbl-answer")}

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

```{{glue:figure}} fig_budget
:name: fig-answer-budget

The regret of Adam's default (points of test accuracy lost against tuning) against the epochs
trained, per problem: the study's runs (solid, band: the {{glue:text}}`level` interval), the
long runs (dashed) as far as they are stored, and DeepOBS's runs where it published them
(dotted grey: one seed, best chosen on the test set, so no interval); dashed grey line: the
verdict's tolerance of {{glue:text}}`delta` point. The tables are in
[the budget chapter](chapters/budget).
```

{report.downloads("fig-answer-budget", "figures")}

### The cheapest alternative to tuning

{{glue:text}}`cheapest` ([Beyond the learning rate](chapters/beyond))

### Which of Adam's hyperparameters matter

{{glue:text}}`importance` ([Beyond the learning rate](chapters/beyond))

{{glue:text}}`batch_caveat` ([Beyond the learning rate](chapters/beyond))

### The thread's claims

Each claim of the thread's one answer, with the verdict of a rule fixed before the results
were read and the number behind it ([Synthesis](chapters/synthesis)).

{report.table_block("claims_table", "The thread's claims, each with its verdict and the evidence behind it", "tbl-claims-first")}
""", values

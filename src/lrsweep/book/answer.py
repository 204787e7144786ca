"""The values of the first page (its prose is MyST in intro.ipynb): the answer box's
sentences, the headline figure, the table of every problem and optimizer, the regret
against the budget and the claims. Its sentences are worded by rules fixed before the
study's results were read (``verdicts``), so the page says what the records say, for the
published study or for any rerun.
"""
from __future__ import annotations

import pandas as pd

from ..errors import UsageError
from ..store import optim
from ..stats import analysis, deepobs
from ..study import budget
from . import beyond_summary, claims, figures, report, verdicts, wording
from .evidence import Evidence


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


def run(evidence: Evidence, figures_dir=None) -> dict:
    """The values the first page (intro.ipynb, whose MyST cells hold its prose) glues: the
    answer box's sentences, the headline figure, the evidence under them, from the page's
    study (``evidence.study`` on ``evidence.problems``)."""
    problems_, study = evidence.problems, evidence.study
    table, running = evidence.studied()
    # the alternatives are only read here (their chapter trains them in a variant book)
    alternatives, _ = beyond_summary.rows(evidence, train_missing=False)
    shares, designs_running, near, _ = beyond_summary.read_designs(evidence)  # read once, used twice
    values = {"pending_note": verdicts.pending_note(running), "design": wording.design_phrase(problems_, study),
              "cheapest": beyond_summary.cheapest_sentence(alternatives),
              "importance": beyond_summary.importance_short(shares, designs_running),
              "batch_caveat": beyond_summary.batch_caveat(evidence),
              "scope": verdicts.scope(problems_, study),
              "adam_default_lr": f"{optim.get('adam').default_lr:g}"}
    if table is None:
        raise UsageError("the first page answers from stored studies, and none of these problems has all "
                         f"its runs stored yet: {values['pending_note']} Train them (train_missing=True, "
                         "or python -m lrsweep study PROBLEM).")
    final = analysis.final_epoch(table)
    summary = analysis.summary(final)
    budget_rows, _ = budget.regret_rows(table, evidence.results_dir, evidence.designs.long)
    budget_rows = budget_rows[budget_rows["problem"].isin(problems_)]
    theirs = deepobs.default_regret_by_epoch(deepobs.load())
    theirs = theirs[(theirs["optimizer"] == "adam") & theirs["problem"].isin(problems_)]
    fixed = analysis.fixed_lr_table(final)
    fine = evidence.fine_basins()
    values.update(plain_answer=verdicts.plain_answer(summary, fixed, fine), answer_table=report.summary_table(summary),
                  verdict_short=verdicts.verdict_short(summary),
                  influence_short=verdicts.influence_short(summary, fixed, fine=fine),
                  todo_short=todo_short(final, summary), budget_short=verdicts.budget_short(budget_rows),
                  cliff=verdicts.cliff_sentence(final),
                  old_influence=verdicts.basin_sentence(summary),
                  claims_table=claims.shown(claims.table(final, table, shares=shares, near=near)),
                  level=f"{analysis.LEVEL:.0%}", delta=f"{100 * analysis.DELTA:g}",
                  **figures.placed("fig-headline", figures.headline(
                      final, summary.sort_values("problem", key=lambda c: c.map(problems_.index), kind="stable")),
                      figures_dir),
                  **figures.placed("fig-answer-budget", figures.regret_by_budget(
                      budget_rows, theirs, analysis.DELTA), figures_dir))
    return values

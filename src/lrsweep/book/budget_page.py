"""The budget chapter: the default's regret against the epoch budget, from the study's runs
(every epoch up to its budget), the long runs (``budget``) and DeepOBS's 100-epoch curves."""
from __future__ import annotations

import pandas as pd

from ..store import optim
from ..stats import analysis, deepobs
from ..study import budget, lr_study
from . import figures, report, wording
from .evidence import Evidence

STUDY, LONG = budget.STUDY, budget.LONG
SHOWN_EPOCHS = (1, 5, 10, 20, 30, 40, 60, 100)  # the budgets the tables list
DEEPOBS_EPOCHS = (10, 20, 40, 100)  # the budgets the text reads DeepOBS's regret at


def verdict_table(rows: pd.DataFrame) -> report.Table:
    """The regret and verdict at the budgets in ``SHOWN_EPOCHS``: the study's runs up to each
    problem's budget, the long runs past it (where they add epochs, not rows twice)."""
    keep = rows["epoch"].isin(SHOWN_EPOCHS) & ((rows["series"] == STUDY) | budget.past_study(rows))
    shown = report.with_regret_text(rows[keep])
    return report.table(shown.assign(full=shown["regret_ci"]), {
        "problem": ("problem", wording.readable), "epochs": ("epoch", "{}"),
        "runs": ("series", lambda s: "long runs" if s == LONG else "study"),
        "tuned lr": ("tuned_lr", report.fmt_lr),
        f"regret of the default [{analysis.LEVEL:.0%} interval]": ("full", "{}"),
        "seeds (n)": ("n", "{}"), "verdict": ("verdict", "{}")})


def deepobs_table(theirs: pd.DataFrame) -> report.Table:
    t = theirs[(theirs["optimizer"] == "adam") & theirs["epoch"].isin(SHOWN_EPOCHS)]
    return report.table(t, {"problem": ("problem", wording.readable), "epochs": ("epoch", "{}"),
                            "best test accuracy (grid)": ("best", report.fmt_pct),
                            "at the default": ("at_default", report.fmt_pct),
                            "regret of the default": ("regret", lambda r: f"{100 * r:+.1f} pp")})


def progress_note(progress: dict) -> str:
    """What is stored of the long runs: nothing to say once all are."""
    parts = [f"{wording.readable(p)}: {now.done} of {now.planned} runs of {budget.PUBLISHED.check(p).epochs} epochs"
             for p, now in progress.items() if not now.complete]
    return ("The long runs are still training; stored so far: " + "; ".join(parts) + ". "
            "Until they are complete, the long-run curves rest on fewer seeds past the study's budget."
            if parts else "")


def run(evidence: Evidence, figures_dir=None) -> dict:
    """The values the chapter glues."""
    study, _ = evidence.studied(evidence.study.varied(optimizers=["adam"]))
    rows, progress = budget.regret_rows(study, evidence.results_dir, evidence.designs.long)
    theirs = deepobs.default_regret_by_epoch(deepobs.load())
    adam_theirs = theirs[theirs["optimizer"] == "adam"]
    at = adam_theirs.set_index(["problem", "epoch"])["regret"]
    study_budgets = [lr_study.PUBLISHED.budget(p) for p in lr_study.PUBLISHED.problems]
    values = {
        **figures.placed("fig-regret-budget", figures.regret_by_budget(rows, adam_theirs, analysis.DELTA),
                         figures_dir),
        "budget_verdict_table": verdict_table(rows),
        "budget_deepobs_table": deepobs_table(adam_theirs),
        "budget_progress": progress_note(progress),
        "delta": wording.tolerance(),
        "level": f"{analysis.LEVEL:.0%}",
        "deepobs_epochs": str(int(theirs["epoch"].max())),
        "deepobs_n_lrs": str(deepobs.load().query("seed == @deepobs.GRID_SEED and optimizer == 'adam'")
                             .groupby("problem")["lr"].nunique().max()),
        "study_epochs": f"{min(study_budgets)} to {max(study_budgets)}",
        "adam_default_lr": f"{optim.get('adam').default_lr:g}",
        "long_design": "; ".join(f"{wording.readable(p)}: {len(l.seeds)} seeds at {' and '.join(report.fmt_lr(x) for x in l.lrs)}, "
                                 f"{l.epochs} epochs" for p, l in budget.PUBLISHED.runs.items()),
    }
    values["deepobs_regrets"] = "; ".join(
        f"on {wording.readable(p)} {wording.and_list([f'{100 * at[(p, e)]:.1f}' for e in DEEPOBS_EPOCHS])} points "
        f"after {wording.and_list([str(e) for e in DEEPOBS_EPOCHS])} epochs"
        for p in sorted(set(adam_theirs["problem"]), reverse=True))  # CIFAR-10 first, as the text reads
    return values

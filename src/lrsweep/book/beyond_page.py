"""The "Beyond the learning rate" chapter as MyST text and glued values: the alternatives to
tuning Adam's lr on every problem whose study is stored, the hyperparameters' importance
from the Sobol designs, and the best lr against the batch size."""
from __future__ import annotations

import math

import pandas as pd

from ..stats import analysis
from ..study import alternatives, beyond
from ..study.registry import PUBLISHED, Designs
from .evidence import Evidence
from . import beyond_summary, costs, figures, report, verdicts, wording


def shown(rows: pd.DataFrame) -> report.Table:
    """The alternatives trained for this chapter, on the problems they ran on, beside tuned
    Adam there (Adam's default and the coarse grids are in the answer's and the synthesis's
    tables, not repeated here)."""
    ran = rows.loc[rows["own_runs"], "problem"].unique()
    rows = rows[rows["problem"].isin(ran) & (rows["own_runs"] | (rows["alternative"] == alternatives.REFERENCE))]
    return report.table(report.with_regret_text(rows), {
        "problem": ("problem", wording.readable), "alternative": ("alternative", "{}"),
        "cost (runs)": ("cost_runs", "{:.3g}"), "regret vs tuned Adam": ("regret_shown", "{}"),
        f"{analysis.LEVEL:.0%} interval": ("ci", "{}"), "seeds (n)": ("n", "{}")})


def unmeasured_cost(evidence: Evidence) -> str:
    """What the one-run alternatives would cost on each stored problem that lacks them,
    from the mean training time of its study's runs."""
    runs_per_seed = len(beyond.AT_DEFAULT) + 1  # the lr-free optimizers and the range test's pick
    designs = evidence.designs
    run_hours, out = costs.study_run_hours(evidence.records(), designs.study), []
    for p in designs.study.problems:
        if p in designs.alternatives.kinds or (hours := run_hours.get(p)) is None:
            continue
        seeds = len(designs.study.stage2_seeds_of(p))
        out.append(f"{wording.readable(p)} about {runs_per_seed * seeds * hours:.1f} hours ({runs_per_seed} runs for each "
                   f"of {seeds} seeds, at the {hours:.2f} hours a full-length run of its study took on average)")
    if not out:
        return ""
    return ("Measured on the rest, the alternatives that cost one run would take, on "
            + "; on ".join(out) + ".")


def measured_sentence(designs: Designs = PUBLISHED) -> str:
    """Where the alternatives that need runs of their own were run (``designs.alternatives``)."""
    names = {"at_default": ["the learning-rate-free optimizers", "Schedule-Free AdamW"],
             "range_test": ["the LR range test"], "variants": ["AMSGrad", "the cosine schedule"]}
    by_kinds: dict[tuple, list[str]] = {}
    for p, kinds in designs.alternatives.kinds.items():
        by_kinds.setdefault(kinds, []).append(p)
    parts = [f"{wording.and_list([wording.readable(p) for p in ps])}, " + ("all of them" if set(kinds) == set(beyond.KINDS)
                                else wording.and_list([n for k in kinds for n in names[k]]))
             for kinds, ps in by_kinds.items()]
    if rest := [p for p in designs.study.problems if p not in designs.alternatives.kinds]:
        parts.append(f"{wording.and_list([wording.readable(p) for p in rest])}, none (only those read from the study itself: Adam at its "
                     "default and the grids)")
    return f"The alternatives that need runs of their own were run on these problems: {'; '.join(parts)}."


def design_budget_sentence(points: dict, tuned: dict) -> str:
    """How the designs' shorter budget compares with the study's: the study's tuned lr
    at the design's budget and at its own, per design (``tuned``: ``_tuned_by_design``)."""
    from ..store import optim
    parts = [f"{optim.get(optimizer).label} on {wording.readable(problem)}, {report.fmt_lr(at)} after "
             f"{points[(problem, optimizer)][1]} epochs and {report.fmt_lr(final)} after {final_epochs}"
             for (problem, optimizer), (at, final, final_epochs) in tuned.items()]
    if not parts:
        return ""
    return ("The designs train for fewer epochs than the study, to afford their points. The "
            "study's tuned learning rate (seed 0 and the stage-2 seeds, chosen on validation) "
            "at the designs' budget and at its own: " + "; ".join(parts) + ".")


def importance_section(evidence: Evidence, figures_dir=None) -> tuple[str, dict]:
    """How much each hyperparameter matters, from the Sobol designs on the page's problems
    that are stored (trained first where the evidence may train): MyST text and the values
    it glues."""
    from ..study import design, importance
    sobol = evidence.designs.sobol.on(evidence.problems)
    shares, running, near, tuned = beyond_summary.read_designs(evidence, sobol, train_missing=evidence.may_train)
    pending = beyond_summary.running_phrase(running)
    values = {"designs_pending": f"Still running, so not shown yet: {pending}." if pending else "",
              "space_adam": design.describe("adam"), "space_sgd": design.describe("sgd_momentum"),
              "design_budget": design_budget_sentence(sobol.points, tuned),
              "importance_level": f"{analysis.LEVEL:.0%}"}
    if shares is None:
        return "No design on these problems is stored yet.\n", values
    values.update(near_sentence=near_sentence(near),
                  near_decades=f"{importance.NEAR:g}", near_min=str(importance.MIN_NEAR),
                  importance_sentence=importance_sentence(shares),
                  importance_table=report.table(
                      shares[shares["term"].isin(importance.SINGLE_AND_PAIR)].assign(
                          shown=lambda d: [report.fmt_share(*r) for r in zip(d["share"], d["lo"], d["hi"])]),
                      {"problem": ("problem", wording.readable), "optimizer": ("optimizer", wording.optimizer_name),
                       "term": ("term", wording.term), f"share of the variance ({analysis.LEVEL:.0%} interval)": ("shown", "{}"),
                       "runs (n)": ("n_runs", "{}")}),
                  **figures.placed("fig-importance", figures.importance(shares), figures_dir))
    return report.fill("importance", table=report.table_block(
        "importance_table", "Share of the variance of the final validation accuracy explained by each "
        "hyperparameter, per design", "tbl-importance")), values


def batch_sentence(best: pd.DataFrame) -> str:
    """Per problem and optimizer: the best lr at the smallest and largest batch size, and
    the fitted slope on log scales."""
    from ..study import batch_lr
    from ..store import optim
    out = []
    for (problem, optimizer), d in best.groupby(["problem", "optimizer"], sort=False):
        d = d.sort_values("batch_size")
        lo, hi = d.iloc[0], d.iloc[-1]
        out.append(f"On {wording.readable(problem)}, {optim.get(optimizer).label}'s best learning rate is "
                   f"{report.fmt_lr(lo['best_lr'])} at batch size {lo['batch_size']} and "
                   f"{report.fmt_lr(hi['best_lr'])} at {hi['batch_size']}: a slope of "
                   f"{batch_lr.slope(d):.1f} decades of lr per decade of batch size over "
                   f"{len(d)} batch sizes.")
    return " ".join(out)


def kept_sentence(lost: pd.DataFrame, test_se: float) -> str:
    """Per problem and optimizer: what keeping the lr tuned at the study's batch size loses
    at each batch size (``batch_lr.kept_regret``); ``test_se``: the standard error a single
    test set alone puts on such a difference."""
    from ..store import optim, problems
    out = []
    for (problem, optimizer), d in lost.groupby(["problem", "optimizer"], sort=False):
        d = d.sort_values("batch_size")
        out.append(f"on {wording.readable(problem)}, {optim.get(optimizer).label} at {report.fmt_lr(d['kept_lr'].iloc[0])} "
                   "(its tuned learning rate at batch size "
                   f"{problems.get(problem).batch_size}) loses "
                   + ", ".join(f"{100 * r.regret:+.1f} at {r.batch_size}" for r in d.itertuples()))
    return ("Keeping the learning rate tuned at one batch size and changing the batch size costs "
            "this much test accuracy, in points (seed 0 alone, so no interval; the test set's "
            f"sampling alone gives each difference a standard error of about {100 * test_se:.1g} "
            "points): " + "; ".join(out) + ".")


def batch_section(evidence: Evidence, figures_dir=None) -> tuple[str, dict]:
    """The best lr against the batch size, on the page's problems whose sweep
    (``evidence.designs.batch``) is stored: MyST text and the values it glues."""
    from ..study import batch_lr
    sweep = evidence.designs.batch
    ready, pending = beyond_summary.batch_sweeps(evidence, train_missing=evidence.may_train)
    values = {"batch_plan": "; ".join(f"on {wording.readable(p)}, batch sizes {wording.and_list(list(map(str, sizes)))} with {e} epoch{'s' * (e != 1)}"
                                      for p, (e, sizes) in sweep.sweeps.items()),
              "batch_window": f"{sweep.window:g}", "batch_seed": str(sweep.seed),
              "batch_pending": f"Still running, so not shown yet: {'; '.join(pending)}." if pending else ""}
    if not ready:
        return "No batch-size sweep on these problems is stored yet.\n", values
    swept = pd.concat(ready, ignore_index=True)
    best = batch_lr.best_lrs(swept)
    values.update(batch_sentence=batch_sentence(best),
                  kept_sentence=kept_sentence(beyond_summary.kept(swept, evidence), math.sqrt(analysis.test_var(
                      *[swept["test_acc"].median()] * 2, int(swept["n_test"].iloc[0])))),
                  **figures.placed("fig-batch-lr", figures.best_lr_by_batch(best), figures_dir))
    return report.fill("batch"), values


def run(evidence: Evidence, figures_dir=None) -> tuple[str, dict]:
    """The alternatives' section: MyST text and the values it glues. A problem of the page
    shows once its study is stored, its alternatives once all those the published plan
    runs on it are (trained first where the evidence may train)."""
    designs = evidence.designs
    table, running = beyond_summary.rows(evidence, train_missing=evidence.may_train)
    values = {"pending_note": verdicts.pending_note(running),
              "n_ready": str(0 if table is None else table["problem"].nunique()),
              "delta": f"{100 * analysis.DELTA:g}", "level": f"{analysis.LEVEL:.0%}",
              "measured": measured_sentence(designs),
              "beyond_hours": f"{costs.chapter_hours('beyond', evidence.records(), designs.study):.1f}",
              "unmeasured_cost": unmeasured_cost(evidence)}
    if table is None:
        return "No problem has its study stored yet.\n", values
    own = shown(table)
    values.update(alternatives_table=own, cheapest=beyond_summary.cheapest_sentence(table),
                  **figures.placed("fig-alternatives", figures.cost_regret(table), figures_dir))
    return report.fill("alternatives", table="" if own.cells.empty else report.table_block(
        "alternatives_table", "The alternatives that needed runs of their own, on the problems they ran on: "
        "regret against tuned Adam (the default and the coarse grids on every problem: {numref}`tbl-answer` "
        "and {numref}`tbl-grids`)", "tbl-alternatives")), values


def _points(sd: float) -> str:
    return f"{100 * sd:.2g} points"


def importance_sentence(shares: pd.DataFrame) -> str:
    """One sentence per design: the shares of lr, of the optimizer's other hyperparameters
    together, of the batch size and of the lr x batch size interaction, with intervals."""
    from ..study import design
    from ..store import optim
    from ..study.importance import OTHERS
    out = []
    for (problem, optimizer), d in shares.groupby(["problem", "optimizer"], sort=False):
        d = d.set_index("term")
        f = lambda t: report.fmt_share(d.loc[t, "share"], d.loc[t, "lo"], d.loc[t, "hi"])  # noqa: E731
        others = [k for k in design.SPACES[optimizer] if k not in ("lr", "batch_size")]
        out.append(f"On {wording.readable(problem)}, over {int(d['n_runs'].iloc[0])} Sobol points of "
                   f"{optim.get(optimizer).label}'s space trained for {int(d['epochs'].iloc[0])} epochs, "
                   f"the learning rate explains {f('lr')} of the variance of the final validation "
                   f"accuracy (its standard deviation over the points: {_points(d['sd'].iloc[0])}), "
                   f"{wording.and_list(others)} {'together ' if len(others) > 1 else ''}"
                   f"{f(OTHERS)}, the batch size {f('batch_size')} and the interaction of lr and "
                   f"batch size {f('lr x batch_size')}.")
    return " ".join(out)


def near_sentence(near: pd.DataFrame | None) -> str:
    """The designs' shares within ``importance.NEAR`` decades of the tuned lr, per design."""
    from ..study import importance
    from ..store import optim
    from ..study.importance import BETAS, MIN_NEAR, OTHERS
    if near is None:
        return "No design has its problem's study stored yet, so there is no tuned lr to centre on."
    out = []
    for (problem, optimizer), d in near.groupby(["problem", "optimizer"], sort=False):
        head = (f"On {wording.readable(problem)}, {optim.get(optimizer).label}'s design has {int(d['n_runs'].iloc[0])} "
                f"runs within {importance.NEAR:g} decades of {report.fmt_lr(d['tuned_lr'].iloc[0])}")
        if d["term"].isna().all():
            out.append(f"{head}, fewer than the {MIN_NEAR} a forest needs, so it is not split.")
            continue
        d = d.set_index("term")
        f = lambda t: report.fmt_share(d.loc[t, "share"], d.loc[t, "lo"], d.loc[t, "hi"])  # noqa: E731
        group = (f"beta1 and beta2 together {f(BETAS)}, and with eps {f(OTHERS)}" if BETAS in d.index
                 else f"its other hyperparameters {f(OTHERS)}")
        out.append(f"{head}. There the validation accuracy varies less (standard deviation "
                   f"{_points(d['sd'].iloc[0])}), and the learning rate explains {f('lr')} of its "
                   f"variance, {group}, the batch size {f('batch_size')} and the interaction of lr and "
                   f"batch size {f('lr x batch_size')}.")
    return " ".join(out)

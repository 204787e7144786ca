"""The DeepOBS comparison chapter: our engine against DeepOBS's published runs
(Schneider, Balles & Hennig 2019) at the lrs and epochs both have, and the best lr each
study finds - theirs chosen on test, ours on validation."""
from __future__ import annotations

import pandas as pd

from ..store import optim
from ..stats import analysis, deepobs
from . import figures, report, verdicts, wording
from .evidence import Evidence

# Which of DeepOBS's baselines answers to which of our optimizers (their momentum is 0.99,
# ours 0.9: at equal lr/(1 - momentum) the two take steps of about the same size)
THEIRS = {"adam": "adam", "sgd_momentum": "momentum_0.99"}
COLUMNS = ["problem", "optimizer", "theirs", "budget", "ours", "theirs_budget", "theirs_last", "last"]


def faithfulness(evidence: Evidence) -> tuple[dict, object]:
    """Our Adam test-accuracy curves against DeepOBS's at shared lrs and epochs (epoch 0
    excluded): the mean absolute difference, what it rests on, and the overlay figure."""
    from ..store import records
    table = records.tidy(evidence.records())
    matched = deepobs.matched(table[table["problem"].isin(deepobs.load()["problem"].unique())],
                              deepobs.load())
    matched = matched[matched["epoch"] > 0]
    if matched.empty:  # the page still builds, and says so
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(5, 1.5))
        ax.text(0.5, 0.5, "no runs on DeepOBS's problems in this record store", ha="center")
        ax.set_axis_off()
        return {"faith_mad": "n/a", "faith_pairs": "0", "faith_problems": "no problem yet",
                "faith_lrs": "none"}, fig
    mad = (matched["test_acc_ours"] - matched["test_acc_deepobs"]).abs().mean()
    values = {"faith_mad": f"{100 * mad:.1f}", "faith_pairs": f"{len(matched):,}",
              "faith_problems": wording.and_list([wording.readable(p) for p in sorted(set(matched["problem"]))]),
              "faith_lrs": ", ".join(report.fmt_lr(x) for x in sorted(set(matched["lr"])))}
    return values, figures.deepobs_overlay(matched)


def best_lr_table(table: pd.DataFrame, curves: pd.DataFrame) -> pd.DataFrame:
    """Per problem both studies have and optimizer: our tuned lr (validation, finalists)
    at our budget, DeepOBS's best on test at that epoch and at their last."""
    best = deepobs.best_lr_by_epoch(curves)
    last = int(best["epoch"].max())
    final = analysis.final_epoch(table[table["problem"].isin(set(curves["problem"]))])
    rows = []
    for (prob, opt), cell in final.groupby(["problem", "optimizer"]):
        if opt not in THEIRS:
            continue
        theirs = best[(best["problem"] == prob) & (best["optimizer"] == THEIRS[opt])].set_index("epoch")["lr"]
        budget = int(cell["epoch"].max())
        rows.append(dict(problem=prob, optimizer=opt, theirs=THEIRS[opt], budget=budget,
                         ours=analysis.tuned_lr(cell), theirs_budget=theirs.get(budget, float("nan")),
                         theirs_last=theirs.get(last, float("nan")), last=last))
    return pd.DataFrame(rows, columns=COLUMNS)


def best_lr_shown(rows: pd.DataFrame) -> report.Table:
    return report.table(rows, {
        "problem": ("problem", wording.readable), "optimizer, ours / DeepOBS's": (
            "optimizer", lambda o: f"{wording.optimizer_name(o)} / {wording.optimizer_name(THEIRS[o])}"),
        "epochs": ("budget", "{}"), "our tuned lr (validation)": ("ours", report.fmt_lr),
        "DeepOBS's best (test), same epoch": ("theirs_budget", report.fmt_lr),
        "DeepOBS's best (test), last epoch": ("theirs_last", report.fmt_lr)})


def run(evidence: Evidence, figures_dir=None) -> dict:
    """The values the chapter glues: the faithfulness numbers and overlay figure, and the
    best-lr comparison on the problems of the page's study that DeepOBS ran and whose study
    is complete."""
    curves = deepobs.load()
    values, overlay = faithfulness(evidence)
    values.update(figures.placed("fig-deepobs-overlay", overlay, figures_dir))
    table, running = evidence.studied(problems=[p for p in evidence.problems if p in set(curves["problem"])])
    rows = best_lr_table(table, curves) if table is not None else pd.DataFrame(columns=COLUMNS)
    values.update(report.design_numbers(list(THEIRS), []), best_lr_table=best_lr_shown(rows),
                  pending_note=verdicts.pending_note(running),
                  deepobs_epochs=str(int(curves["epoch"].max())), deepobs_momentum=f"{deepobs.MOMENTUM:g}",
                  momentum_ratio=f"{(1 - optim.get('sgd_momentum').defaults['momentum']) / (1 - deepobs.MOMENTUM):.0f}")
    return values

"""A dataset chapter: for each of its problems, the study's runs as a section with glued
numbers and numbered figures. The notebooks (mnist, fmnist, cifar10) stay thin: their
parameters, one call to ``run`` and the prose that frames it; a section per problem comes
from one MyST template (``templates/problem.md``, its sentence per optimizer from
``templates/optimizer.md``) that the book renders (``nb_render_markdown_format: myst``), so
a rerun with other problems gets sections for those.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..store import optim, problems
from ..stats import analysis
from ..study.progress import Progress
from . import figures, report, wording
from .evidence import Evidence


def _epoch_lrs(cell: pd.DataFrame) -> list[float]:
    """The lrs whose curves over epochs the section shows: the default, the tuned lr and
    the grid points a decade either side of it, where the grid has them."""
    lrs = sorted(cell["lr"].unique())
    best = analysis.tuned_lr(cell)
    i = lrs.index(best)
    near = [lrs[j] for j in (i - 2, i + 2) if 0 <= j < len(lrs)]
    default = optim.get(cell["optimizer"].iloc[0]).default_lr
    return sorted({best, *near, *([default] if default in lrs else [])})


def section(problem: str, table: pd.DataFrame, figures_dir: str | Path | None) -> tuple[str, dict]:
    """The section of one problem: its MyST text and the values it glues (keys prefixed
    with the problem's name)."""
    table = table[table["problem"] == problem]
    final = analysis.final_epoch(table)
    summary = analysis.summary(final)
    k = lambda key: f"{problem}__{key}"  # noqa: E731 - glue keys are per page
    epochs = int(final["epoch"].max())
    values = {k(key): v for key, v in report.headline_numbers(summary, problem).items()}
    values[k("epochs")] = str(epochs)
    values[k("epochs_phrase")] = wording.plural(epochs, "epoch")
    values[k("level")] = f"{analysis.LEVEL:.0%}"
    values[k("delta")] = f"{100 * analysis.DELTA:g}"
    basin = f"basin_{round(analysis.DELTA * 1000)}"  # the width at the verdict's tolerance
    for row in summary.itertuples():
        values[k(f"{row.optimizer}_basin")] = report.fmt_basin(getattr(row, basin), getattr(row, f"{basin}_most"))
        values[k(f"{row.optimizer}_default_lr")] = report.fmt_lr(row.default_lr)
    values[k("summary_table")] = report.summary_table(summary)
    slug = problem.replace("_", "-")  # docutils ids have no underscores
    values.update(figures.placed(f"fig-{slug}-lr", figures.accuracy_vs_lr(
        final, metrics=("test_acc", "test_loss")), figures_dir))
    chosen = {o: _epoch_lrs(final[final["optimizer"] == o]) for o in sorted(set(final["optimizer"]))}
    values.update(figures.placed(f"fig-{slug}-epochs", figures.curves_over_epochs(table, problem, chosen),
                                 figures_dir))
    sentences = [report.fill("optimizer", label=optim.get(o).label, problem=problem, optimizer=o)
                 for o in chosen]  # the optimizers this rerun has, each in the same words
    name = wording.readable(problem)
    return report.fill("problem", name=name, description=problems.get(problem).description, problem=problem,
                sentences=" ".join(sentences), slug=slug,
                summary_table=report.table_block(k("summary_table"), f"{name}: the default and the tuned "
                                                 "learning rate, per optimizer", f"tbl-{slug}")), values


def pending(problem: str, now: Progress) -> str:
    """The section of a problem whose study is still running, in place of its results."""
    return report.fill("pending", name=wording.readable(problem), description=problems.get(problem).description,
                problem=problem, done=now.done, planned=now.planned, stage=now.stage)


def run(evidence: Evidence, figures_dir=None) -> tuple[str, dict]:
    """Every problem's section (runs reused, the missing ones trained where the evidence
    may train, else a study still running gets a note instead), and the values to glue."""
    table, running = evidence.studied()
    text, values = "", {}
    for p in evidence.problems:
        if p in running:
            text += pending(p, running[p])
            continue
        t, v = section(p, table, figures_dir)
        text, values = text + t, {**values, **v}
    values["design"] = wording.design_phrase(evidence.problems, evidence.study)
    return text, values

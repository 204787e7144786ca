"""A dataset chapter: for each of its problems, the study's runs as a section with glued
numbers and numbered figures. The notebooks (mnist, fmnist, cifar10) stay thin: their
parameters, one call to ``run`` and the prose that frames it; a section per problem is
written here once, as MyST that the book renders (``nb_render_markdown_format: myst``),
so a rerun with other problems gets sections for those.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..store import optim, problems
from ..stats import analysis
from ..study import lr_study
from . import figures, report, wording


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
    lr_fig, epoch_fig = f"fig-{slug}-lr", f"fig-{slug}-epochs"
    values[k("fig_lr")] = figures.saved(lr_fig, figures.accuracy_vs_lr(
        final, metrics=("test_acc", "test_loss")), figures_dir)
    chosen = {o: _epoch_lrs(final[final["optimizer"] == o]) for o in sorted(set(final["optimizer"]))}
    values[k("fig_epochs")] = figures.saved(epoch_fig, figures.curves_over_epochs(table, problem, chosen),
                                     figures_dir)
    g = lambda key: f"{{glue:text}}`{k(key)}`"  # noqa: E731
    sentences = []
    for o in chosen:  # the optimizers this rerun has, each in the same words
        sentences.append(
            f"{optim.get(o).label}'s tuned learning rate is {g(o + '_best_lr')}; at its default "
            f"{g(o + '_default_lr')} it reaches {g(o + '_acc_default')} test accuracy against "
            f"{g(o + '_acc_tuned')} tuned, a regret of {g(o + '_regret')} ({g('level')} interval "
            f"{g(o + '_regret_ci')}, {g(o + '_n_seeds')} seeds; verdict on the default: "
            f"**{g(o + '_verdict')}**). Learning rates within {g('delta')} point of its best span "
            f"{g(o + '_basin')} decades (as measured, to the most the grid's steps allow).")
    name = wording.readable(problem)
    text = f"""
## {name}

{problems.get(problem).description}; the records and commands call it `{problem}`. Trained for {g("epochs_phrase")}. {" ".join(sentences)}

```{{glue:figure}} {k("fig_lr")}
:name: {lr_fig}

{name}: test accuracy (left) and test loss (right) after {g("epochs_phrase")} against
the learning rate (log scale), per optimizer. Lines: mean over the seeds each learning rate
has; bands: their range; crosses: diverged runs, triangles: runs that ended at chance
accuracy without diverging (both counted at chance accuracy, and left out of the loss);
dashed line: the default learning rate.
```

{report.downloads(lr_fig)}

```{{glue:figure}} {k("fig_epochs")}
:name: {epoch_fig}

{name}: test accuracy over the epochs at the tuned learning rate, the grid points a
decade either side of it and the default, per optimizer (mean over seeds). A learning rate
that is too small rises slowly; one that is too large rises fast, then stalls or falls.
```

{report.downloads(epoch_fig)}

{report.table_block(k("summary_table"), f"{name}: the default and the tuned learning rate, per optimizer", f"tbl-{slug}")}
"""
    return text, values


def pending(problem: str, now: lr_study.Progress) -> str:
    """The section of a problem whose study is still running, in place of its results."""
    return f"""
## {wording.readable(problem)}

The study of {problems.get(problem).description} (`{problem}`) is still running: {now.done} of the {now.planned} runs of its stage
{now.stage} are stored. `python -m lrsweep study {problem}` trains the rest (resuming where
it stopped); this section shows the results once the book is built again.
"""


def run(problems_: list[str], results_dir=None, figures_dir=None, *, optimizers=None, lrs=None,
        epochs: int | None = None, stage2_seeds: list[int] | None = None,
        train_missing: bool = True) -> tuple[str, dict]:
    """Every problem's section (runs reused, the missing ones trained unless
    ``train_missing`` is False, when a study still running gets a note instead), and the
    values to glue. None means as published (``study``)."""
    table, running = lr_study.stored(problems_, results_dir, train_missing=train_missing,
                                  optimizers=optimizers, lrs=lrs, epochs=epochs,
                                  stage2_seeds=stage2_seeds)
    text, values = "", {}
    for p in problems_:
        if p in running:
            text += pending(p, running[p])
            continue
        t, v = section(p, table, figures_dir)
        text, values = text + t, {**values, **v}
    values["design"] = wording.design_phrase(problems_, stage2_seeds)
    return text, values

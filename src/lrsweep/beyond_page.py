"""The "Beyond the learning rate" chapter: the alternatives to tuning Adam's lr, on every
problem whose main study and alternatives are both stored, as MyST text and glued values."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from . import alternatives, analysis, answer, beyond, range_test, report, study


def shown(rows: pd.DataFrame) -> report.Table:
    return report.table(report.with_regret_text(rows), {
        "problem": ("problem", "{}"), "alternative": ("alternative", "{}"),
        "cost (runs)": ("cost_runs", "{:.3g}"), "regret vs tuned Adam": ("regret_shown", "{}"),
        f"{analysis.LEVEL:.0%} interval": ("ci", "{}"), "seeds (n)": ("n", "{}")})


def rows(problems_: list[str] | None = None, results_dir=None, range_dir: str | Path | None = None, *,
         train_missing: bool = True) -> tuple[pd.DataFrame | None, dict]:
    """``alternatives.table`` over every problem whose study and alternatives are stored
    (None if there is none yet), and the progress of the others."""
    from . import paths
    range_dir = Path(range_dir or paths.ROOT / "data" / "range_tests")
    problems_ = problems_ or list(study.PROBLEMS)
    main, running = study.stored(problems_, results_dir, train_missing=train_missing)
    ready, extra, picks = [], [], {}
    for p in ([] if main is None else sorted(set(main["problem"]))):
        done, n_done, n_planned = beyond.complete(p, results_dir, range_dir)
        if not (done or train_missing):
            running[p] = study.Progress(0, n_done, n_planned)  # stage 0: the alternatives' runs
            continue
        extra.append(beyond.run(p, results_dir, range_dir, train_missing=train_missing, quiet=True))
        test = range_test.stored(p, "adam", beyond.RANGE_TEST_SEED, range_dir, train_missing=False)
        picks[p] = (float(f"{test['picked_lr']:.3g}"), test["epochs"])
        ready.append(p)
    if not ready:
        return None, running
    main_final = analysis.final_epoch(main[main["problem"].isin(ready)])
    return alternatives.table(main_final, analysis.final_epoch(pd.concat(extra, ignore_index=True)), picks), running


def cheapest_sentence(table: pd.DataFrame | None) -> str:
    """The cheapest alternative within the tolerance on every problem ready, as a sentence."""
    if table is None:
        return "No problem has its alternatives to tuning stored yet."
    cheapest = alternatives.cheapest_within(table)
    tol, names = f"{100 * analysis.DELTA:g} point", sorted(set(table["problem"]))
    over = (f"on {names[0]}, the one problem with its alternatives stored so far" if len(names) == 1 else
            f"on every one of the {len(names)} problems with their alternatives stored ({', '.join(names)})")
    if cheapest is None:
        return (f"No alternative to tuning Adam's learning rate kept its regret below {tol} {over}, "
                "with the whole interval.")
    return (f"The cheapest alternative to tuning Adam's learning rate whose regret stayed below {tol} "
            f"{over}, the whole interval included, is {cheapest}.")


def run(problems_: list[str] | None = None, results_dir=None, figures_dir=None,
        range_dir: str | Path | None = None, *, train_missing: bool = True) -> tuple[str, dict]:
    """The chapter's MyST text and the values it glues. ``problems_`` None: every problem
    of the published study; a problem shows once its study and its alternatives are stored."""
    from . import chapter, figures
    table, running = rows(problems_, results_dir, range_dir, train_missing=train_missing)
    values = {"pending_note": answer.pending_note(running),
              "n_ready": str(0 if table is None else table["problem"].nunique()),
              "delta": f"{100 * analysis.DELTA:g}", "level": f"{analysis.LEVEL:.0%}"}
    if table is None:
        return "No problem has its study and its alternatives stored yet.\n", values
    values.update(alternatives_table=shown(table), cheapest=cheapest_sentence(table),
                  fig_alternatives=figures.saved("fig-alternatives", figures.cost_regret(table), figures_dir))
    return f"""{{glue:text}}`cheapest`

```{{glue:figure}} fig_alternatives
:name: fig-alternatives

Cost against regret of each alternative to tuning Adam's learning rate, cheapest first (in
brackets: the training runs its choice needs): its regret against tuned Adam on the problem
where the regret's {{glue:text}}`level` interval reaches highest, with that interval. Left
of the dashed line the loss is within {{glue:text}}`delta` point.
```

{chapter.downloads("fig-alternatives")}

```{{glue:}} alternatives_table
```
""", values

"""The "Beyond the learning rate" chapter: the alternatives to tuning Adam's lr, on every
problem whose main study and alternatives are both stored, as MyST text and glued values."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from . import alternatives, analysis, answer, beyond, range_test, report, study


def shown(rows: pd.DataFrame) -> report.Table:
    rows = rows.assign(
        regret_shown=[report.fmt_pp(r, (hi - lo) / 2) for r, lo, hi in zip(rows["regret"], rows["lo"], rows["hi"])],
        ci=[report.fmt_ci(lo, hi) for lo, hi in zip(rows["lo"], rows["hi"])])
    return report.table(rows, {
        "problem": ("problem", "{}"), "alternative": ("alternative", "{}"),
        "cost (runs)": ("cost_runs", "{:.3g}"), "regret vs tuned Adam": ("regret_shown", "{}"),
        f"{analysis.LEVEL:.0%} interval": ("ci", "{}"), "seeds (n)": ("n", "{}")})


def run(problems_: list[str] | None = None, results_dir=None, figures_dir=None,
        range_dir: str | Path | None = None, *, train_missing: bool = True) -> tuple[str, dict]:
    """The chapter's MyST text and the values it glues. ``problems_`` None: every problem
    of the published study; a problem shows once its study and its alternatives are stored."""
    from . import chapter, figures, paths
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
    values = {"pending_note": answer.pending_note(running), "n_ready": str(len(ready)),
              "delta": f"{100 * analysis.DELTA:g}", "level": f"{analysis.LEVEL:.0%}"}
    if not ready:
        return "No problem has its study and its alternatives stored yet.\n", values
    main_final = analysis.final_epoch(main[main["problem"].isin(ready)])
    rows = alternatives.table(main_final, analysis.final_epoch(pd.concat(extra, ignore_index=True)), picks)
    cheapest = alternatives.cheapest_within(rows)
    values.update(
        alternatives_table=shown(rows),
        cheapest=(f"the cheapest alternative whose regret stayed below {values['delta']} point on every "
                  f"one of these problems, the whole interval included, is {cheapest}" if cheapest else
                  f"no alternative kept its regret below {values['delta']} point on every one of these "
                  "problems with the whole interval"),
        fig_alternatives=figures.saved("fig-alternatives", figures.cost_regret(rows), figures_dir))
    return f"""On the problems ready here, {{glue:text}}`cheapest`.

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

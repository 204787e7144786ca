"""What the "Beyond the learning rate" chapter finds, read once for the pages that summarise
it: the alternatives' table, the designs' importance shares and the batch-size caveat, each
as the sentence the first page and the synthesis quote."""
from __future__ import annotations

import pandas as pd

from ..stats import analysis
from ..study import alternatives
from . import report, wording
from .evidence import Evidence


def rows(evidence: Evidence, *, train_missing: bool) -> tuple[pd.DataFrame | None, dict]:
    """``alternatives.table`` over every problem of the page whose published study is
    stored (None if there is none yet), with the alternatives the published plan runs on
    it once all of them are stored (all trained first, with ``train_missing``); the
    progress of the studies and alternatives still running."""
    designs, results_dir, range_dir = evidence.designs, evidence.results_dir, evidence.range_dir
    main, running = evidence.studied(designs.study, may_train=train_missing)
    if main is None:
        return None, running
    extra, picks = [], {}
    chosen = designs.alternatives
    for p in sorted(set(main["problem"]) & set(chosen.kinds)):
        table, now = chosen.stored(p, results_dir, range_dir)  # the store read once
        if table is None and not train_missing:
            running[p] = now
            continue
        extra.append(table if table is not None else chosen.run(p, results_dir, range_dir, quiet=True))
        if "range_test" in chosen.kinds[p]:
            test = chosen.range_test(p, range_dir, train_missing=False)
            picks[p] = (float(f"{test['picked_lr']:.3g}"), test["epochs"])
    main_final = analysis.final_epoch(main)
    extra_final = analysis.final_epoch(pd.concat(extra, ignore_index=True)) if extra else main_final.iloc[:0]
    return alternatives.table(main_final, extra_final, picks, designs.study), running


def cheapest_sentence(table: pd.DataFrame | None) -> str:
    """What the alternatives to tuning showed, where each was measured: the cheapest of the
    choices read from the study on every problem (Adam's default, the coarse grids) that
    stayed within the tolerance everywhere, and the verdict on each alternative that needed
    runs of its own, on the problems it ran on."""
    if table is None:
        return "No problem has its study stored yet."
    tol, problems_ = wording.tolerance(), list(dict.fromkeys(table["problem"]))
    everywhere = table[~table["own_runs"]]
    cheapest = alternatives.cheapest_within(everywhere)
    where = f"on all {wording.plural(len(problems_), 'problem')}" if len(problems_) > 1 else f"on {wording.readable(problems_[0])}"
    first = (f"Of the choices measured {where} (Adam's default and the coarse grids), "
             + (f"the cheapest within {tol} of tuned Adam on every one, the whole interval included, is {cheapest}."
                if cheapest else f"none stayed within {tol} of tuned Adam on every one with the whole interval."))
    own = table[table["own_runs"]]
    if own.empty:
        return first
    ran = [wording.readable(p) for p in dict.fromkeys(own["problem"])]
    by = {v: [] for v in analysis.VERDICTS}
    for name, rows in own.groupby("alternative", sort=False):
        verdicts_ = {analysis.verdict(lo, hi) for lo, hi in zip(rows["lo"], rows["hi"])}
        by[verdicts_.pop() if len(verdicts_) == 1 else analysis.VERDICTS[2]].append(name)
    words = dict(zip(analysis.VERDICTS, (f"stayed within {tol}", f"lost more than {tol}", "the seeds cannot tell")))
    parts = [f"{wording.and_list(names)}: {words[v]}" for v, names in by.items() if names]
    return (f"{first} The alternatives that need runs of their own ran on {wording.and_list(ran)} only, "
            f"so each is judged there alone (whole interval, against tuned Adam): {'; '.join(parts)}.")


def _tuned_by_design(evidence: Evidence, sobol) -> dict[tuple[str, str], tuple[float, float, int]]:
    """Per Sobol design of ``sobol`` whose problem's published study is stored: the study's
    tuned lr (seed 0 and the stage-2 seeds, chosen on validation) at the design's budget,
    at the study's own, and that budget."""
    table, _ = evidence.studied(evidence.designs.study, sorted({p for p, _ in sobol.points}), may_train=False)
    out = {}
    for (problem, optimizer), (_, epochs) in sobol.points.items():
        cell = None if table is None else table[(table["problem"] == problem) & (table["optimizer"] == optimizer)]
        if cell is None or cell.empty:
            continue
        by = analysis.tuned_by_budget(cell).set_index("epoch")["tuned_lr"]
        out[(problem, optimizer)] = (float(by.get(epochs)), float(by.iloc[-1]), int(by.index.max()))
    return out


def read_designs(evidence: Evidence, sobol=None, *, train_missing: bool = False):
    """``importance.of_designs`` of ``sobol`` (None: all the published Sobol designs): the
    shares, the designs still running, the shares near the tuned lr; and
    ``_tuned_by_design``, which centres the latter: every design's runs read once."""
    from ..study import importance
    sobol = evidence.designs.sobol if sobol is None else sobol
    tuned = _tuned_by_design(evidence, sobol)
    shares, running, near = importance.of_designs(sobol, evidence.results_dir, train_missing=train_missing,
                                                  tuned={k: at for k, (at, _, _) in tuned.items()})
    return shares, running, near, tuned


def importance_short(shares: pd.DataFrame | None, running: dict) -> str:
    """The designs' result in one sentence, for the pages that only point to Beyond: the
    range over the stored designs of the learning rate's share of the variance, and of the
    other hyperparameters' together (the intervals are on the Beyond page)."""
    if shares is None:
        return "No design over the hyperparameters is complete yet" + (
            f": {running_phrase(running)}." if running else ".")
    from ..study.importance import OTHERS
    by_term = shares.groupby("term")["share"]
    low, high = by_term.min(), by_term.max()
    span = lambda t: (f"{100 * low[t]:.0f}%" if f"{100 * low[t]:.0f}" == f"{100 * high[t]:.0f}"  # noqa: E731
                      else f"{100 * low[t]:.0f}% to {100 * high[t]:.0f}%")
    n = shares[["problem", "optimizer"]].drop_duplicates().shape[0]
    return (f"In {wording.plural(n, 'design')} that vary every hyperparameter at once, the learning rate explains "
            f"{span('lr')} of the variance of the final validation accuracy, the optimizer's other "
            f"hyperparameters together {span(OTHERS)}.")


def running_phrase(running: dict) -> str:
    """Designs under way, as "Adam on fmnist_mlp (19 of 128 runs); ..."."""
    from ..store import optim
    return "; ".join(f"{optim.get(o).label} on {p} ({now.done} of {now.planned} runs)"
                     for (p, o), now in running.items())


def batch_sweeps(evidence: Evidence, *, train_missing: bool, problems: list[str] | None = None) -> tuple[list, list[str]]:
    """The published batch-size sweeps on ``problems`` (None: the page's) that are stored
    (or trained, with ``train_missing``, once their problem's study is stored), and the
    progress of the others as text."""
    sweep, ready, pending = evidence.designs.batch, [], []
    for p in (q for q in sweep.sweeps if q in (problems or evidence.problems)):
        study, _ = evidence.studied(sweep.study, [p], may_train=False)  # its window is centred on the study's lr
        if study is None:
            pending.append(f"{p} (its study first)")
            continue
        table, now = sweep.stored(p, study, evidence.results_dir, train_missing=train_missing, quiet=True)
        (ready.append(table) if table is not None else pending.append(f"{p} ({now.done} of {now.planned} runs)"))
    return ready, pending


def kept(swept: pd.DataFrame, evidence: Evidence) -> pd.DataFrame:
    """``batch_lr.kept_regret`` of each optimizer's lr tuned by the study (at the sweep's
    budget, at the problem's own batch size)."""
    from ..study import batch_lr
    sweep = evidence.designs.batch
    centres = {}
    for p in swept["problem"].unique():
        study, _ = evidence.studied(sweep.study, [p], may_train=False)  # read once per page
        centres.update({(p, o): lr for o, lr in sweep.centres(p, study).items()})
    return batch_lr.kept_regret(swept, centres)


def batch_caveat(evidence: Evidence, optimizer: str = "adam") -> str:
    """One sentence for the answers, per stored sweep: how ``optimizer``'s best lr moved
    with the batch size, and where keeping its tuned lr lost most ("" if none)."""
    from ..study import batch_lr
    from ..store import optim
    ready, _ = batch_sweeps(evidence, train_missing=False, problems=list(evidence.designs.batch.sweeps))
    if not ready:
        return ""
    swept = pd.concat(ready, ignore_index=True)
    swept = swept[swept["optimizer"] == optimizer]
    best, lost = batch_lr.best_lrs(swept), kept(swept, evidence)
    parts = [f"on {wording.readable(p)}, its best learning rate moved {batch_lr.slope(best[best['problem'] == p]):+.1f} "
             f"decades per decade of batch size, and keeping {report.fmt_lr(d['kept_lr'].iloc[0])} lost "
             f"{100 * d['regret'].max():+.1f} points at batch size {int(d.loc[d['regret'].idxmax(), 'batch_size'])}"
             for p, d in lost.groupby("problem")]
    return (f"The answers above hold at each problem's own batch size, the one DeepOBS sets; for "
            f"{optim.get(optimizer).label}, " + "; ".join(parts)
            + " (seed 0 alone).")

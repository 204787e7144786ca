"""The thread's checkable claims, each with a verdict by a rule fixed before the results
were read: supported, partly supported (on some problems, or with the seeds unable to
tell), or not supported.

* "Try 1e-4, 1e-3, 1e-2 and 1e-1" and "I normally use 0.001 and 0.0001": choosing within
  the grid on validation is supported when its regret against full tuning is within the
  verdict's tolerance (``analysis.verdict``) on every problem, not supported when it is
  shown to exceed it on every problem, partly supported otherwise.
* "A smaller lr gives a more stable but much slower learning curve; a larger one converges
  quicker but becomes unstable": on one problem it holds when, over the grid's lrs with
  seed 0 that did not diverge, speed (validation accuracy after the first epoch) rises with
  the lr up to the tuned lr and instability (validation accuracy lost in epoch-to-epoch
  drops) rises with the lr: both Spearman rank correlations positive (fewer than 3 lrs:
  cannot tell). Divergence is reported on its own (the smallest lr that diverged), not
  ranked as infinitely unstable: so ranked, divergence alone could make the correlation.
  Supported when it holds on every problem, not supported when it fails on every one,
  partly supported otherwise.
* "The lr is the most influential hyperparameter, for Adam as for any optimizer": on one
  design (a problem and an optimizer, ``design.PUBLISHED``) it holds when lr's share of the
  variance of final validation accuracy (functional ANOVA, ``importance``) exceeds that of
  every other hyperparameter and of the batch size, the whole bootstrap interval of the
  lead included; it fails when the lead's interval lies below 0. Over the designs as above.
* "The betas should not need changing": the claim is about the betas once the lr is set,
  so it is judged on each Adam design's runs within ``importance.NEAR`` decades of the
  study's tuned lr (where a design has too few runs there, it tells nothing): it holds
  when beta1 and beta2 together explain less than ``BETAS_SMALL`` of the variance, the
  whole interval included, and fails when the interval lies above it. Over the designs as
  above. The old rule judged the whole design, whose lr spans five decades with divergence
  (the lr then swamps everything else); its verdict is shown beside.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..stats import analysis
from . import wording

VERDICTS = ("supported", "partly supported", "not supported")
BETAS_SMALL = 0.10  # a tenth of the variance: the betas "need not change" below it


def _over_problems(holds: list[bool], fails: list[bool]) -> str:
    if holds and all(holds):
        return VERDICTS[0]
    return VERDICTS[2] if fails and all(fails) else VERDICTS[1]


def grid_claim(final: pd.DataFrame, grid: str, optimizer: str = "adam") -> dict:
    """The verdict on choosing within the coarse ``grid`` (a key of
    ``analysis.COARSE_GRIDS``), and its regret where the interval reaches highest."""
    rows = analysis.grid_table(final[final["optimizer"] == optimizer], {grid: analysis.COARSE_GRIDS[grid]})
    verdicts = [analysis.verdict(lo, hi) for lo, hi in zip(rows["lo"], rows["hi"])]
    # the evidence shown: the problem where the grid could lose the most (highest upper end)
    key = "hi" if rows["hi"].notna().any() else "regret"
    worst = rows.loc[rows[key].idxmax()] if rows[key].notna().any() else rows.iloc[0]
    return {"verdict": _over_problems([v == analysis.VERDICTS[0] for v in verdicts],
                                      [v == analysis.VERDICTS[1] for v in verdicts]),
            "problem": worst["problem"], "regret": worst["regret"], "lo": worst["lo"],
            "hi": worst["hi"], "n": worst["n"], "n_problems": len(rows)}


def curve_shape(table: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """Per problem, optimizer and lr (one seed): speed (validation accuracy after epoch 1),
    instability (validation accuracy lost in drops between epochs), whether the run
    diverged, and the final validation accuracy."""
    t = table[(table["seed"] == seed) & (table["status"] != "failed")].sort_values("epoch")
    rows = []
    for (prob, opt, lr), run in t.groupby(["problem", "optimizer", "lr"]):
        acc = run.set_index("epoch")["valid_acc"]
        rows.append(dict(problem=prob, optimizer=opt, lr=lr, speed=acc.get(1, np.nan),
                         instability=(-acc.diff()).clip(lower=0).sum(),
                         diverged=bool((run["status"] == "diverged").any()), final=acc.iloc[-1]))
    return pd.DataFrame(rows)


def _rank_corr(x: pd.Series, y: pd.Series) -> float:
    """Spearman's rho; NaN where either side is constant (nothing to rank)."""
    return stats.spearmanr(x, y).statistic if x.nunique() > 1 and y.nunique() > 1 else np.nan


def speed_stability(table: pd.DataFrame, optimizer: str = "adam", old_rule: bool = False) -> pd.DataFrame:
    """Per problem: the two rank correlations of the claim, whether it holds there, and the
    smallest lr that diverged. ``old_rule``: as first published, a diverged run ranked as
    infinitely unstable (kept to show the old verdict beside the new)."""
    shape = curve_shape(table[table["optimizer"] == optimizer])
    final = analysis.final_epoch(table[table["optimizer"] == optimizer])
    rows = []
    for prob, s in shape.groupby("problem"):
        tuned = analysis.tuned_lr(final[final["problem"] == prob])
        kept = s[~s["diverged"]]
        up_to = kept[kept["lr"] <= tuned]
        rho_speed = _rank_corr(up_to["lr"], up_to["speed"]) if len(up_to) > 2 else np.nan
        if old_rule:  # a diverged run ranks above every finite instability
            rho_instab = _rank_corr(s["lr"], s["instability"].where(~s["diverged"], 1e9))
        else:
            rho_instab = _rank_corr(kept["lr"], kept["instability"]) if len(kept) > 2 else np.nan
        rows.append(dict(problem=prob, rho_speed=rho_speed, rho_instability=rho_instab,
                         holds=bool(rho_speed > 0 and rho_instab > 0),
                         fails=bool(rho_speed <= 0 or rho_instab <= 0),  # NaN: neither
                         first_diverged=s.loc[s["diverged"], "lr"].min()))
    return pd.DataFrame(rows)


def speed_stability_claim(table: pd.DataFrame, optimizer: str = "adam", old_rule: bool = False) -> dict:
    per = speed_stability(table, optimizer, old_rule)
    shown_on = per.loc[~per["holds"], "problem"].tolist() + per["problem"].tolist()  # where it fails, if it does
    return {"verdict": _over_problems(list(per["holds"]), list(per["fails"])), "problem": shown_on[0],
            "holds_on": int(per["holds"].sum()), "n_problems": len(per),
            "rho_speed": float(per["rho_speed"].median()),
            "rho_instability": float(per["rho_instability"].median()),
            "diverged_on": int(per["first_diverged"].notna().sum()),
            "first_diverged": float(per["first_diverged"].min())}


def importance_claims(shares: pd.DataFrame) -> dict[str, dict]:
    """The verdicts on the "influential" and "betas" claims from the designs' importance
    (``importance.bootstrap`` rows with ``problem`` and ``optimizer`` columns), each with
    the design where its number is least favourable to the claim."""
    from ..study.importance import BETAS, LR_LEAD
    out = {}
    for key, term, holds, fails, worst in (
            ("influential", LR_LEAD, lambda r: r.lo > 0, lambda r: r.hi < 0, "lo"),
            ("betas", BETAS, lambda r: r.hi < BETAS_SMALL, lambda r: r.lo > BETAS_SMALL, "hi")):
        rows = shares[shares["term"] == term].reset_index(drop=True)
        if rows.empty:
            continue
        pick = rows.loc[rows[worst].idxmin() if worst == "lo" else rows[worst].idxmax()]
        out[key] = {"verdict": _over_problems([holds(r) for r in rows.itertuples()],
                                              [fails(r) for r in rows.itertuples()]),
                    "problem": pick["problem"], "optimizer": pick["optimizer"],
                    "share": pick["share"], "lo": pick["lo"], "hi": pick["hi"],
                    "n_runs": int(pick["n_runs"]), "n_designs": len(rows)}
    return out


THREAD = {  # the answer's words, quoted; the keys name the rows
    "grid": "Try 1e-4, 1e-3, 1e-2 and 1e-1.",
    "two": "I normally use 0.001 and 0.0001.",
    "shape": "A smaller lr gives a more stable but much slower learning curve; a larger one "
             "converges quicker but becomes unstable.",
    "influential": "The lr is the most influential hyperparameter, for Adam as for any optimizer.",
    "betas": "The betas should not need changing.",
}


def _problems(n: int) -> str:
    return wording.plural(n, "problem")


def _rho(x: float) -> str:
    return "n/a (too few lrs)" if np.isnan(x) else f"{x:+.2f}"


_MEASURE = {"influential": "lr's share of the variance minus the largest other share",
            "betas": "share of the variance explained by beta1 and beta2 together"}


def _design_evidence(key: str, c: dict) -> str:
    from ..store import optim
    from . import report
    return (f"{_MEASURE[key]}: {report.fmt_share(c['share'], c['lo'], c['hi'])} on {wording.readable(c['problem'])}, "
            f"{optim.get(c['optimizer']).label} ({c['n_runs']} runs), the least favourable of "
            f"{wording.plural(c['n_designs'], 'design')}")


def table(final: pd.DataFrame, runs: pd.DataFrame, optimizer: str = "adam",
          shares: pd.DataFrame | None = None, near: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per claim: the claim, the verdict and the number behind it. The claims
    about other hyperparameters need ``shares`` (the designs' importance, see
    ``importance_claims``); without them they are marked as not measured. ``near``
    (``importance.of_designs``'s third result) adds the betas' share near the tuned lr to their row."""
    from . import report
    rows = []
    for key, grid in (("grid", "four decades (1e-4 .. 1e-1)"), ("two", "1e-4 and 1e-3")):
        c = grid_claim(final, grid, optimizer)
        half = (c["hi"] - c["lo"]) / 2
        rows.append(dict(claim=THREAD[key], verdict=c["verdict"], figure=figure(key),
                         evidence=f"regret of choosing within it, where it could be largest: {report.fmt_pp(c['regret'], half)} "
                                  f"{report.fmt_ci(c['lo'], c['hi'])} on {wording.readable(c['problem'])} (n = {c['n']}), "
                                  f"over {_problems(c['n_problems'])}"))
    s = speed_stability_claim(runs, optimizer)
    old = speed_stability_claim(runs, optimizer, old_rule=True)
    rows.append(dict(claim=THREAD["shape"], verdict=s["verdict"], figure=figure("shape", s["problem"]),
                     evidence=f"holds on {s['holds_on']} of {_problems(s['n_problems'])}; median rank "
                              f"correlation with the lr: speed {_rho(s['rho_speed'])}, instability "
                              f"{_rho(s['rho_instability'])} (seed 0, the grid's lrs that did not "
                              f"diverge); divergence on its own: on {s['diverged_on']} of "
                              f"{_problems(s['n_problems'])}, from lr {s['first_diverged']:.3g} at the "
                              f"lowest. The old rule ranked a diverged run as infinitely unstable, so "
                              f"divergence alone could make the correlation; by it: {old['verdict']}, "
                              f"instability {_rho(old['rho_instability'])}"))
    measured = {} if shares is None or shares.empty else importance_claims(shares)
    c = measured.get("influential")
    rows.append(dict(claim=THREAD["influential"], verdict=c["verdict"] if c else "not measured yet",
                     figure=figure("influential") if c else None,
                     evidence=_design_evidence("influential", c) if c
                     else "needs the hyperparameter designs (lrsweep design)"))
    rows.append(_betas_row(measured.get("betas"), near))
    return pd.DataFrame(rows)


def _betas_row(whole: dict | None, near: pd.DataFrame | None) -> dict:
    """The betas' claim judged near the tuned lr (where it lives), the whole design's
    verdict (the old rule) beside it."""
    from ..study.importance import NEAR
    if whole is None:
        return dict(claim=THREAD["betas"], verdict="not measured yet", figure=None,
                    evidence="needs the hyperparameter designs (lrsweep design)")
    near_rows = None if near is None else near.dropna(subset=["term"])
    c = importance_claims(near_rows).get("betas") if near_rows is not None and len(near_rows) else None
    old = (f"By the old rule, over each whole design (lr from five decades, divergence included, "
           f"so the lr swamps the rest): {whole['verdict']}, {_design_evidence('betas', whole)}")
    if c is None:
        return dict(claim=THREAD["betas"], verdict="not measured near the tuned lr", figure=figure("betas"),
                    evidence=f"no design has enough runs within {NEAR:g} decades of the tuned lr. {old}")
    return dict(claim=THREAD["betas"], verdict=c["verdict"], figure=figure("betas"),
                evidence=f"within {NEAR:g} decades of the tuned lr, {_design_evidence('betas', c)}. {old}")


def figure(key: str, problem: str | None = None) -> tuple[str, str, str]:
    """The figure that shows a claim's evidence: (its anchor, its page, how the table names it)."""
    from ..study.lr_study import PUBLISHED
    from .wording import readable
    if key in ("grid", "two"):
        return "fig-grids", "synthesis", "coarse grids (Synthesis)"
    if key == "shape":
        page = next((c for c, probs in PUBLISHED.chapters.items() if problem in probs), None)
        # (a problem outside the book's chapters has no page of its own)
        return ((f"fig-{problem.replace('_', '-')}-epochs", page, f"curves over epochs, {readable(problem)}")
                if page else ("fig-basin", "synthesis", "basin widths (Synthesis)"))
    return "fig-importance", "beyond", "importance (Beyond the learning rate)"


def shown(rows: pd.DataFrame):
    """The claims table as the book shows it (the first page and the synthesis), each
    claim linked to its figure by number."""
    from . import report
    links = [report.Link(f[2], f[0]) if f else "" for f in rows["figure"]]
    return report.table(rows.assign(link=links), {
        **{k: (k, "{}") for k in ("claim", "verdict", "evidence")}, "shown in": ("link", lambda x: x)})

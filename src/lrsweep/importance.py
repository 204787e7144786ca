"""How much each hyperparameter matters: functional ANOVA (Hutter et al. 2014) through
optuna's fANOVA, on the runs of a design, with bootstrap intervals.

The design's records become an optuna study (one trial per run, the objective its final
validation accuracy), its hyperparameters in the scale the design sampled them in (log10
for the log-scaled ones), so fANOVA's marginals average over the same measure. optuna
scores single hyperparameters; the lr x batch size interaction uses the same fitted
forest: the variance of the pair's joint marginal minus the two main effects.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .design import SPACES

N_TREES = 64
BOOTSTRAP = 50


def _coordinate(scale: str, value: float) -> float:
    """A hyperparameter in the scale its design sampled it (uniform there)."""
    if scale == "linear":
        return float(value)
    if scale == "power-of-2":
        return math.log2(value)
    return math.log10(1 - value if scale == "complement-log" else value)


def design_table(final: pd.DataFrame, optimizer: str) -> pd.DataFrame:
    """One row per run of ``optimizer`` in ``final`` (``analysis.final_epoch`` rows with
    ``hparams`` and ``batch_size``): its coordinates in the design's space and its final
    validation accuracy (a diverged run at chance, as everywhere)."""
    space = SPACES[optimizer]
    rows = []
    for r in final[final["optimizer"] == optimizer].itertuples():
        hp = dict(kv.split("=") for kv in r.hparams.split(","))
        values = {"lr": r.lr, "batch_size": r.batch_size, **{k: float(hp[k]) for k in space
                                                             if k not in ("lr", "batch_size")}}
        rows.append({**{k: _coordinate(space[k][0], values[k]) for k in space},
                     "valid_acc": r.valid_acc})
    return pd.DataFrame(rows, columns=[*space, "valid_acc"])


def _study(table: pd.DataFrame, optimizer: str):
    import optuna
    from optuna.distributions import FloatDistribution
    space = SPACES[optimizer]
    dists = {k: FloatDistribution(_lo_hi(*space[k])[0], _lo_hi(*space[k])[1]) for k in space}
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize")
    study.add_trials([optuna.trial.create_trial(params={k: float(row[k]) for k in space},
                                                distributions=dists, value=float(row["valid_acc"]))
                      for _, row in table.iterrows()])
    return study


def _lo_hi(scale: str, low: float, high: float) -> tuple[float, float]:
    a, b = _coordinate(scale, low), _coordinate(scale, high)
    return min(a, b), max(a, b)


def scores(table: pd.DataFrame, optimizer: str, seed: int = 0,
           pair: tuple[str, str] = ("lr", "batch_size")) -> dict[str, float]:
    """Fraction of the variance of validation accuracy explained by each hyperparameter's
    main effect, and by the interaction of ``pair`` (key ``"lr x batch_size"``)."""
    from optuna.importance import FanovaImportanceEvaluator
    study = _study(table, optimizer)
    names = list(SPACES[optimizer])
    evaluator = FanovaImportanceEvaluator(n_trees=N_TREES, seed=seed)
    main = evaluator.evaluate(study, params=names)  # fractions of the variance, unnormalised
    # the interaction, from the forest optuna just fitted: V(i, j) - V(i) - V(j), per tree
    # (the singles' per-tree variances optuna computed and kept, clipped at 0 as here; its
    # forest's columns are the hyperparameters sorted by name)
    fanova = evaluator._evaluator
    i, j = sorted(names).index(pair[0]), sorted(names).index(pair[1])
    fractions = []
    for t, tree in enumerate(fanova._trees):
        if tree.variance > 0:
            joint = max(0.0, tree.get_marginal_variance(np.array([i, j])))
            fractions.append((joint - fanova._variances[i][t] - fanova._variances[j][t]) / tree.variance)
    return {**{k: float(main[k]) for k in names}, f"{pair[0]} x {pair[1]}": float(np.mean(fractions))}


def draws(table: pd.DataFrame, optimizer: str, reps: int = BOOTSTRAP, seed: int = 0) -> pd.DataFrame:
    """The scores (columns) on the runs as they are (row 0) and on ``reps`` resamples of the
    runs with replacement (rows 1..reps), the forest refitted each time."""
    rng = np.random.default_rng(seed)
    rows = [scores(table, optimizer, seed)]
    for b in range(reps):
        resample = table.iloc[rng.integers(0, len(table), len(table))].reset_index(drop=True)
        rows.append(scores(resample, optimizer, seed + 1 + b))
    return pd.DataFrame(rows)


def with_groups(d: pd.DataFrame, optimizer: str) -> pd.DataFrame:
    """``d`` (``draws``) with the sums the claims are about, computed per draw so their
    intervals are paired: ``OTHERS`` (the optimizer's hyperparameters besides lr and the
    batch size), ``BETAS`` (Adam's two), and ``LR_LEAD``: lr's share minus the largest
    share of any other single hyperparameter."""
    singles = [k for k in SPACES[optimizer] if k != "lr"]
    out = d.assign(**{OTHERS: d[[k for k in singles if k != "batch_size"]].sum(axis=1),
                      LR_LEAD: d["lr"] - d[singles].max(axis=1)})
    if {"beta1", "beta2"} <= set(d.columns):
        out[BETAS] = d["beta1"] + d["beta2"]
    return out


OTHERS, BETAS, LR_LEAD = "other optimizer hyperparameters", "beta1 + beta2", "lr lead"


def bootstrap(table: pd.DataFrame, optimizer: str, reps: int = BOOTSTRAP, level: float = 0.95,
              seed: int = 0) -> pd.DataFrame:
    """Each score (and each sum of ``with_groups``) on the runs as they are, with a
    percentile bootstrap interval over runs resampled with replacement."""
    d = with_groups(draws(table, optimizer, reps, seed), optimizer)
    lo, hi = (1 - level) / 2, (1 + level) / 2
    rest = d.iloc[1:]
    return pd.DataFrame({"term": list(d.columns), "share": list(d.iloc[0]),
                         "lo": [rest[k].quantile(lo) for k in d.columns],
                         "hi": [rest[k].quantile(hi) for k in d.columns], "n_runs": len(table)})

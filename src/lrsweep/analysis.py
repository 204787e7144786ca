"""From the tidy table to the answer: final-epoch results, lr selected on validation,
accuracy at the default lr, and the regret of not tuning, with bootstrap CIs over seeds."""
from __future__ import annotations

import numpy as np
import pandas as pd

from . import optim

CELL = ["problem", "optimizer", "hparams"]


def final_epoch(table: pd.DataFrame) -> pd.DataFrame:
    """One row per run at the end of its budget. A diverged run counts at chance accuracy
    (its losses become NaN) and keeps ``diverged=True`` so figures can mark it."""
    last = table.loc[table.groupby("run_id")["epoch"].idxmax()].copy()
    last["diverged"] = last["status"] == "diverged"
    for split in ("train", "valid", "test"):
        last.loc[last.diverged, f"{split}_acc"] = last.loc[last.diverged, "chance_acc"]
        last.loc[last.diverged, f"{split}_loss"] = np.nan
    return last.reset_index(drop=True)


def _matrix(cell: pd.DataFrame, metric: str) -> pd.DataFrame:
    """lr x seed matrix of a metric (common random numbers make columns paired)."""
    return cell.pivot_table(index="lr", columns="seed", values=metric)


def _select(valid: np.ndarray, test: np.ndarray, lrs: np.ndarray, default_row: int | None):
    """Best lr on mean validation accuracy, its test accuracy, and the default's."""
    best = int(np.nanargmax(np.nanmean(valid, axis=1)))
    tuned = np.nanmean(test[best])
    default = np.nanmean(test[default_row]) if default_row is not None else np.nan
    return lrs[best], tuned, default


def summary(final: pd.DataFrame, n_boot: int = 2000, seed: int = 0,
            default_lr: float | None = None) -> pd.DataFrame:
    """Per (problem, optimizer, hparams): tuned lr (chosen on validation, reported on test),
    test accuracy at the tuned and the default lr, and regret = tuned - default with a 95%
    percentile-bootstrap CI that resamples seeds (re-selecting the lr in each resample).
    The default is each optimizer's own (0.001 for Adam and SGD) unless ``default_lr``."""
    rng = np.random.default_rng(seed)
    out = []
    for key, cell in final.groupby(CELL, sort=True):
        valid, test = _matrix(cell, "valid_acc"), _matrix(cell, "test_acc")
        lrs = valid.index.to_numpy()
        names = dict(zip(CELL, key))
        default = default_lr or optim.get(names["optimizer"]).default_lr
        hits = np.flatnonzero(np.isclose(lrs, default, rtol=1e-9))
        drow = int(hits[0]) if len(hits) else None
        v, t = valid.to_numpy(), test.to_numpy()
        best_lr, tuned, at_default = _select(v, t, lrs, drow)
        boots = []
        for _ in range(n_boot if drow is not None and v.shape[1] > 1 else 0):
            cols = rng.integers(0, v.shape[1], v.shape[1])
            _, bt, bd = _select(v[:, cols], t[:, cols], lrs, drow)
            boots.append(bt - bd)
        lo, hi = np.percentile(boots, [2.5, 97.5]) if boots else (np.nan, np.nan)
        out.append(dict(names, best_lr=best_lr, default_lr=default, acc_tuned=tuned,
                        acc_default=at_default, regret=tuned - at_default, regret_lo=lo, regret_hi=hi,
                        n_seeds=v.shape[1], n_lrs=len(lrs),
                        diverged=int(cell["diverged"].sum())))
    return pd.DataFrame(out)

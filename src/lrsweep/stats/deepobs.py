"""DeepOBS's published baselines (Schneider, Balles & Hennig 2019), read from the mirror:
per-epoch test accuracy and loss of Adam, SGD and Momentum (0.99) on fmnist_2c2d and
cifar10_3c3d for 100 epochs, 36 lrs from 1e-5 to 1e2 with seed 42, plus 10 seeds at the lr
DeepOBS tuned (on test). Used to compare our curves with theirs, and to see what longer
training does to the best lr."""
from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from ..errors import UsageError
from ..store import paths
from ..store.datasets import DataFile, checksum

FILE = DataFile("deepobs-baselines/curves.csv.gz",
                "sha256:5b09a98da0f26f1aac1316fdc538b171cb8d45502a49be23509d2e29e0da9876")
OPTIMIZERS = {"AdamOptimizer": "adam", "MomentumOptimizer": "momentum_0.99",  # MOMENTUM
              "GradientDescentOptimizer": "sgd"}
GRID_SEED = 42
MOMENTUM = 0.99  # DeepOBS's momentum baseline


@functools.lru_cache(maxsize=1)
def load() -> pd.DataFrame:
    """The baselines as a tidy table (problem, optimizer, lr, seed, epoch, test_acc, test_loss),
    optimizers named as here; the file is verified first."""
    mirror = paths.mirror_dir()
    path = mirror / FILE.name if mirror else None
    if path is None or not path.is_file():
        raise UsageError(f"DeepOBS baselines not found: set LRSWEEP_MIRROR to a folder holding {FILE.name}")
    if (got := checksum(path, FILE)) != FILE.digest:
        raise UsageError(f"{path}: checksum mismatch, expected {FILE.digest}, got {got}")
    curves = pd.read_csv(path)
    return curves.assign(optimizer=curves["optimizer"].map(OPTIMIZERS))


def best_lr_by_epoch(curves: pd.DataFrame) -> pd.DataFrame:
    """Per problem, optimizer and epoch: the lr of the seed-42 grid with the best test
    accuracy (DeepOBS selected on test), and that accuracy."""
    grid = curves[curves["seed"] == GRID_SEED]
    best = grid.loc[grid.groupby(["problem", "optimizer", "epoch"])["test_acc"].idxmax()]
    return best[["problem", "optimizer", "epoch", "lr", "test_acc"]].reset_index(drop=True)


def lr_drift(best: pd.DataFrame, start: int, end: int) -> pd.DataFrame:
    """How far DeepOBS's best lr moves between two epoch budgets, in decades (+: larger)."""
    b = best.pivot_table(index=["problem", "optimizer"], columns="epoch", values="lr")
    return pd.DataFrame({"lr_start": b[start], "lr_end": b[end],
                         "decades": np.log10(b[end] / b[start])}).reset_index()


def matched(ours: pd.DataFrame, curves: pd.DataFrame, optimizer: str = "adam",
            theirs_optimizer: str = "adam") -> pd.DataFrame:
    """Our test accuracy (mean over seeds) beside DeepOBS's (seed-42 grid) at the lrs both
    grids share (within 1%: theirs is logspace(-5, 2, 36), ours half decades rounded to 3
    digits, so they meet at the powers of ten) and the epochs both have. Runs that diverged
    are left out on both sides."""
    o = ours[(ours["optimizer"] == optimizer) & (ours["status"] == "ok")]
    o = o.groupby(["problem", "lr", "epoch"], as_index=False)["test_acc"].mean()
    t = curves[(curves["optimizer"] == theirs_optimizer) & (curves["seed"] == GRID_SEED)]
    rows = []
    for (prob, lr), sub in o.groupby(["problem", "lr"]):
        near = t[(t["problem"] == prob) & np.isclose(t["lr"], lr, rtol=0.01)]
        both = sub.merge(near[["epoch", "test_acc"]], on="epoch", suffixes=("_ours", "_deepobs"))
        rows.append(both.assign(problem=prob, lr=lr))
    cols = ["problem", "lr", "epoch", "test_acc_ours", "test_acc_deepobs"]
    return pd.concat(rows, ignore_index=True)[cols] if rows else pd.DataFrame(columns=cols)


def default_regret_by_epoch(curves: pd.DataFrame, default: float = 1e-3) -> pd.DataFrame:
    """Per problem, optimizer and epoch of the seed-42 grid: the best test accuracy over the
    grid minus the test accuracy at ``default``. One seed and selection on test (DeepOBS has
    no validation split): a point with no interval, biased up by the choice on test."""
    grid = curves[curves["seed"] == GRID_SEED]
    at = grid[np.isclose(grid["lr"], default, rtol=1e-6)]
    best = grid.groupby(["problem", "optimizer", "epoch"])["test_acc"].max()
    ref = at.set_index(["problem", "optimizer", "epoch"])["test_acc"]
    both = pd.concat({"best": best, "at_default": ref}, axis=1).dropna()
    return both.assign(regret=both["best"] - both["at_default"]).reset_index()

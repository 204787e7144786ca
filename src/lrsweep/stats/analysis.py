"""From the tidy table to the answer: outcomes, the tuned lr, regret with intervals that
hold at 3-5 seeds, basin widths, the fixed-lr and coarse-grid regrets, and the verdict.

The rules here are fixed before the results are read (method chapter, tests):

* Tuning is two-stage, as the study runs it: every lr of the grid with one seed, then more
  seeds at the default and the few best lrs. The **finalists** of a cell are its lrs with
  the cell's full seed count; the **tuned lr** is the finalist with the best mean
  validation accuracy; accuracy is reported on test.
* **Regret** of an lr: (test accuracy of the best finalist) - (test accuracy at that lr),
  in population terms, so it is >= 0 when the lr is itself a finalist. Its interval is
  simultaneous over the finalists within ``FAMILY_MARGIN`` of the tuned lr (Bonferroni;
  the nearest other finalist when none is that close),
  paired over seeds (common random numbers) with Student t, and widened by the test set's
  own sampling error, which more seeds do not average away. That error is **paired** where
  the records carry per-example test predictions (both lrs scored on the same images: the
  variance of the per-example difference, the McNemar view) and otherwise bounded as if the
  two accuracies came from independent test sets; each result says which (``paired``).
  The point estimate is the plug-in of the same quantity (the largest mean difference over
  that family, and 0 for a finalist reference), so it lies inside its interval. Where that
  interval is 0 to 0 (every other finalist is shown worse), ``lead`` says by how much the
  reference leads them at least, so no result hides its noise behind a zero width.
  Coverage and power are checked by simulation (``simulate``).
* **Verdict** on a reference lr: enough if the interval's upper end is below ``DELTA``,
  tune if its lower end is above, else undecided.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import stats

from ..store import optim
from ..store.records import unpack_correct

CELL = ["problem", "optimizer", "hparams"]
LEVEL = 0.95                 # every interval in the book
DELTA = 0.01                 # the verdict's tolerance: 1 point of test accuracy
NO_LEARNING_MARGIN = 0.05    # a run ending within 5 points of chance accuracy did not learn
# Finalists this far below the tuned lr on mean validation accuracy cannot be the best lr;
# leaving them out of the interval's family keeps a failed-in-two-of-three-seeds lr (whose
# spread is tens of points) from opening the upper end to nonsense.
FAMILY_MARGIN = 0.05
BASIN_DELTAS = (0.005, 0.01, 0.02)
THREAD_GRIDS = {"four decades (1e-4 .. 1e-1)": (1e-4, 1e-3, 1e-2, 1e-1),
                "1e-4 and 1e-3": (1e-4, 1e-3)}
# ... and the cheapest grid that is not a single point: the default and a step either side
COARSE_GRIDS = {**THREAD_GRIDS, "3 points around 1e-3": (3.16e-4, 1e-3, 3.16e-3)}
VERDICTS = ("default is enough", "tune the lr", "undecided")


# --------------------------------------------------------------------------- outcomes

def final_epoch(table: pd.DataFrame, budget: int | None = None) -> pd.DataFrame:
    """One row per run at ``budget`` epochs (default: the end of each run). A run that
    diverged by then counts at chance accuracy (its losses become NaN); ``outcome`` is
    ``diverged``, ``no_learning`` (ended within ``NO_LEARNING_MARGIN`` of chance without
    diverging: not started at a tiny lr, broken at a huge one) or ``ok``. Runs that did not
    reach the budget (and did not diverge) are left out."""
    t = table[table["status"] != "failed"].reset_index(drop=True)  # idxmax needs unique labels
    if budget is not None:
        t = t[t["epoch"] <= budget]
    last = t.loc[t.groupby("run_id")["epoch"].idxmax()].copy()
    diverged = last["status"] == "diverged"
    if budget is not None:
        diverged &= last["diverged_epoch"].fillna(np.inf) <= budget
        last = last[diverged | (last["epoch"] == budget)]
        diverged = diverged[last.index]
    for split in ("train", "valid", "test"):
        last.loc[diverged, f"{split}_acc"] = last.loc[diverged, "chance_acc"]
        last.loc[diverged, f"{split}_loss"] = np.nan
    if "test_correct" in last:
        last.loc[diverged, "test_correct"] = None  # counted at chance, not by its last predictions
    stuck = ~diverged & (last["valid_acc"] < last["chance_acc"] + NO_LEARNING_MARGIN)
    last["outcome"] = np.select([diverged, stuck], ["diverged", "no_learning"], "ok")
    last["diverged"] = diverged
    return last.reset_index(drop=True)


def lr_means(cell: pd.DataFrame) -> pd.DataFrame:
    """Per lr of one cell: seeds, mean validation and test accuracy, outcome counts."""
    g = cell.groupby("lr")
    out = pd.DataFrame({"n": g["seed"].nunique(), "valid_acc": g["valid_acc"].mean(),
                        "test_acc": g["test_acc"].mean()})
    counts = pd.crosstab(cell["lr"], cell["outcome"])  # one pass, not one per outcome
    for o in ("ok", "diverged", "no_learning"):
        out[o] = counts[o].astype(int) if o in counts else 0
    return out.sort_index()


def _matrices(cell: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Seed x lr matrices of validation and test accuracy (NaN: not run)."""
    # one groupby for both (a pivot_table each cost most of a page's time)
    both = cell.groupby(["seed", "lr"])[["valid_acc", "test_acc"]].mean().unstack("lr")
    return tuple(both[m] for m in ("valid_acc", "test_acc"))


def _bits(cell: pd.DataFrame) -> pd.DataFrame | None:
    """Seed x lr matrix of per-example test correctness (bool arrays; None where a run has
    none), or None when no run of the cell has any."""
    if "test_correct" not in cell or cell["test_correct"].isna().all():
        return None
    n = int(cell["n_test"].iloc[0])
    unpacked = cell["test_correct"].map(lambda p: None if p is None or p != p else unpack_correct(p, n))
    return unpacked.set_axis(pd.MultiIndex.from_frame(cell[["seed", "lr"]])).unstack("lr")


def _finalists(test: pd.DataFrame) -> list[float]:
    n = test.notna().sum()
    return sorted(n.index[n == n.max()]) if n.max() >= 2 else sorted(n.index)


def finalists(cell: pd.DataFrame) -> list[float]:
    """The lrs with the cell's full seed count (at least 2): stage two of the tuning."""
    return _finalists(_matrices(cell)[1])


def tuned_lr(cell: pd.DataFrame) -> float:
    """The finalist with the best mean validation accuracy."""
    valid, test = _matrices(cell)
    return float(valid[_finalists(test)].mean().idxmax())


# --------------------------------------------------------------------------- regret

def test_var(a: float, b: float, n_test: int) -> float:
    """Sampling variance of a difference of two accuracies on one test set of ``n_test``
    images, bounded as if the two were independent (predictions of two networks agree on
    most images, which only lowers it): what is left where records hold no predictions."""
    return (a * (1 - a) + b * (1 - b)) / n_test


def paired_test_var(correct_a: list[np.ndarray], correct_b: list[np.ndarray]) -> float:
    """Sampling variance, over test sets drawn from the population, of the part of the
    seed-mean accuracy difference of two lrs that every seed shares, both scored on the same
    test images (one correctness array per seed, paired by position).

    Per image i the difference x_si = c_a - c_b splits into its mean over seeds m_i and a
    seed's own part. The own parts already spread the seeds' differences, which the seed
    term of the interval counts; what the seeds share is var_i(m_i) / n. Unbiasedly:
    (var_i(D_i) - mean_i(w_i) / S) / n, with D_i the seed mean and w_i the seeds' variance
    on image i. With one seed nothing can be split off: McNemar's
    (p10 + p01 - (p10 - p01)^2) / n, the variance of the difference on n paired images."""
    x = np.array([a.astype(float) - b for a, b in zip(correct_a, correct_b)])  # seed x image
    n_seeds, n = x.shape
    shared = x.mean(0).var()
    if n_seeds > 1:
        shared -= x.var(0, ddof=1).mean() / n_seeds
    return max(float(shared), 0.0) / n


def _interval(d: np.ndarray, t_var: float, level: float) -> tuple[float, float]:
    """Two-sided ``level`` interval for a mean paired difference ``d`` (over seeds) plus the
    test set's sampling variance ``t_var``: Student t with Welch-Satterthwaite degrees of
    freedom, since the test-set part of the variance is known rather than estimated."""
    seed_var = np.var(d, ddof=1) / len(d)
    var = seed_var + t_var
    df = (len(d) - 1) * var ** 2 / seed_var ** 2 if seed_var > 0 else np.inf
    q = stats.t.ppf(0.5 + level / 2, df)
    return d.mean() - q * math.sqrt(var), d.mean() + q * math.sqrt(var)


def _regret(valid: pd.DataFrame, test: pd.DataFrame, ref, n_test: int, level: float,
            candidates: list | None = None, bits: pd.DataFrame | None = None) -> dict:
    """``regret`` on seed x lr matrices of validation and test accuracy (NaN: not run) and,
    where given, of per-example test correctness (``_bits``); the tuned lr is chosen among
    ``candidates`` (default: the finalists)."""
    cands = candidates if candidates is not None else _finalists(test)
    means = valid[cands].mean()
    best = float(means.idxmax())
    family = [c for c in cands if means[c] >= means[best] - FAMILY_MARGIN]
    out = {"ref_lr": ref, "tuned_lr": best, "acc_ref": np.nan, "acc_tuned": np.nan,
           "regret": np.nan, "lo": np.nan, "hi": np.nan, "n": 0, "paired": False, "lead": np.nan}
    if ref not in test.columns:
        return out

    def paired(lr):
        """Seed differences, test-set variance (and whether paired per example), means."""
        both = test[lr].notna() & test[ref].notna()
        d, a, b = (test[lr] - test[ref])[both].to_numpy(), test[lr][both].mean(), test[ref][both].mean()
        if bits is not None and lr in bits and ref in bits:
            ca, cb = bits[lr][both].tolist(), bits[ref][both].tolist()
            if len(ca) and all(x is not None for x in ca + cb):
                return d, paired_test_var(ca, cb), True, a, b
        return d, test_var(a, b, n_test), False, a, b
    d, _, _, out["acc_tuned"], out["acc_ref"] = paired(best)
    out["n"] = len(d)
    others = [c for c in family if c != ref]
    if not others and len(cands) > 1:
        # every other finalist is far behind the reference: the nearest of them on
        # validation still bounds how far the reference leads (no zero-width interval)
        others = [float(means.drop(ref).idxmax())]
    estimates, bounds, pairing = [], [], []
    for lr in others:  # Bonferroni: every interval at once, so their max is covered too
        dl, t_var, is_paired, _, _ = paired(lr)
        if len(dl) < 2:
            out["regret"] = float(d.mean()) if len(d) else np.nan
            return out  # one seed (or none) shared with the reference: no interval
        estimates.append(float(dl.mean()))
        bounds.append(_interval(dl, t_var, 1 - (1 - level) / len(others)))
        pairing.append(is_paired)
    # a reference among the candidates is matched or beaten by the best of them: >= 0
    zero = [0.0] if ref in cands else []
    out["regret"] = max(zero + estimates) if zero + estimates else float(d.mean()) if len(d) else np.nan
    if len(d) >= 2 and bounds:
        out["lo"] = max(zero + [lo for lo, _ in bounds])
        out["hi"] = max(zero + [hi for _, hi in bounds])
        out["paired"] = all(pairing)
        # where the interval is 0 to 0, how far the reference leads every other finalist
        # at least (the unclipped upper end): the information a zero-width interval hides
        out["lead"] = -max(hi for _, hi in bounds) if zero and out["hi"] == 0 else np.nan
    return out


def regret(cell: pd.DataFrame, ref: float, level: float = LEVEL) -> dict:
    """Regret of using lr ``ref`` on this cell instead of tuning (see the module doc):
    point estimate, simultaneous ``level`` interval, seeds behind it (``n``), whether its
    test-set error was paired per example (``paired``), and the test accuracies at the
    reference and at the tuned lr on those seeds."""
    return _regret(*_matrices(cell), ref, int(cell["n_test"].iloc[0]), level, bits=_bits(cell))


def regret_against(cell: pd.DataFrame, other: pd.DataFrame, level: float = LEVEL) -> dict:
    """Regret of an alternative to tuning ``cell``'s lr: ``other`` holds its runs on the
    same problem, one per seed (another optimizer, a schedule, an lr-free method). Paired
    by seed with the cell's finalists and simultaneous over them, as in ``regret``; it can
    be negative, where the alternative beats the tuned lr."""
    if other["seed"].duplicated().any():
        raise ValueError("the alternative must have one run per seed")
    valid, test = _matrices(cell)
    bits = _bits(pd.concat([cell, other.assign(lr="alternative")], ignore_index=True))
    finalists_ = _finalists(test)
    alt = other.set_index("seed")
    valid["alternative"], test["alternative"] = alt["valid_acc"], alt["test_acc"]
    return _regret(valid, test, "alternative", int(cell["n_test"].iloc[0]), level, finalists_, bits)


def verdict(lo: float, hi: float, delta: float = DELTA) -> str:
    """The rule fixed before the results were read: the reference lr is enough if the
    regret's upper end is below ``delta``, tuning is needed if its lower end is above."""
    if math.isnan(hi):
        return "undecided"
    return VERDICTS[0] if hi < delta else VERDICTS[1] if lo > delta else VERDICTS[2]


# --------------------------------------------------------------------------- sensitivity

def basin_edges(cell: pd.DataFrame, delta: float) -> tuple[list[float], int, int]:
    """The cell's lrs and the first and last index of the basin around the best."""
    acc = lr_means(cell)["test_acc"]
    i = int(np.argmax(acc.to_numpy()))
    ok = (acc >= acc.iloc[i] - delta).to_numpy()
    lo = hi = i
    while lo > 0 and ok[lo - 1]:
        lo -= 1
    while hi < len(ok) - 1 and ok[hi + 1]:
        hi += 1
    return list(acc.index), lo, hi


def basin_width(cell: pd.DataFrame, delta: float) -> float:
    """Decades of lr, around the best mean test accuracy, whose mean test accuracy stays
    within ``delta`` of it (contiguous on the grid; 0 when only the best lr qualifies)."""
    lrs, lo, hi = basin_edges(cell, delta)
    return float(math.log10(lrs[hi] / lrs[lo]))


def basin_most(cell: pd.DataFrame, delta: float) -> float:
    """The most the basin can span, given the grid: up to the first lr outside it on each
    side (the true edges lie somewhere in between); infinite where it reaches an end of
    the grid (nothing says where it stops)."""
    lrs, lo, hi = basin_edges(cell, delta)
    if lo == 0 or hi == len(lrs) - 1:
        return math.inf
    return float(math.log10(lrs[hi + 1] / lrs[lo - 1]))


def basins(cell: pd.DataFrame) -> dict[str, float]:
    """The cell's basin at each tolerance of ``BASIN_DELTAS``: ``basin_10`` is its width
    within 1 point (``basin_width``), ``basin_10_most`` the most the grid allows."""
    out = {f"basin_{round(d * 1000)}": basin_width(cell, d) for d in BASIN_DELTAS}
    out.update({f"basin_{round(d * 1000)}_most": basin_most(cell, d) for d in BASIN_DELTAS})
    return out


def fine_basins(final: pd.DataFrame, seeds: tuple[int, ...]) -> pd.DataFrame:
    """Per (problem, optimizer, hparams), ``basins`` on the curve of the runs with ``seeds``
    (the seeds every lr of a quarter-decade design has), and how many lrs it has."""
    runs = final[final["seed"].isin(seeds)]
    return pd.DataFrame([dict(zip(CELL, key), n_lrs=cell["lr"].nunique(), **basins(cell))
                         for key, cell in runs.groupby(CELL, sort=True)])


def fixed_lr(final: pd.DataFrame, optimizer: str, leave_out: str) -> float:
    """One lr for every task, chosen without ``leave_out``: the lr (on every other task's
    grid) with the least mean validation regret over the other tasks."""
    others = final[(final["optimizer"] == optimizer) & (final["problem"] != leave_out)]
    regrets = []
    for _, cell in others.groupby("problem"):
        v = lr_means(cell)["valid_acc"]
        regrets.append(v.max() - v)
    common = pd.concat(regrets, axis=1).dropna()
    if common.empty:
        raise ValueError(f"no lr of {optimizer} is on the grid of every task but {leave_out}")
    return float(common.mean(axis=1).idxmin())


def grid_choice(cell: pd.DataFrame, grid: tuple[float, ...]) -> float | None:
    """The lr a coarse grid picks on validation (mean over seeds), or None if none is on it."""
    v = lr_means(cell)["valid_acc"]
    on = [lr for lr in v.index if any(math.isclose(lr, g, rel_tol=1e-9) for g in grid)]
    return float(v[on].idxmax()) if on else None


# --------------------------------------------------------------------------- tables

def summary(final: pd.DataFrame, default_lr: float | None = None) -> pd.DataFrame:
    """Per (problem, optimizer, hparams): tuned lr, test accuracy at the tuned and the
    default lr, the regret of the default with its interval, seeds, basin widths and the
    verdict. The default is each optimizer's own (its library's) unless ``default_lr``."""
    out = []
    for key, cell in final.groupby(CELL, sort=True):
        names = dict(zip(CELL, key))
        default = default_lr or optim.get(names["optimizer"]).default_lr
        r = regret(cell, default)
        row = dict(names, default_lr=default, best_lr=r["tuned_lr"], acc_default=r["acc_ref"],
                   acc_tuned=r["acc_tuned"], regret=r["regret"], regret_lo=r["lo"],
                   regret_hi=r["hi"], n_seeds=r["n"], paired=r["paired"], lead=r["lead"],
                   n_lrs=cell["lr"].nunique(),
                   diverged=int((cell["outcome"] == "diverged").sum()),
                   no_learning=int((cell["outcome"] == "no_learning").sum()),
                   verdict=verdict(r["lo"], r["hi"]))
        row.update(basins(cell))
        out.append(row)
    return pd.DataFrame(out)


def fixed_lr_table(final: pd.DataFrame) -> pd.DataFrame:
    """Leave-one-task-out: per optimizer and task, the one lr chosen on the other tasks and
    its regret on this one; for each optimizer also its library default."""
    out = []
    for (opt, prob), cell in final.groupby(["optimizer", "problem"], sort=True):
        refs = {"leave-one-task-out": fixed_lr(final, opt, prob)} if final["problem"].nunique() > 1 else {}
        refs["library default"] = optim.get(opt).default_lr
        for how, lr in refs.items():
            r = regret(cell, lr)
            out.append(dict(optimizer=opt, problem=prob, choice=how, lr=lr, regret=r["regret"],
                            lo=r["lo"], hi=r["hi"], n=r["n"], paired=r["paired"], lead=r["lead"],
                            verdict=verdict(r["lo"], r["hi"])))
    return pd.DataFrame(out)


def grid_table(final: pd.DataFrame, grids: dict = COARSE_GRIDS) -> pd.DataFrame:
    """Regret of choosing on validation within each coarse grid, per optimizer and task."""
    out = []
    for (opt, prob), cell in final.groupby(["optimizer", "problem"], sort=True):
        for name, grid in grids.items():
            lr = grid_choice(cell, grid)
            r = regret(cell, lr) if lr is not None else {"regret": np.nan, "lo": np.nan, "hi": np.nan,
                                                         "n": 0, "paired": False, "lead": np.nan}
            out.append(dict(optimizer=opt, problem=prob, grid=name, lr=lr, regret=r["regret"],
                            lo=r["lo"], hi=r["hi"], n=r["n"], paired=r["paired"], lead=r["lead"]))
    return pd.DataFrame(out)


def tuned_by_budget(table: pd.DataFrame) -> pd.DataFrame:
    """The tuned lr (finalists, validation) at every epoch budget each cell's runs cover
    (up to the longest run that did not diverge: past it only diverged runs would be left)."""
    out = []
    for key, runs in table.groupby(CELL, sort=True):
        longest = runs.loc[runs["status"] == "ok", "epoch"].max()
        for e in range(1, 0 if pd.isna(longest) else int(longest) + 1):
            out.append({**dict(zip(CELL, key)), "epoch": e, "tuned_lr": tuned_lr(final_epoch(runs, e))})
    return pd.DataFrame(out)


def regret_by_budget(table: pd.DataFrame, ref: float | None = None) -> pd.DataFrame:
    """The regret of ``ref`` (default: each optimizer's library default) at every epoch
    budget a cell's runs reach: at epoch e, the runs that reached it (or diverged by then)
    are read there, the finalists are those with the most seeds at e, the tuned lr is chosen
    on validation at e, and the regret, its interval, n, pairing and verdict are as in
    ``regret``."""
    out = []
    for key, runs in table.groupby(CELL, sort=True):
        names = dict(zip(CELL, key))
        lr = ref or optim.get(names["optimizer"]).default_lr
        for e in sorted(set(runs["epoch"]) - {0}):
            final = final_epoch(runs, e)
            if lr not in set(final["lr"]):
                continue
            r = regret(final, lr)
            out.append({**names, "epoch": e, "ref_lr": lr, "tuned_lr": r["tuned_lr"],
                        "regret": r["regret"], "lo": r["lo"], "hi": r["hi"], "n": r["n"],
                        "paired": r["paired"], "lead": r["lead"], "verdict": verdict(r["lo"], r["hi"])})
    return pd.DataFrame(out)


# --------------------------------------------------------------------------- coverage

class Simulated(NamedTuple):
    """What ``simulate`` finds over its simulated studies."""
    coverage: float               # share of intervals holding the true regret
    width: float                  # mean interval width
    verdicts: dict[str, float]    # share of studies ending in each verdict


def simulate(true_acc: dict[float, float], default: float, n_seeds: int, *,
             seed_sd: float = 0.003, seed_corr: float = 0.5, agreement: float = 0.8,
             paired: bool = True, n_valid: int = 10_000, n_test: int = 10_000,
             reps: int = 2000, level: float = LEVEL,
             rng: np.random.Generator | None = None) -> Simulated:
    """Studies drawn from a known truth, each analysed by ``_regret`` exactly as the book's
    records are. ``true_acc`` gives the population accuracy at each finalist lr; the true
    regret is max(true_acc) - true_acc[default]. A run (lr, seed) has population accuracy
    truth + a seed effect (sd ``seed_sd``, correlated ``seed_corr`` across the lrs of one
    seed: common random numbers). Each study draws its own test set: image i has a latent
    difficulty shared by every run (weight ``agreement`` on the latent scale, so two runs
    mostly agree on which images they get right) and the run gets it right when difficulty
    plus its own noise falls below the probit of its accuracy. Validation accuracy adds
    binomial noise. With ``paired=False`` the interval ignores the predictions and uses the
    independence bound, as before the records carried them."""
    rng = rng or np.random.default_rng(0)
    lrs = sorted(true_acc)
    mu = np.array([true_acc[lr] for lr in lrs])
    truth = mu.max() - true_acc[default]
    cov = seed_sd ** 2 * (seed_corr + (1 - seed_corr) * np.eye(len(lrs)))
    hits, widths, counts = 0, [], dict.fromkeys(VERDICTS, 0)
    for _ in range(reps):
        acc = np.clip(mu + rng.multivariate_normal(np.zeros(len(lrs)), cov, size=n_seeds), 1e-6, 1 - 1e-6)
        difficulty = rng.standard_normal(n_test)
        own = rng.standard_normal((n_seeds, len(lrs), n_test))
        latent = math.sqrt(agreement) * difficulty + math.sqrt(1 - agreement) * own
        correct = latent < stats.norm.ppf(acc)[..., None]               # seed x lr x image
        test = correct.mean(-1)
        valid = acc + rng.normal(0, np.sqrt(acc * (1 - acc) / n_valid))
        bits = (pd.DataFrame([[correct[s, j] for j in range(len(lrs))] for s in range(n_seeds)],
                             columns=lrs) if paired else None)
        r = _regret(pd.DataFrame(valid, columns=lrs), pd.DataFrame(test, columns=lrs), default,
                    n_test, level, bits=bits)
        hits += r["lo"] <= truth <= r["hi"]
        widths.append(r["hi"] - r["lo"])
        counts[verdict(r["lo"], r["hi"])] += 1
    return Simulated(hits / reps, float(np.mean(widths)), {v: c / reps for v, c in counts.items()})

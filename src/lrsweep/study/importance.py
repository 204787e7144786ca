"""How much each hyperparameter matters: functional ANOVA (Hutter et al. 2014) on the runs
of a design, with bootstrap intervals.

The design's runs (the objective: their final validation accuracy) are fitted with a
scikit-learn random forest as optuna's fANOVA fits them, their hyperparameters in the scale
the design sampled them in (log10 for the log-scaled ones), so the marginals average over
the same measure. The marginals are computed here from the trees' documented arrays, for
single hyperparameters and for the lr x batch size interaction alike (optuna's public API
scores single hyperparameters only; a test holds these to it).
"""
from __future__ import annotations

import math
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd

from ..store import paths
from ..stats.analysis import LEVEL
from .design import BOOTSTRAP, SPACES

N_TREES = 64


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


def _design_matrix(table: pd.DataFrame, optimizer: str, box: dict | None = None):
    """The runs as a forest's inputs: the coordinates (columns: the hyperparameters sorted
    by name, as optuna orders a study's, so the same seed grows the same forest), the
    validation accuracies and the box ((low, high) per column; ``box`` narrows some sides,
    in the design's coordinates)."""
    space = SPACES[optimizer]
    names = sorted(space)
    sides = np.array([(_lo_hi(*space[k]) if k not in (box or {}) else box[k]) for k in names], dtype=float)
    x = table[names].to_numpy(dtype=float)
    outside = (x < sides[:, 0] - 1e-3) | (x > sides[:, 1] + 1e-3)
    if outside.any():
        bad = {k: list(table[k][outside[:, i]]) for i, k in enumerate(names) if outside[:, i].any()}
        raise ValueError(f"runs outside the {optimizer} design's box: {bad}")
    # (clipped: a point rounded to 4 significant digits may sit a hair outside the box)
    return names, np.clip(x, sides[:, 0], sides[:, 1]), table["valid_acc"].to_numpy(dtype=float), sides


def _variances(tree, sides: np.ndarray, subsets: list[tuple[int, ...]]) -> tuple[float, list[float]]:
    """One regression tree's total variance over the box ``sides`` (uniform measure) and the
    variance of its marginal on each of ``subsets`` (Hutter et al. 2014): the tree's leaves
    are boxes, and its marginal on a subset is constant on the grid of the subset's split
    points. ``tree``: a fitted scikit-learn tree's documented ``tree_`` arrays."""
    n, d = tree.node_count, len(sides)
    lo, hi = np.empty((n, d)), np.empty((n, d))
    lo[0], hi[0] = sides[:, 0], sides[:, 1]
    for node in range(n):  # scikit-learn numbers a node before its children
        f = tree.feature[node]
        if f >= 0:
            left, right, cut = tree.children_left[node], tree.children_right[node], tree.threshold[node]
            lo[left], hi[left], lo[right], hi[right] = lo[node], hi[node], lo[node], hi[node]
            hi[left, f] = lo[right, f] = cut
    leaf = tree.feature < 0
    lo, hi, value = lo[leaf], hi[leaf], tree.value[leaf].reshape(-1)
    size = hi - lo
    weight = size.prod(axis=1)
    total = np.average((value - np.average(value, weights=weight)) ** 2, weights=weight)
    out = []
    for subset in subsets:
        rest = [k for k in range(d) if k not in subset]
        # each leaf's share of the box along the other hyperparameters, times its value
        mass = value * (size[:, rest] / (sides[rest, 1] - sides[rest, 0])).prod(axis=1)
        mids, widths = [], []
        for f in subset:
            edges = np.concatenate([[sides[f, 0]], np.unique(tree.threshold[tree.feature == f]), [sides[f, 1]]])
            mids.append((edges[1:] + edges[:-1]) / 2)
            widths.append(np.diff(edges))
        cells = np.stack(np.meshgrid(*mids, indexing="ij"), axis=-1).reshape(-1, len(subset))
        cell_weight = np.prod(np.stack(np.meshgrid(*widths, indexing="ij"), axis=-1).reshape(-1, len(subset)), axis=1)
        inside = np.ones((len(cells), len(value)), dtype=bool)
        for i, f in enumerate(subset):
            inside &= (lo[:, f] < cells[:, [i]]) & (cells[:, [i]] < hi[:, f])
        marginal = inside @ mass
        out.append(float(np.average((marginal - np.average(marginal, weights=cell_weight)) ** 2, weights=cell_weight)))
    return float(total), out


def _lo_hi(scale: str, low: float, high: float) -> tuple[float, float]:
    """The design's box in its coordinates (a complement-log box bounds 1 - x already)."""
    if scale == "complement-log":
        return math.log10(low), math.log10(high)
    return _coordinate(scale, low), _coordinate(scale, high)


def scores(table: pd.DataFrame, optimizer: str, seed: int = 0,
           pair: tuple[str, str] = ("lr", "batch_size"), box: dict | None = None) -> dict[str, float]:
    """Fraction of the variance of validation accuracy explained by each hyperparameter's
    main effect, and by the interaction of ``pair`` (key ``"lr x batch_size"``): per tree
    of a random forest fitted to the runs (optuna's fANOVA settings: ``N_TREES`` trees,
    depth up to 64, a leaf per run), the marginal's variance over the tree's, averaged over
    the trees with any variance; the interaction is V(i, j) - V(i) - V(j), each marginal
    variance clipped at 0."""
    from sklearn.ensemble import RandomForestRegressor
    names, x, y, sides = _design_matrix(table, optimizer, box)
    forest = RandomForestRegressor(n_estimators=N_TREES, max_depth=64, min_samples_split=2, min_samples_leaf=1,
                                   random_state=seed).fit(x, y)
    i, j = names.index(pair[0]), names.index(pair[1])
    mains, pairs = [], []
    for est in forest.estimators_:
        total, (*single, joint) = _variances(est.tree_, sides, [(k,) for k in range(len(names))] + [(i, j)])
        if total > 0:
            single = np.clip(single, 0.0, None)
            mains.append(single / total)
            pairs.append((max(0.0, joint) - single[i] - single[j]) / total)
    main = np.mean(mains, axis=0)
    return {**{k: float(main[names.index(k)]) for k in SPACES[optimizer]}, f"{pair[0]} x {pair[1]}": float(np.mean(pairs))}


def draws(table: pd.DataFrame, optimizer: str, reps: int = BOOTSTRAP, seed: int = 0,
          box: dict | None = None) -> pd.DataFrame:
    """The scores (columns) on the runs as they are (row 0) and on ``reps`` resamples of the
    runs with replacement (rows 1..reps), the forest refitted each time."""
    rng = np.random.default_rng(seed)
    rows = [scores(table, optimizer, seed, box=box)]
    for b in range(reps):
        resample = table.iloc[rng.integers(0, len(table), len(table))].reset_index(drop=True)
        rows.append(scores(resample, optimizer, seed + 1 + b, box=box))
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
# the terms a figure shows, in its order: every single hyperparameter of either design
# space, then the interaction (a term missing from a design is left out there)
SINGLE_AND_PAIR = ("lr", "beta1", "beta2", "eps", "momentum", "batch_size", "lr x batch_size")


def bootstrap(table: pd.DataFrame, optimizer: str, reps: int = BOOTSTRAP, level: float = LEVEL,
              seed: int = 0, box: dict | None = None) -> pd.DataFrame:
    """Each score (and each sum of ``with_groups``) on the runs as they are, with a
    percentile bootstrap interval over runs resampled with replacement."""
    d = with_groups(draws(table, optimizer, reps, seed, box), optimizer)
    lo, hi = (1 - level) / 2, (1 + level) / 2
    rest = d.iloc[1:]
    return pd.DataFrame({"term": list(d.columns), "share": list(d.iloc[0]),
                         "lo": [rest[k].quantile(lo) for k in d.columns],
                         "hi": [rest[k].quantile(hi) for k in d.columns], "n_runs": len(table)})


def _what(table: pd.DataFrame, optimizer: str, reps: int, level: float, seed: int,
          box: dict | None = None) -> dict:
    """What the scores depend on (their cache key): the runs' coordinates and accuracies,
    the box, the settings and the versions of the libraries that fit the forests."""
    return {"runs": table.to_csv(index=False, float_format="%.17g"), "optimizer": optimizer,
            "reps": reps, "level": level, "seed": seed, "trees": N_TREES,
            **({"box": {k: list(v) for k, v in box.items()}} if box else {}),
            "versions": {p: version(p) for p in ("optuna", "scikit-learn", "numpy")}}


def stored(table: pd.DataFrame, optimizer: str, path: str | Path, reps: int | None = None,
           level: float = LEVEL, seed: int = 0, box: dict | None = None) -> pd.DataFrame:
    """``bootstrap`` (``reps`` None: ``BOOTSTRAP``), read from the JSON at ``path`` when it
    was computed from exactly this table with these settings (the forests take minutes),
    computed and written otherwise."""
    reps = BOOTSTRAP if reps is None else reps
    return pd.DataFrame(paths.cached_rows(path, _what(table, optimizer, reps, level, seed, box),
                                          lambda: bootstrap(table, optimizer, reps, level, seed,
                                                            box).to_dict("records")))


NEAR = 0.5       # decades either side of the study's tuned lr: "once lr is about right"
MIN_NEAR = 24    # fewer runs than this in that window leave the forest too little to split


def near(table: pd.DataFrame, tuned_lr: float, half: float = NEAR) -> tuple[pd.DataFrame, dict]:
    """The runs of a design (``design_table``) within ``half`` decades of ``tuned_lr``, and
    the box with lr's side narrowed to that window: how much the other hyperparameters
    matter once the lr is about right, rather than over the design's whole lr range."""
    c = math.log10(tuned_lr)
    keep = (table["lr"] - c).abs() <= half + 1e-9
    return table[keep].reset_index(drop=True), {"lr": (c - half, c + half)}


def _cache_dir(results_dir) -> Path:
    """The published store keeps its results under data/importance, others under _build."""
    published = paths.runs_dir(results_dir).resolve() == paths.PUBLISHED_RUNS.resolve()
    return paths.ROOT / ("data" if published else "_build") / "importance"


def _tables(designs, results_dir, train_missing: bool):
    """(problem, optimizer, epochs, ``design_table``) per design of ``designs`` (a
    ``design.SobolDesigns``) whose runs are all stored (or trained, with ``train_missing``);
    and the ``Progress`` of the others."""
    from ..stats import analysis
    tables, running = [], {}
    for (problem, optimizer), (_, epochs) in designs.points.items():
        now = designs.progress_of(problem, optimizer, results_dir)
        if not now.complete and not train_missing:
            running[(problem, optimizer)] = now
            continue
        runs = designs.run_of(problem, optimizer, results_dir, train_missing=train_missing, quiet=True)
        tables.append((problem, optimizer, epochs, design_table(analysis.final_epoch(runs), optimizer)))
    return tables, running


def of_designs(designs, results_dir=None, *, train_missing: bool = False,
               tuned: dict[tuple[str, str], float] | None = None):
    """``stored`` for every design of ``designs`` (a ``design.SobolDesigns``) whose runs are all stored
    (or trained, with ``train_missing``), as rows with ``problem``, ``optimizer``,
    ``epochs`` and ``sd`` (the standard deviation of the accuracy the shares split); None
    if there is none yet. Also the ``Progress`` of the others, and, given ``tuned``
    (per (problem, optimizer), the study's tuned lr), the same analysis near it on the same
    runs (``_near``; None without ``tuned``): each design's runs are read once."""
    tables, running = _tables(designs, results_dir, train_missing)
    cache = _cache_dir(results_dir)
    frames = [stored(table, optimizer, cache / f"{problem}-{optimizer}.json", designs.bootstrap).assign(
              problem=problem, optimizer=optimizer, epochs=epochs, sd=float(table["valid_acc"].std()))
              for problem, optimizer, epochs, table in tables]
    near_rows = None if tuned is None else _near(tables, tuned, cache, designs.bootstrap)
    return (pd.concat(frames, ignore_index=True) if frames else None), running, near_rows


def _near(tables: list, tuned: dict[tuple[str, str], float], cache: Path, reps: int) -> pd.DataFrame | None:
    """``stored`` on the runs of each design (``_tables``) within ``NEAR`` decades of its
    problem's tuned lr (``tuned``; a design without one is left out), as rows with
    ``problem``, ``optimizer``, ``epochs``, ``tuned_lr``, ``n_runs`` and ``sd``; a design
    with fewer than ``MIN_NEAR`` runs in the window gets one row saying so (term None)."""
    frames = []
    for problem, optimizer, epochs, table in tables:
        if (problem, optimizer) not in tuned:
            continue
        window, box = near(table, tuned[(problem, optimizer)])
        meta = dict(problem=problem, optimizer=optimizer, epochs=epochs, tuned_lr=tuned[(problem, optimizer)],
                    sd=float(window["valid_acc"].std()))
        if len(window) < MIN_NEAR:
            frames.append(pd.DataFrame([{"term": None, "n_runs": len(window), **meta}]))
            continue
        frames.append(stored(window, optimizer, cache / f"{problem}-{optimizer}-near.json", reps, box=box).assign(**meta))
    return pd.concat(frames, ignore_index=True) if frames else None

"""Figures in one house style, and their files for readers to download and cite."""
from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import numpy as np
import pandas as pd
import seaborn as sns

from ..store import optim, paths
from . import wording

FORMATS = ("svg", "pdf", "png")
# no creation dates (and, below, fixed SVG ids): the same figure gives the same bytes
_NO_DATE = {"svg": {"Date": None}, "pdf": {"CreationDate": None}, "png": {}}


# One colour per optimizer throughout the book (colour-blind-safe), in registry order.
COLORS = dict(zip((o.label for o in optim.OPTIMIZERS.values()), sns.color_palette("colorblind")))
# Learning rates get their own sequential palette: the optimizers' blue and pink mean Adam and
# SGD-momentum on every figure.
LR_PALETTE = "copper"


def _lr(x: float) -> str:
    """A learning rate in a legend, rounded as the text rounds it (three digits)."""
    return f"{x:.3g}"


def _percent(ax) -> None:
    """An accuracy axis in percent, as the text speaks of it."""
    ax.yaxis.set_major_formatter(mticker.PercentFormatter(1.0, decimals=0))

# How failed runs are marked: they sit at chance accuracy, for different reasons.
OUTCOME_MARKERS = {"diverged": ("x", "diverged"), "no_learning": ("v", "did not learn")}
METRIC_LABELS = {"test_acc": "test accuracy", "valid_acc": "validation accuracy",
                 "test_loss": "test loss", "valid_loss": "validation loss",
                 "train_loss": "training loss"}


def style() -> None:
    sns.set_theme(style="whitegrid", context="notebook", palette="colorblind")
    # fonts embedded as TrueType outlines (Type 42), not Type 3 bitmaps-by-procedure: the PDF
    # book's figures stay sharp and searchable
    plt.rcParams.update({"pdf.fonttype": 42, "ps.fonttype": 42})
    try:  # in a chapter's kernel: glued figures carry a PDF too, which the PDF book uses
        from IPython import get_ipython
        from matplotlib_inline.backend_inline import set_matplotlib_formats
        if get_ipython() is not None:
            set_matplotlib_formats("png", "pdf")
    except ImportError:
        pass


def _labelled(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(optimizer=frame["optimizer"].map(lambda o: optim.get(o).label))


def _shared_legend(fig: plt.Figure, axes, below: bool = False, key=None) -> None:
    """One legend for all panels: beside them, or under a grid (``below``), two columns;
    its labels sorted by ``key`` where given."""
    legend = {}
    for ax in axes:
        legend.update(zip(*reversed(ax.get_legend_handles_labels())))
        if ax.get_legend():
            ax.get_legend().remove()
    if key is not None:
        legend = dict(sorted(legend.items(), key=lambda kv: key(kv[0])))
    if below:
        fig.legend(legend.values(), legend.keys(), loc="outside lower center", ncols=2, frameon=False)
    else:
        fig.legend(legend.values(), legend.keys(), loc="outside right center", frameon=False)


WIDTH = 7.5  # inches: every figure of panels is this wide, so none is a narrow strip


def _grid(n: int, cols: int = 2, panel_height: float = 3.0, **subplots) -> tuple[plt.Figure, np.ndarray]:
    """The one size policy for figures of panels: a grid at most ``cols`` panels wide and
    ``WIDTH`` wide whatever the number of panels, its legend below (``_shared_legend``)."""
    cols = max(1, min(cols, n))
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(WIDTH, panel_height * rows + 0.9), squeeze=False,
                             layout="constrained", **subplots)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, axes


def accuracy_vs_lr(final: pd.DataFrame, metrics: tuple[str, ...] = ("test_acc",),
                   problems: list[str] | None = None) -> plt.Figure:
    """Final accuracy (and loss) against lr, log axis: a column per metric, side by side,
    a row per problem, a line per optimizer (mean over seeds, band: the range over seeds where an lr
    has several). Crosses: diverged runs, triangles: runs that did not learn (both at
    chance accuracy, and left out of the loss); dashed lines: the optimizers' default lrs."""
    style()
    defaults = sorted({optim.get(o).default_lr for o in final["optimizer"].unique()})
    d = _labelled(final)
    probs = list(problems or sorted(set(d["problem"])))
    order = [o.label for o in optim.OPTIMIZERS.values() if o.name in set(final["optimizer"])]
    fig, axes = plt.subplots(len(probs), len(metrics), figsize=(4.6 * len(metrics), 3.4 * len(probs)),
                             squeeze=False, sharex=True, layout="constrained")
    for row, prob in zip(axes, probs):
        for ax, metric in zip(row, metrics):
            sub = d[d["problem"] == prob]
            sns.lineplot(sub, x="lr", y=metric, hue="optimizer", hue_order=order, palette=COLORS,
                         marker="o", errorbar=("pi", 100), ax=ax)
            for outcome, (marker, label) in OUTCOME_MARKERS.items():
                bad = sub[sub["outcome"] == outcome]
                if len(bad) and metric.endswith("_acc"):
                    ax.scatter(bad["lr"], bad[metric], marker=marker, color="black", zorder=5, label=label)
            for lr in defaults:
                ax.axvline(lr, color="grey", ls="--", lw=1, label=f"default lr {lr:g}")
            ax.set(xscale="log", title=wording.readable(prob), xlabel="learning rate",
                   ylabel=METRIC_LABELS.get(metric, metric))
            if metric.endswith("_acc"):
                _percent(ax)
    _shared_legend(fig, axes.flat)
    return fig


def headline(final: pd.DataFrame, summary: pd.DataFrame) -> plt.Figure:
    """The answer in one figure, legible on a phone: test accuracy against the learning rate,
    a panel per problem in two columns, a line per optimizer (mean over the seeds each lr
    has), each optimizer's default marked with a star and its tuned lr (chosen on
    validation) with a ring, both in the optimizer's colour."""
    style()
    means = final.groupby(["problem", "optimizer", "lr"])["test_acc"].mean().reset_index()
    probs = list(dict.fromkeys(summary["problem"]))
    fig, axes = _grid(len(probs), panel_height=2.6, sharex=True)
    for ax, prob in zip(axes.flat, probs):
        for s in summary[summary["problem"] == prob].itertuples():
            label, curve = optim.get(s.optimizer).label, means[(means["problem"] == prob)
                                                                & (means["optimizer"] == s.optimizer)]
            color = COLORS.get(label)
            ax.plot(curve["lr"], curve["test_acc"], "-", marker=".", color=color, label=label)
            at = curve.set_index("lr")["test_acc"]
            ax.plot([s.default_lr], [at.get(s.default_lr, np.nan)], "*", ms=15, color=color, mec="black",
                    mew=0.8, zorder=5, label=f"default lr ({s.default_lr:g})")
            ax.plot([s.best_lr], [at.get(s.best_lr, np.nan)], "o", ms=10, mfc="none", mec=color, mew=2,
                    zorder=4, label="tuned lr (on validation)")
        ax.set(xscale="log", title=wording.readable(prob), xlabel="learning rate", ylabel="test accuracy")
        _percent(ax)
    # every other decade, through the defaults' 0.001: labels a phone can read
    lo, hi = np.log10(final["lr"].min()), np.log10(final["lr"].max())
    axes.flat[0].xaxis.set_major_locator(mticker.FixedLocator(
        [10.0 ** e for e in range(-15, 15, 2) if lo - 0.5 <= e <= hi + 0.5]))
    axes.flat[0].xaxis.set_minor_formatter(mticker.NullFormatter())
    for ax in axes[:-1].flat:
        ax.set_xlabel("")
    for ax in axes[:, 1:].flat:
        ax.set_ylabel("")
    handles = {}
    for ax in axes.flat[:len(probs)]:
        handles.update(zip(*reversed(ax.get_legend_handles_labels())))
    handles = dict(sorted(handles.items(), key=lambda kv: kv[0].startswith(("default", "tuned"))))
    # the markers in black in the legend: they mean the same for both optimizers
    for label, h in handles.items():
        if label.startswith(("default", "tuned")):
            h = plt.Line2D([], [], ls="", marker=h.get_marker(), ms=h.get_markersize(), color="black",
                           mfc=h.get_markerfacecolor() if label.startswith("tuned") else "0.6", mec="black")
            handles[label] = h
    fig.legend(handles.values(), handles.keys(), loc="outside lower center", ncols=2, frameon=False)
    return fig


def curves_over_epochs(table: pd.DataFrame, problem: str, lrs: dict[str, list[float]],
                       metric: str = "test_acc") -> plt.Figure:
    """Accuracy over epochs at a few lrs per optimizer (``lrs``: optimizer -> lrs), mean
    over the seeds each lr has: how "too slow" differs from "unstable"."""
    style()
    fig, axes = plt.subplots(1, len(lrs), figsize=(4.8 * len(lrs), 3.4), squeeze=False,
                             sharey=True, layout="constrained")
    for ax, (opt, chosen) in zip(axes[0], lrs.items()):
        sub = table[(table["problem"] == problem) & (table["optimizer"] == opt) & table["lr"].isin(chosen)]
        sns.lineplot(sub.assign(lr=sub["lr"].map(_lr)), x="epoch", y=metric,
                     hue="lr", hue_order=[_lr(x) for x in sorted(chosen)], palette=LR_PALETTE,
                     errorbar=None, marker=".", ax=ax)
        ax.set(title=f"{wording.readable(problem)}: {optim.get(opt).label}",
               ylabel=METRIC_LABELS.get(metric, metric))
        if metric.endswith("_acc"):
            _percent(ax)
        ax.legend(title="lr", fontsize="small")
    return fig


def regret_overview(rows: pd.DataFrame, label: str = "what") -> plt.Figure:
    """Regret with its interval per problem: a row per problem, a colour per optimizer, a
    marker per ``label`` (e.g. the default lr, one fixed lr); the dashed line is the
    verdict's tolerance. ``rows``: problem, optimizer, regret, lo, hi, n, ``label``."""
    from ..stats.analysis import DELTA, LEVEL
    style()
    d = _labelled(rows)
    probs = sorted(set(d["problem"]))
    kinds = list(dict.fromkeys(d[label]))
    fig, ax = plt.subplots(figsize=(7.5, 0.55 * len(probs) * len(kinds) + 1.2), layout="constrained")
    step = 0.8 / max(1, len(kinds) * d["optimizer"].nunique())
    for k, ((kind, opt), sub) in enumerate(d.groupby([label, "optimizer"], sort=False)):
        y = [probs.index(p) + k * step for p in sub["problem"]]
        err = [(sub["regret"] - sub["lo"]).clip(lower=0), (sub["hi"] - sub["regret"]).clip(lower=0)]
        ax.errorbar(100 * sub["regret"], y, xerr=[100 * e for e in err], fmt="os^D"[kinds.index(kind) % 4],
                    color=COLORS.get(opt), capsize=3, label=f"{opt}, {kind}")
    ax.axvline(100 * DELTA, color="grey", ls="--", lw=1, label=f"tolerance {100 * DELTA:g} point")
    ax.set_yticks(range(len(probs)), [wording.readable(p) for p in probs])
    ax.invert_yaxis()
    ax.set(xlabel=f"regret (test accuracy points), {LEVEL:.0%} interval")
    _shared_legend(fig, [ax], below=True)
    return fig


def basin_overview(summary: pd.DataFrame) -> plt.Figure:
    """Basin widths (decades of lr within each tolerance of the best) per problem, a panel
    per tolerance, the optimizers side by side in their colours; a line from each bar to
    the most the grid allows (an arrow where the basin reaches an end of the grid)."""
    from ..stats.analysis import BASIN_DELTAS
    style()
    d = _labelled(summary)
    probs = sorted(set(d["problem"]))
    opts = list(dict.fromkeys(d["optimizer"]))
    fig, axes = plt.subplots(1, len(BASIN_DELTAS), figsize=(WIDTH + 1.5, 0.45 * len(probs) + 1.6),
                             sharey=True, sharex=True, layout="constrained")
    step = 0.8 / max(1, len(opts))
    for ax, delta in zip(axes, BASIN_DELTAS):
        for k, opt in enumerate(opts):
            sub = d[d["optimizer"] == opt].set_index("problem").reindex(probs)
            ys = [i + (k - (len(opts) - 1) / 2) * step for i in range(len(probs))]
            key = f"basin_{round(delta * 1000)}"
            ax.barh(ys, sub[key], height=step, color=COLORS.get(opt), label=opt)
            for y, w, most in zip(ys, sub[key], sub[key + "_most"]):
                if np.isinf(most):
                    ax.plot([w, w + 0.5], [y, y], color="0.25", lw=1, marker=">", markevery=[1],
                            ms=4, label="reaches an end of the grid")
                elif not np.isnan(most):
                    ax.plot([w, most], [y, y], color="0.25", lw=1, marker="|", markevery=[1],
                            label="the most the grid allows")
        ax.set(title=f"within {100 * delta:g} pt", xlabel="decades of lr")
    axes[0].set_yticks(range(len(probs)), [wording.readable(p) for p in probs])
    axes[0].invert_yaxis()
    _shared_legend(fig, axes, below=True)
    return fig


def cost_regret(rows: pd.DataFrame) -> plt.Figure:
    """Each alternative to tuning (``alternatives.table`` rows) on one row, cheapest at the
    top: its regret where the interval reaches highest over the problems, with that
    interval, and its cost (training runs) and, where not all, the problems it was measured
    on in the label."""
    from ..stats.analysis import DELTA, LEVEL
    style()
    worst = rows.loc[rows.assign(h=rows["hi"].fillna(rows["regret"])).groupby("alternative")["h"].idxmax()]
    worst = worst.sort_values(["cost_runs", "alternative"], kind="stable").reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(7.5, 0.36 * len(worst) + 1.3), layout="constrained")
    for y, r in worst.iterrows():
        err = None if r.hi != r.hi else 100 * np.array([[max(0.0, r.regret - r.lo)], [max(0.0, r.hi - r.regret)]])
        ax.errorbar(100 * r.regret, y, xerr=err, fmt="o", color="0.25", capsize=3)
    n_all, n_of = rows["problem"].nunique(), rows.groupby("alternative")["problem"].nunique()
    ax.set_yticks(range(len(worst)), [
        f"{r.alternative} ({r.cost_runs:.3g} run{'s' if r.cost_runs != 1 else ''}"
        + (f"; {n_of[r.alternative]} of {n_all} problems)" if n_of[r.alternative] < n_all else ")")
        for r in worst.itertuples()])
    ax.invert_yaxis()
    ax.axvline(100 * DELTA, color="grey", ls="--", lw=1)
    ax.axvline(0, color="grey", lw=0.5)
    ax.set(xlabel=f"regret vs tuned Adam (test accuracy points), {LEVEL:.0%} interval")
    return fig


def importance(shares: pd.DataFrame) -> plt.Figure:
    """Share of the variance of final validation accuracy explained by each hyperparameter
    and by the lr x batch size interaction (``importance.of_designs`` rows): a panel per
    problem, a bar per term and optimizer in its colour, with the bootstrap interval."""
    from ..stats.analysis import LEVEL
    from ..study.importance import SINGLE_AND_PAIR
    style()
    d = _labelled(shares[shares["term"].isin(SINGLE_AND_PAIR)])
    probs = sorted(set(d["problem"]))
    terms = [t for t in SINGLE_AND_PAIR if t in set(d["term"])]
    opts = list(dict.fromkeys(d["optimizer"]))
    fig, axes = _grid(len(probs), panel_height=0.42 * len(terms) + 1.2, sharey=True)
    step = 0.8 / max(1, len(opts))
    for ax, prob in zip(axes.flat, probs):
        for k, opt in enumerate(opts):
            sub = d[(d["problem"] == prob) & (d["optimizer"] == opt)].set_index("term").reindex(terms)
            y = np.arange(len(terms)) + (k - (len(opts) - 1) / 2) * step
            err = [(sub["share"] - sub["lo"]).clip(lower=0), (sub["hi"] - sub["share"]).clip(lower=0)]
            ax.barh(y, 100 * sub["share"], height=step, color=COLORS.get(opt), label=opt,
                    xerr=[100 * e for e in err], error_kw=dict(ecolor="0.25", capsize=2, lw=1))
        ax.set(title=wording.readable(prob), xlabel=f"share of variance (%), {LEVEL:.0%} interval", xlim=(0, 100))
    axes[0][0].set_yticks(range(len(terms)), [wording.term(t) for t in terms])
    axes[0][0].invert_yaxis()
    _shared_legend(fig, axes.flat[:len(probs)], below=True)
    return fig


def best_lr_by_batch(best: pd.DataFrame) -> plt.Figure:
    """The tuned lr against the batch size (``batch_lr.best_lrs``), log-log: a panel per
    problem, a line per optimizer; hollow markers where the best lr sits at an end of the
    lrs tried. Grey guides through each optimizer's middle batch size: the square-root
    (dotted) and linear (dashed) scaling rules."""
    style()
    d = _labelled(best)
    probs = sorted(set(d["problem"]))
    fig, axes = _grid(len(probs))
    for ax, prob in zip(axes.flat, probs):
        for opt, sub in d[d["problem"] == prob].groupby("optimizer", sort=False):
            sub = sub.sort_values("batch_size")
            color = COLORS.get(opt)
            ax.plot(sub["batch_size"], sub["best_lr"], "-", color=color, label=opt)
            for edge, face in ((False, color), (True, "white")):
                pts = sub[sub["at_edge"] == edge]
                ax.scatter(pts["batch_size"], pts["best_lr"], color=face, edgecolor=color, zorder=3,
                           label=f"{opt}, at the end of the lrs tried" if edge and len(pts) else None)
            mid = sub.iloc[len(sub) // 2]
            for power, ls in ((0.5, ":"), (1.0, "--")):
                ax.plot(sub["batch_size"], mid["best_lr"] * (sub["batch_size"] / mid["batch_size"]) ** power,
                        ls=ls, color="grey", lw=1, label=f"lr ∝ batch size^{power:g}")
        ax.set(xscale="log", yscale="log", title=wording.readable(prob), xlabel="batch size", ylabel="best learning rate")
        ax.xaxis.set_major_locator(mticker.FixedLocator(sorted(set(d["batch_size"]))))
        ax.xaxis.set_major_formatter(mticker.FormatStrFormatter("%d"))
        ax.xaxis.set_minor_formatter(mticker.NullFormatter())
    _shared_legend(fig, axes.flat[:len(probs)], below=True)
    return fig


def best_lr_by_budget(ours: pd.DataFrame, theirs: pd.DataFrame | None = None) -> plt.Figure:
    """The tuned lr against the epoch budget: ours (chosen on validation) per problem and
    optimizer, and DeepOBS's (chosen on test, 100 epochs) where given."""
    style()
    probs = sorted(set(ours["problem"]) | (set(theirs["problem"]) if theirs is not None else set()))
    fig, axes = _grid(len(probs), panel_height=2.6, sharey=True)
    for ax, prob in zip(axes.flat, probs):
        o = _labelled(ours[ours["problem"] == prob])
        for opt, sub in o.groupby("optimizer"):
            ax.step(sub["epoch"], sub["tuned_lr"], where="post", color=COLORS.get(opt), label=f"{opt} (ours)")
        if theirs is not None:  # epoch 0 (before training) has no best lr
            for opt, sub in theirs[(theirs["problem"] == prob) & (theirs["epoch"] > 0)].groupby("optimizer"):
                ax.step(sub["epoch"], sub["lr"], where="post", ls=":", label=f"DeepOBS {wording.optimizer_name(opt)}",
                        color=COLORS.get(optim.get(opt).label) if opt in optim.OPTIMIZERS else "grey")
        ax.set(yscale="log", xscale="log", title=wording.readable(prob), xlabel="epochs", ylabel="best learning rate")
        ax.xaxis.set_major_locator(mticker.FixedLocator([1, 2, 5, 10, 20, 50, 100]))
        ax.xaxis.set_major_formatter(mticker.FormatStrFormatter("%d"))
        ax.xaxis.set_minor_formatter(mticker.NullFormatter())
    _shared_legend(fig, axes.flat[:len(probs)], below=True)
    return fig


DEFAULT_DIR = paths.ROOT / "_build" / "figures"


def save(fig: plt.Figure, name: str, directory: str | Path | None = None) -> list[Path]:
    """Write ``fig`` as ``name``.svg/.pdf/.png (PNG at 200 dpi) into ``directory`` (a
    chapter's ``figures_dir`` parameter: ``lrsweep book`` points it into the book it builds;
    default _build/figures); returns the paths."""
    out = Path(directory or DEFAULT_DIR)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    with plt.rc_context({"svg.hashsalt": name}):  # fixed SVG element ids, not random ones
        for ext in FORMATS:
            path = out / f"{name}.{ext}"
            fig.savefig(path, dpi=200, bbox_inches="tight", metadata=_NO_DATE[ext])
            written.append(path)
    return written


def placed(anchor: str, fig: plt.Figure, directory: str | Path | None = None) -> dict[str, plt.Figure]:
    """``fig`` to glue under its ``anchor``, saved as the files behind its download links
    and closed (a chapter cell then does not show it a second time). The page places it
    with ``{glue:figure} <anchor>``, which is also its anchor for ``{numref}`` (the book's
    extension _ext/figure_downloads.py names a glued figure after its key): each anchor is
    typed once in the code and once where the page places it."""
    save(fig, anchor, directory)
    plt.close(fig)
    return {anchor: fig}


def deepobs_overlay(matched: pd.DataFrame) -> plt.Figure:
    """Our test accuracy over epochs (solid) against DeepOBS's (dotted) at the lrs both
    grids have, a panel per problem, a colour per lr."""
    style()
    probs = sorted(set(matched["problem"]))
    fig, axes = _grid(len(probs))
    palette = dict(zip(sorted(set(matched["lr"])), sns.color_palette(LR_PALETTE, matched["lr"].nunique())))
    for ax, prob in zip(axes.flat, probs):
        for lr, sub in matched[matched["problem"] == prob].groupby("lr"):
            ax.plot(sub["epoch"], sub["test_acc_ours"], color=palette[lr], label=f"lr {_lr(lr)}, ours")
            ax.plot(sub["epoch"], sub["test_acc_deepobs"], color=palette[lr], ls=":",
                    label=f"lr {_lr(lr)}, DeepOBS")
        ax.set(title=wording.readable(prob), xlabel="epoch", ylabel="test accuracy")
        _percent(ax)
    # by lr, ours before DeepOBS's: "lr 0.000251, ours"
    _shared_legend(fig, axes.flat[:len(probs)], below=True,
                   key=lambda label: (float(label.split()[1].rstrip(",")), label.endswith("DeepOBS")))
    return fig


def regret_by_budget(ours: pd.DataFrame, theirs: pd.DataFrame | None = None,
                     delta: float | None = None) -> plt.Figure:
    """The default's regret (points of test accuracy) against the epoch budget, a panel per
    problem in a grid of two columns: ``ours`` rows of ``analysis.regret_by_budget`` with a
    ``series`` column (solid: estimate; band: interval), DeepOBS's one-seed regret chosen on
    test (grey, dotted) where given, and the verdict's tolerance ``delta`` (dashed)."""
    style()
    probs = list(dict.fromkeys(ours["problem"]))
    fig, axes = _grid(len(probs), panel_height=2.6)
    series = list(dict.fromkeys(ours["series"]))
    colors = dict(zip(series, (COLORS[optim.get("adam").label], "black")))
    for ax, prob in zip(axes.flat, probs):
        for name, sub in ours[ours["problem"] == prob].groupby("series", sort=False):
            ax.plot(sub["epoch"], 100 * sub["regret"], color=colors[name], marker=".", label=name,
                    ls="-" if name == series[0] else "--")
            ax.fill_between(sub["epoch"], 100 * sub["lo"], 100 * sub["hi"], color=colors[name],
                            alpha=0.15, lw=0)
        if theirs is not None and prob in set(theirs["problem"]):
            t = theirs[(theirs["problem"] == prob) & (theirs["epoch"] > 0)]
            ax.plot(t["epoch"], 100 * t["regret"], color="grey", ls=":", lw=1.2,
                    label="DeepOBS, one seed, best chosen on test")
        if delta is not None:
            ax.axhline(100 * delta, color="grey", ls="--", lw=1, label=f"tolerance, {100 * delta:g} point")
        ax.set(title=wording.readable(prob), xscale="log", xlabel="epochs trained (log scale)", ylabel="regret of the default (points)")
        ax.xaxis.set_major_locator(mticker.FixedLocator([1, 2, 5, 10, 20, 50, 100]))
        ax.xaxis.set_major_formatter(mticker.FormatStrFormatter("%d"))
        ax.xaxis.set_minor_formatter(mticker.NullFormatter())
    _shared_legend(fig, axes.flat[:len(probs)], below=True)
    return fig

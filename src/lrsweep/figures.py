"""Figures in one house style, and their files for readers to download and cite."""
from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from . import optim, paths

FORMATS = ("svg", "pdf", "png")
# no creation dates (and, below, fixed SVG ids): the same figure gives the same bytes
_NO_DATE = {"svg": {"Date": None}, "pdf": {"CreationDate": None}, "png": {}}



def style() -> None:
    sns.set_theme(style="whitegrid", context="notebook", palette="colorblind")


def accuracy_vs_lr(final: pd.DataFrame, metric: str = "test_acc", band: str = "range",
                   problems: list[str] | None = None) -> plt.Figure:
    """Accuracy against lr (log axis), one panel per problem, one line per optimizer: the
    mean over seeds with a band over seeds (``range``: min to max); x marks runs that
    diverged (counted at chance accuracy); dashed lines: the optimizers' default lrs."""
    style()
    defaults = sorted({optim.get(o).default_lr for o in final["optimizer"].unique()})
    d = final.assign(optimizer=final["optimizer"].map(lambda o: optim.get(o).label))
    probs = list(problems or sorted(set(d["problem"])))
    fig, axes = plt.subplots(1, len(probs), figsize=(5.2 * len(probs), 3.8), squeeze=False,
                             sharey=True, layout="constrained")
    order = [o.label for o in optim.OPTIMIZERS.values() if o.name in set(final["optimizer"])]
    errorbar = ("pi", 100) if band == "range" else band
    for ax, prob in zip(axes[0], probs):
        sub = d[d["problem"] == prob]
        sns.lineplot(sub, x="lr", y=metric, hue="optimizer", hue_order=order, marker="o",
                     errorbar=errorbar, ax=ax, legend=True)
        bad = sub[sub["diverged"]]
        if len(bad):
            ax.scatter(bad["lr"], bad[metric], marker="x", color="black", zorder=5,
                       label="diverged")
        for lr in defaults:
            ax.axvline(lr, color="grey", ls="--", lw=1, label=f"default lr {lr:g}")
        ax.set(xscale="log", title=prob, xlabel="learning rate",
               ylabel=metric.replace("_acc", " accuracy").replace("_", " "))
    legend = {}
    for ax in axes[0]:
        legend.update(zip(*reversed(ax.get_legend_handles_labels())))
        ax.get_legend().remove()
    fig.legend(legend.values(), legend.keys(), loc="outside right center", frameon=False)
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

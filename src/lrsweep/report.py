"""Numbers as the book prints them, glued into the prose (never typed by hand)."""
from __future__ import annotations

import math

import pandas as pd

from .figures import OPTIMIZER_LABELS


def fmt_lr(x: float) -> str:
    return f"{x:.3g}"


def fmt_pct(x: float) -> str:
    return "n/a" if x is None or math.isnan(x) else f"{100 * x:.2f}%"


def fmt_pp(x: float) -> str:
    """A difference of accuracies, in percentage points."""
    return "n/a" if x is None or math.isnan(x) else f"{100 * x:+.2f} pp"


def fmt_ci(lo: float, hi: float) -> str:
    if math.isnan(lo) or math.isnan(hi):
        return "n/a (one seed)"
    return f"[{100 * lo:+.2f}, {100 * hi:+.2f}] pp"


def summary_table(summary: pd.DataFrame):
    """The summary as readers see it (a styled table without the index column)."""
    return pd.DataFrame({
        "problem": summary["problem"],
        "optimizer": summary["optimizer"].map(lambda o: OPTIMIZER_LABELS.get(o, o)),
        "default lr": summary["default_lr"].map(fmt_lr),
        "tuned lr": summary["best_lr"].map(fmt_lr),
        "test acc. at default": summary["acc_default"].map(fmt_pct),
        "test acc. tuned": summary["acc_tuned"].map(fmt_pct),
        "regret of default": summary["regret"].map(fmt_pp),
        "95% CI": [fmt_ci(lo, hi) for lo, hi in zip(summary["regret_lo"], summary["regret_hi"])],
        "seeds": summary["n_seeds"],
    }).style.hide(axis="index")


def headline_numbers(summary: pd.DataFrame, problem: str) -> dict[str, str]:
    """Formatted numbers for one problem, keyed ``{optimizer}_{quantity}``."""
    out = {"headline_problem": problem}
    for _, row in summary[summary["problem"] == problem].iterrows():
        o = row["optimizer"]
        out.update({f"{o}_best_lr": fmt_lr(row["best_lr"]),
                    f"{o}_acc_default": fmt_pct(row["acc_default"]),
                    f"{o}_acc_tuned": fmt_pct(row["acc_tuned"]),
                    f"{o}_regret": fmt_pp(row["regret"]),
                    f"{o}_regret_ci": fmt_ci(row["regret_lo"], row["regret_hi"])})
    return out


def glue_all(values: dict[str, object]) -> None:
    from myst_nb import glue
    for key, value in values.items():
        glue(key, value, display=False)

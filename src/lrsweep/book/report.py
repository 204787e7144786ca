"""Numbers as the book prints them, glued into the prose (never typed by hand)."""
from __future__ import annotations

import math
import string
from pathlib import Path

import pandas as pd

from ..store import optim
from ..stats.analysis import LEVEL
from . import wording


def fmt_lr(x: float) -> str:
    return f"{x:.3g}"


def fmt_pct(x: float) -> str:
    return "n/a" if x is None or math.isnan(x) else f"{100 * x:.2f}%"


def _decimals(half_width: float) -> int:
    """Decimals (in points) that one significant digit of an interval's half-width allows."""
    if half_width is None or math.isnan(half_width) or half_width <= 0:
        return 2
    return max(0, -math.floor(math.log10(100 * half_width)))


def fmt_pp(x: float, half_width: float | None = None) -> str:
    """A difference of accuracies, in percentage points, rounded to what its interval
    (``half_width``, as a fraction) supports."""
    if x is None or math.isnan(x):
        return "n/a"
    d = _decimals(half_width)
    return f"{round(100 * x, d) + 0.0:+.{d}f} pp"  # + 0.0: no "-0.0" for a tiny negative


def fmt_ci(lo: float, hi: float, lead: float = math.nan) -> str:
    """An interval of a difference in points; where it is 0 to 0 (``analysis.regret``'s
    ``lead`` given), by how much the reference leads every other finalist at least."""
    if math.isnan(lo) or math.isnan(hi):
        return "n/a (one seed)"
    if lead is not None and not math.isnan(lead):
        pts = 100 * lead
        return f"(it leads every other finalist by at least {pts:.{1 if pts >= 0.1 else 2}f} pp)"
    d = _decimals((hi - lo) / 2)
    lo, hi = (round(100 * x, d) + 0.0 for x in (lo, hi))  # + 0.0: no "-0" at a rounded zero
    return f"[{lo:+.{d}f}, {hi:+.{d}f}] pp"


def fmt_share(x: float, lo: float, hi: float) -> str:
    """A share of variance (a fraction) as a percentage with its interval, rounded to what
    the interval supports."""
    d = _decimals((hi - lo) / 2)
    x, lo, hi = (round(100 * v, d) + 0.0 for v in (x, lo, hi))
    return f"{x:.{d}f}% [{lo:.{d}f}, {hi:.{d}f}]"


def fmt_basin(width: float, most: float, decimals: int = 1) -> str:
    """A basin width with the most the grid allows: "1.0 to 2.0", or "1.5 or more" where
    the basin reaches an end of the grid (``decimals=2`` on a quarter-decade grid)."""
    return f"{width:.{decimals}f} or more" if math.isinf(most) else f"{width:.{decimals}f} to {most:.{decimals}f}"


class Link(str):
    """A cell that refers to a figure: it reads "Fig. N, <text>" and links to the figure
    wherever the book shows the table (HTML or PDF); ``label`` is the figure's name."""

    def __new__(cls, text: str, label: str):
        cell = super().__new__(cls, text)
        cell.label = label
        return cell


def _cell(value) -> str:
    """A table cell as MyST: a pipe or a line break would end the cell or the row."""
    if isinstance(value, Link):
        return f"{{numref}}`Fig. %s, {value} <{value.label}>`"
    return str(value).replace("|", "\\|").replace("\n", " ")


class Table:
    """A glued table: MyST pipe-table rows, which the page places in a numbered ``{table}``
    directive with its caption (``table_block``), so Sphinx numbers it and wraps its columns
    to the line width in the PDF instead of shrinking its font."""

    def __init__(self, cells: pd.DataFrame):
        self.cells = cells

    def to_myst(self) -> str:
        rows = [[_cell(c) for c in self.cells.columns], ["---"] * self.cells.shape[1]]
        rows += [[_cell(v) for v in row] for row in self.cells.itertuples(index=False)]
        return "\n".join("| " + " | ".join(map(str, r)) + " |" for r in rows) + "\n"

    _repr_markdown_ = to_myst

    def __repr__(self) -> str:
        return self.cells.to_string(index=False)


TEMPLATES = Path(__file__).with_name("templates")


def fill(template: str, **fields) -> str:
    """A MyST template of ``templates/`` (``$name`` fields) filled in: the text a page
    repeats per problem, or shows only once its runs are stored."""
    return string.Template((TEMPLATES / f"{template}.md").read_text()).substitute(fields)


def table_block(key: str, caption: str, name: str) -> str:
    """The MyST that shows glued table ``key`` as a numbered table with its caption
    (``name``: its anchor for {numref})."""
    return f":::{{table}} {caption}\n:name: {name}\n```{{glue:md}} {key}\n:format: myst\n```\n:::\n"


def table(rows: pd.DataFrame, columns: dict[str, tuple[str, object]]) -> Table:
    """A table as the book shows tables, without index column:
    ``{heading: (column, format string or function)}``."""
    def cells(col, fmt):
        return rows[col].map(fmt.format if isinstance(fmt, str) else fmt)
    return Table(pd.DataFrame({head: cells(col, fmt) for head, (col, fmt) in columns.items()}))


PAIRED_MARK = " (paired)"  # an interval whose test-set error was paired image by image


def with_regret_text(rows: pd.DataFrame, regret: str = "regret", lo: str = "lo", hi: str = "hi",
                     paired: str = "paired") -> pd.DataFrame:
    """``rows`` plus ``regret_shown`` and ``ci``: a regret and its interval as the book prints
    them, rounded to what the interval supports; ``PAIRED_MARK`` follows an interval whose
    test-set error was paired image by image (else it used the independence bound); and
    ``regret_ci``, the two together with the unit said once ("+0.4 [+0.0, +1.2] pp")."""
    marks = rows[paired].fillna(False) if paired in rows else pd.Series(False, index=rows.index)
    leads = rows["lead"] if "lead" in rows else pd.Series(math.nan, index=rows.index)
    shown = rows.assign(
        regret_shown=[fmt_pp(r, (h - l) / 2) if math.isnan(ld) else "0 pp"
                      for r, l, h, ld in zip(rows[regret], rows[lo], rows[hi], leads)],
        ci=[fmt_ci(l, h, ld) + (PAIRED_MARK if m else "")
            for l, h, ld, m in zip(rows[lo], rows[hi], leads, marks)])
    return shown.assign(regret_ci=[f"{r.removesuffix(' pp') if ci.startswith('[') else r} {ci}"
                                   for r, ci in zip(shown["regret_shown"], shown["ci"])])


def summary_table(summary: pd.DataFrame):
    """The summary as readers see it, narrow enough for the text column: per problem and
    optimizer (with its default lr), the verdict on the default next to the problem, the
    regret of the default with its interval and the seeds behind it, the tuned lr, the test
    accuracy at the default and tuned, and the basin width."""
    shown = with_regret_text(summary, lo="regret_lo", hi="regret_hi", paired="paired").assign(
        basin_shown=[fmt_basin(w, m) for w, m in zip(summary["basin_10"], summary["basin_10_most"])],
        opt_shown=[f"{optim.get(o).label} ({fmt_lr(lr)})" for o, lr in zip(summary["optimizer"], summary["default_lr"])],
        regret_full=lambda d: [f"{rc}, n = {n}" for rc, n in zip(d["regret_ci"], d["n_seeds"])],
        accs=[f"{fmt_pct(a)} → {fmt_pct(b)}" for a, b in zip(summary["acc_default"], summary["acc_tuned"])])
    return table(shown, {
        "problem": ("problem", wording.readable),
        "optimizer (default lr)": ("opt_shown", "{}"),
        "verdict on the default": ("verdict", "{}"),
        f"regret of the default [{LEVEL:.0%} interval]": ("regret_full", "{}"),
        "tuned lr": ("best_lr", fmt_lr),
        "test acc., default → tuned": ("accs", "{}"),
        "decades within 1 pt": ("basin_shown", "{}"),
    })


def headline_numbers(summary: pd.DataFrame, problem: str) -> dict[str, str]:
    """Formatted numbers for one problem, keyed ``{optimizer}_{quantity}``."""
    out = {"headline_problem": problem}
    for _, row in summary[summary["problem"] == problem].iterrows():
        o = row["optimizer"]
        out.update({f"{o}_best_lr": fmt_lr(row["best_lr"]),
                    f"{o}_acc_default": fmt_pct(row["acc_default"]),
                    f"{o}_acc_tuned": fmt_pct(row["acc_tuned"]),
                    f"{o}_regret": fmt_pp(row["regret"], (row["regret_hi"] - row["regret_lo"]) / 2),
                    f"{o}_regret_ci": fmt_ci(row["regret_lo"], row["regret_hi"], row.get("lead", math.nan))
                    + (PAIRED_MARK if row.get("paired") else ""),
                    f"{o}_n_seeds": str(row["n_seeds"]),
                    f"{o}_verdict": row["verdict"]})
    return out


def glue_all(values: dict[str, object]) -> None:
    from myst_nb import glue
    for key, value in values.items():
        glue(key, value, display=False)


def design_numbers(optimizers: list[str], dataset_names: list[str]) -> dict[str, str]:
    """The design facts prose states, from the registries: ``{optimizer}_{hyperparameter}``,
    ``{optimizer}_default_lr``, ``{dataset}_n_valid`` and the interval ``level``."""
    from ..store import datasets
    out = {"level": f"{LEVEL:.0%}"}
    for o in optimizers:
        spec = optim.get(o)
        out[f"{o}_default_lr"] = f"{spec.default_lr:g}"
        out.update({f"{o}_{k}": f"{v:g}" if isinstance(v, float) else str(v)
                    for k, v in spec.defaults.items()})
    for d in dataset_names:
        out[f"{d}_n_valid"] = f"{datasets.get(d).n_valid:,}"
    return out

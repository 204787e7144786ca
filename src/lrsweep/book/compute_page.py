"""The compute appendix: the study's total training time and the committed benchmark."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from ..store import paths
from . import costs, report, wording
from .evidence import Evidence


def load_bench(path: str | Path) -> dict:
    with open(path) as fh:
        return json.load(fh)


def study_numbers(evidence: Evidence) -> dict[str, str]:
    recs = evidence.records()
    seconds = sum(r["wall_time_s"] for r in recs)
    return {"n_records": f"{len(recs):,}", "study_hours": f"{seconds / 3600:.2f}",
            "runs_dir": paths.shown(evidence.store)}


def cost_table(evidence: Evidence):
    """``costs.run_costs`` of the store as a table for the page."""
    return report.table(costs.run_costs(evidence.records()), {"chapter": ("chapter", "{}"), "problem": ("problem", wording.readable),
                               "optimizer": ("optimizer", wording.optimizer_name),
                               "epochs asked": ("budget", "{}"), "runs": ("runs", "{:,}"),
                               "training hours": ("hours", "{:.2f}")})


def bench_numbers(bench: dict) -> dict[str, str]:
    m = bench["machine"]
    return {"bench_machine": f"{m['cpu']} ({m['device']})", "bench_threads": str(bench["threads"]),
            "bench_peak": f"{bench['peak_gflops']:.0f}", "bench_when": bench["when"],
            "bench_repeats": str(bench["repeats"])}


def bench_table(bench: dict):
    return report.table(pd.DataFrame(bench["problems"]), {
        "problem": ("problem", wording.readable),
        "steps": ("steps", "{}"),
        "runs at once": ("members", "{}"),
        "engine, examples/s": ("engine_ex_s", "{:,.0f}"),
        "tutorial, examples/s": ("tutorial_ex_s", "{:,.0f}"),
        "speed-up": ("speedup", "{:.1f}x"),
        "GFLOP/s": ("gflops", "{:.1f}"),
        "MFU": ("mfu", "{:.0%}"),
    })


def sweep_table(bench: dict):
    rows = pd.DataFrame(bench["sweeps"])
    rows["sweep"] = [f"{wording.readable(r.problem)}, {r.lrs} lrs x {wording.plural(r.epochs, 'epoch')}"
                     for r in rows.itertuples()]
    return report.table(rows, {
        "sweep": ("sweep", "{}"),
        "engine (s)": ("engine_s", "{:.1f}"),
        "tutorial, once per lr (s)": ("tutorial_s", "{:.1f}"),
        "speed-up": ("speedup", "{:.1f}x"),
        "compute floor (s)": ("floor_s", "{:.1f}"),
        "speed-up at the floor": ("max_speedup", "{:.1f}x"),
    })

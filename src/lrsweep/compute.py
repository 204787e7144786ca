"""The compute appendix: the study's total training time and the committed benchmark."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from . import records


def load_bench(path: str | Path) -> dict:
    with open(path) as fh:
        return json.load(fh)


def study_numbers(results_dir: str | Path) -> dict[str, str]:
    recs = records.load_all(Path(results_dir))
    seconds = sum(r["wall_time_s"] for r in recs)
    return {"n_records": f"{len(recs):,}", "study_hours": f"{seconds / 3600:.2f}"}


def bench_numbers(bench: dict) -> dict[str, str]:
    m = bench["machine"]
    return {"bench_machine": f"{m['cpu']} ({m['device']})", "bench_threads": str(bench["threads"]),
            "bench_peak": f"{bench['peak_gflops']:.0f}", "bench_when": bench["when"],
            "bench_repeats": str(bench["repeats"])}


def bench_table(bench: dict):
    rows = pd.DataFrame(bench["problems"])
    return pd.DataFrame({
        "problem": rows["problem"],
        "steps": rows["steps"],
        "engine (examples/s)": rows["engine_ex_s"].map("{:,.0f}".format),
        "tutorial (examples/s)": rows["tutorial_ex_s"].map("{:,.0f}".format),
        "speed-up": rows["speedup"].map("{:.1f}x".format),
        "GFLOP/s": rows["gflops"].map("{:.1f}".format),
        "MFU": rows["mfu"].map("{:.0%}".format),
    }).style.hide(axis="index")


def sweep_table(bench: dict):
    rows = pd.DataFrame(bench["sweeps"])
    return pd.DataFrame({
        "sweep": [f"{r.problem}, {r.lrs} lrs x {r.epochs} epoch(s)" for r in rows.itertuples()],
        "engine (s)": rows["engine_s"].map("{:.1f}".format),
        "tutorial, once per lr (s)": rows["tutorial_s"].map("{:.1f}".format),
        "speed-up": rows["speedup"].map("{:.1f}x".format),
        "compute floor (s)": rows["floor_s"].map("{:.1f}".format),
        "speed-up at the floor": rows["max_speedup"].map("{:.1f}x".format),
    }).style.hide(axis="index")

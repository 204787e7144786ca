"""The compute appendix: the study's total training time and the committed benchmark."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from . import paths, records, report, study


def load_bench(path: str | Path) -> dict:
    with open(path) as fh:
        return json.load(fh)


def study_numbers(results_dir: str | Path | None = None) -> dict[str, str]:
    recs = records.load_all(paths.runs_dir(results_dir))
    seconds = sum(r["wall_time_s"] for r in recs)
    return {"n_records": f"{len(recs):,}", "study_hours": f"{seconds / 3600:.2f}",
            "runs_dir": paths.shown(paths.runs_dir(results_dir))}


def chapter_of(cfg: dict) -> str:
    """The chapter whose runs a record's config is: the study's grid with the library's
    defaults belongs to its problem's chapter; anything else (other optimizers, settings,
    batch sizes or lrs) to "beyond" (runs the study reused there count once, in the study)."""
    from . import optim, problems
    chapter = next((c for c, ps in study.CHAPTERS.items() if cfg["problem"] in ps), "none")
    spec = optim.OPTIMIZERS.get(cfg["optimizer"])
    in_study = (cfg["optimizer"] in study.OPTIMIZERS and cfg["lr"] in study.grid(cfg["problem"])
                and "schedule" not in cfg and cfg["hparams"] == spec.defaults
                and cfg["batch_size"] == problems.get(cfg["problem"]).batch_size)
    return chapter if in_study else "beyond"


def _cost(results_dir: str | Path | None = None) -> pd.DataFrame:
    """Training hours (summed wall time of the records: runs went in parallel) and runs,
    per chapter, problem and optimizer, with the budget each was trained for."""
    rows = [{"chapter": chapter_of(r["config"]),
             "problem": r["config"]["problem"], "optimizer": r["config"]["optimizer"],
             "budget": r["budget"], "hours": r["wall_time_s"] / 3600}
            for r in records.load_all(paths.runs_dir(results_dir))]
    return (pd.DataFrame(rows, columns=["chapter", "problem", "optimizer", "budget", "hours"])
            .groupby(["chapter", "problem", "optimizer", "budget"], as_index=False)
            .agg(runs=("hours", "size"), hours=("hours", "sum")))


def chapter_hours(chapter: str, results_dir: str | Path | None = None) -> float:
    """Training hours of the runs counted in ``chapter`` (``chapter_of``)."""
    cost = _cost(results_dir)
    return float(cost.loc[cost["chapter"] == chapter, "hours"].sum())


def study_run_hours(results_dir: str | Path | None = None) -> dict[str, float]:
    """Per problem with one, the mean training hours of a run of its study that trained its
    whole budget (a diverged run stops early and would make the mean look cheap); the
    records read once."""
    hours: dict[str, list[float]] = {}
    for r in records.load_all(paths.runs_dir(results_dir)):
        p = r["config"]["problem"]
        if (r["status"] == "ok" and r["budget"] == study.budget(p)
                and chapter_of(r["config"]) != "beyond"):
            hours.setdefault(p, []).append(r["wall_time_s"] / 3600)
    return {p: sum(h) / len(h) for p, h in hours.items()}


def cost_table(results_dir: str | Path | None = None):
    """``_cost`` as a table for the page."""
    return report.table(_cost(results_dir), {"chapter": ("chapter", "{}"), "problem": ("problem", "{}"),
                               "optimizer": ("optimizer", "{}"),
                               "epochs asked": ("budget", "{}"), "runs": ("runs", "{:,}"),
                               "training hours": ("hours", "{:.2f}")})


def bench_numbers(bench: dict) -> dict[str, str]:
    m = bench["machine"]
    return {"bench_machine": f"{m['cpu']} ({m['device']})", "bench_threads": str(bench["threads"]),
            "bench_peak": f"{bench['peak_gflops']:.0f}", "bench_when": bench["when"],
            "bench_repeats": str(bench["repeats"])}


def bench_table(bench: dict):
    return report.table(pd.DataFrame(bench["problems"]), {
        "problem": ("problem", "{}"),
        "steps": ("steps", "{}"),
        "runs at once": ("members", "{}"),
        "engine (examples/s)": ("engine_ex_s", "{:,.0f}"),
        "tutorial (examples/s)": ("tutorial_ex_s", "{:,.0f}"),
        "speed-up": ("speedup", "{:.1f}x"),
        "GFLOP/s": ("gflops", "{:.1f}"),
        "MFU": ("mfu", "{:.0%}"),
    })


def sweep_table(bench: dict):
    rows = pd.DataFrame(bench["sweeps"])
    rows["sweep"] = [f"{r.problem}, {r.lrs} lrs x {r.epochs} epoch(s)" for r in rows.itertuples()]
    return report.table(rows, {
        "sweep": ("sweep", "{}"),
        "engine (s)": ("engine_s", "{:.1f}"),
        "tutorial, once per lr (s)": ("tutorial_s", "{:.1f}"),
        "speed-up": ("speedup", "{:.1f}x"),
        "compute floor (s)": ("floor_s", "{:.1f}"),
        "speed-up at the floor": ("max_speedup", "{:.1f}x"),
    })

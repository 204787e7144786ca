"""A sweep: spec -> run configs -> reuse stored records -> train the missing ones.

Every input is validated before any work starts. Records are written by this driver as
each task finishes, so killing a sweep loses only the runs in flight, and rerunning it
trains exactly what is missing.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
from tqdm import tqdm  # text bars: no widgets needed in a kernel

from ..errors import UsageError
from ..store import datasets, paths, problems, records
from ..store.config import RunConfig
from .spec import SweepSpec, check_options

__all__ = ["SweepSpec", "plan", "run_sweep"]


def plan(specs: list[SweepSpec], results_dir: Path,
         need_predictions: bool = False) -> tuple[list[records.Record], list[RunConfig]]:
    """Stored records that answer the specs, and the configs still to run (each once);
    ``need_predictions``: a run stored without per-example test predictions is retrained."""
    done, todo = [], []
    for cfg in dict.fromkeys(c for spec in specs for c in spec.configs()):
        rec = records.lookup(results_dir, cfg, specs[0].epochs, need_predictions)
        (done.append(rec) if rec is not None else todo.append(cfg))
    return done, todo


def _specs(spec) -> list[SweepSpec]:
    """One spec, or several with one budget: their union is run as one sweep (e.g. a grid
    over Adam's eps, or a different lr range per optimizer)."""
    specs = [spec] if isinstance(spec, SweepSpec) else list(spec)
    if not specs or not all(isinstance(s, SweepSpec) for s in specs):
        raise UsageError(f"expected a SweepSpec or a non-empty list of them, got {spec!r}")
    if len({s.epochs for s in specs}) > 1:
        raise UsageError("the specs of one sweep must share one epoch budget, got "
                         f"{sorted({s.epochs for s in specs})}")
    return specs


def _ready_to_train(todo: list[RunConfig], train_missing: bool, store: Path) -> None:
    """Refuse to train when only reading was asked for; verify (or fetch) the data first."""
    if todo and not train_missing:
        raise UsageError(f"{len(todo)} run(s) of this study are not stored in {store}, e.g. "
                         f"{todo[0].to_dict()}; restore them (git checkout -- {store}) or "
                         "train them on purpose (train_missing=True, or python -m lrsweep sweep)")
    for name in dict.fromkeys(problems.get(c.problem).dataset for c in todo):
        datasets.require(name)


def run_sweep(spec: SweepSpec | list[SweepSpec], results_dir: str | Path | None = None, *,
              executor: str = "auto", workers: int | None = None, scheduler: str | None = None,
              threads: int | None = None, batching: str = "auto",
              train_missing: bool = True, need_predictions: bool = False,
              quiet: bool = False) -> pd.DataFrame:
    """Reuse what is stored, train what is missing, return the spec's tidy table (one row
    per run x epoch, epoch 0 = before training). ``spec`` may be a list of specs with one
    budget: their union is scheduled together. ``results_dir`` defaults to the published runs.

    ``threads`` sets torch's thread count for in-process runs (worker processes and Dask
    workers always use one thread each); numbers are bit-identical only between runs with
    the same thread count. ``batching`` trains runs of one problem and optimizer together
    as batched members: ``auto`` where it pays (small models on a CPU, all on a GPU).
    With ``train_missing=False`` nothing is trained: a run that is not stored is an error
    (the published book reads its records and never retrains them as a side effect).
    ``need_predictions`` retrains the stored runs whose records (schema 2) lack per-example
    test predictions, and replaces them, so their comparisons can be paired."""
    specs, store = _specs(spec), paths.runs_dir(results_dir)
    check_options(executor, batching, workers, threads)
    done, todo = plan(specs, store, need_predictions)
    _ready_to_train(todo, train_missing, store)
    if not todo:
        return _read(done, specs[0].epochs, quiet)  # all stored: no torch, no executors
    from . import checkpoint, executors
    counts = {"cached": len(done), "computed": 0, "diverged": 0, "failed": 0}
    with tqdm(total=len(done) + len(todo), initial=len(done), desc="sweep", unit="run",
              disable=quiet, dynamic_ncols=True, postfix=counts) as bar:
        for recs in executors.stream(todo, specs[0].epochs, executor=executor, workers=workers,
                                     scheduler=scheduler, threads=threads, batching=batching,
                                     progress=not quiet):
            for rec in recs:
                records.write(store, rec)
                checkpoint.remove(RunConfig.from_dict(rec["config"]))  # stored: no longer needed
                done.append(rec)
                counts["computed"] += 1
                if rec["status"] != "ok":
                    counts[rec["status"]] += 1
            bar.update(len(recs))
            bar.set_postfix(counts)
    return _read(done, specs[0].epochs, quiet)


def _read(done: list[records.Record], epochs: int, quiet: bool) -> pd.DataFrame:
    """The sweep's tidy table, saying which runs failed."""
    if (failed := [r for r in done if r["status"] == "failed"]) and not quiet:
        print(f"{len(failed)} run(s) failed, e.g. {failed[0]['config']}: {failed[0]['message']}")
    return records.tidy(done, epochs)

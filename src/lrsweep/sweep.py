"""A sweep: grid spec -> run configs -> reuse stored records -> compute the missing ones.

Every input is validated before any work starts. Records are written by the driver as
each run finishes, so killing a sweep loses only the runs in flight, and rerunning it
computes exactly what is missing.
"""
from __future__ import annotations

import math
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

import pandas as pd
import torch
from tqdm import tqdm  # text bars: no widgets needed in a kernel

from . import batched, data, optim, paths, problems, provenance, records, train
from .config import RunConfig
from .errors import UsageError

EXECUTORS = ("auto", "inprocess", "processes", "dask")


# --------------------------------------------------------------------------- validation

def _list(value, what: str) -> list:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise UsageError(f"{what} must be a list, got {value!r} "
                         "(with papermill, pass lists as YAML: -y '{\"%s\": [...]}')" % what)
    value = list(value)
    if not value:
        raise UsageError(f"{what} is empty; give at least one value")
    return value


def _names(value, what: str, registry: dict) -> tuple[str, ...]:
    for v in _list(value, what):
        if v not in registry:
            raise UsageError(f"unknown {what[:-1]} {v!r}; allowed: {', '.join(registry)}")
    return tuple(dict.fromkeys(value))


def _positive_int(v, what: str, minimum: int) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < minimum:
        raise UsageError(f"{what} must be an integer >= {minimum}, got {v!r}")
    return v


def _lrs(value) -> tuple[float, ...]:
    out = []
    for v in _list(value, "lrs"):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
            raise UsageError(f"every lr must be a finite number > 0, got {v!r}")
        out.append(float(v))
    return tuple(dict.fromkeys(out))


@dataclass(frozen=True)
class SweepSpec:
    """problems x optimizers x lrs x seeds, each trained for ``epochs`` epochs.

    ``settings`` overrides optimizer hyperparameters and the batch size: ``{"beta2": 0.99}``
    applies to every optimizer of the sweep that has a beta2, ``{"adam.beta2": 0.99}`` to
    Adam only, ``{"batch_size": 64}`` to every run."""
    problems: tuple[str, ...]
    optimizers: tuple[str, ...]
    lrs: tuple[float, ...]
    seeds: tuple[int, ...]
    epochs: int
    settings: dict = field(default_factory=dict)

    def __post_init__(self):
        set_ = object.__setattr__
        set_(self, "problems", _names(self.problems, "problems", problems.PROBLEMS))
        set_(self, "optimizers", _names(self.optimizers, "optimizers", optim.OPTIMIZERS))
        set_(self, "lrs", _lrs(self.lrs))
        set_(self, "seeds", tuple(dict.fromkeys(
            _positive_int(s, "every seed", 0) for s in _list(self.seeds, "seeds"))))
        set_(self, "epochs", _positive_int(self.epochs, "epochs", 1))
        if not isinstance(self.settings, dict):
            raise UsageError(f"settings must be a mapping of name to value, got {self.settings!r}")
        _ = self.hparams_for  # resolves every optimizer now, so a bad key fails before any work

    @property
    def batch_size(self) -> int | None:
        bs = self.settings.get("batch_size")
        return None if bs is None else _positive_int(bs, "batch_size", 1)

    @property
    def hparams_for(self) -> dict[str, dict]:
        known = {k for o in self.optimizers for k in optim.get(o).defaults}
        per: dict[str, dict] = {o: {} for o in self.optimizers}
        for key, value in self.settings.items():
            if key == "batch_size":
                continue
            opt_name, _, name = key.rpartition(".")
            if opt_name:
                if opt_name not in per:
                    raise UsageError(f"setting {key!r} names optimizer {opt_name!r}, which is not "
                                     f"in this sweep ({', '.join(self.optimizers)})")
                per[opt_name][name] = value
            elif name not in known:
                raise UsageError(f"unknown setting {key!r}; allowed: batch_size, "
                                 f"{', '.join(sorted(known))} (or OPTIMIZER.NAME)")
            else:
                for o in self.optimizers:
                    if name in optim.get(o).defaults:
                        per[o].setdefault(name, value)
        return {o: optim.get(o).resolve(h) for o, h in per.items()}

    def configs(self) -> list[RunConfig]:
        hp = self.hparams_for
        return [RunConfig(p, o, lr, s, self.batch_size or problems.get(p).batch_size,
                          tuple(sorted(hp[o].items())))
                for p in self.problems for o in self.optimizers for s in self.seeds for lr in self.lrs]


# --------------------------------------------------------------------------- executing

BATCHING = ("auto", "always", "never")


def tasks(todo: list[RunConfig], batching: str, workers: int,
          device: torch.device) -> list[list[RunConfig]]:
    """Units of work: single runs, or groups trained together as batched members where that
    pays (``batching='auto'``). A group is split into one share per worker, and on a GPU
    into shares that fit its memory."""
    singles, groups = [], {}
    for c in todo:
        use = (batching == "always" and batched.supported(c)
               or batching == "auto" and batched.pays(c, device))  # pays() implies supported()
        (groups.setdefault(batched.group_key(c), []) if use else singles).append(c)
    out = [[c] for c in singles]
    for cfgs in groups.values():
        cap = batched.max_members(cfgs[0], device) or len(cfgs)
        n = max(min(workers, len(cfgs)), -(-len(cfgs) // cap))
        out += [cfgs[i::n] for i in range(n)]
    return out


def execute(cfgs: list[RunConfig], epochs: int, threads: int | None = None,
            progress: bool = False) -> list[dict]:
    """Train one task (a run, or batched members) and return complete records (nothing is
    written here)."""
    if threads:
        torch.set_num_threads(threads)
    device = train.default_device()
    if len(cfgs) == 1:
        results = [train.train_run(cfgs[0], epochs, progress=progress, device=device)]
    else:
        results = batched.train_group(cfgs, epochs, device=device)
    prov = {**provenance.collect(device), "members": len(cfgs)}
    return [records.make(c, r, budget=epochs, engine=train.ENGINE, provenance=prov)
            for c, r in zip(cfgs, results)]


def _inprocess(work, epochs, threads, progress) -> Iterator[list[dict]]:
    for cfgs in work:
        yield execute(cfgs, epochs, threads, progress)


def _processes(work, epochs, workers) -> Iterator[list[dict]]:
    # spawn: a forked child would inherit the parent's OpenMP thread pool in a bad state
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=ctx) as pool:
        futures = [pool.submit(execute, cfgs, epochs, 1) for cfgs in work]
        try:
            for fut in as_completed(futures):
                yield fut.result()
        finally:
            for fut in futures:
                fut.cancel()


def _dask_client(scheduler: str):
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise UsageError("the dask executor needs dask[distributed] (pip install 'dask[distributed]')") from None
    if scheduler == "local":
        return Client(LocalCluster(n_workers=os.cpu_count(), threads_per_worker=1,
                                   dashboard_address=None))
    try:
        return Client(scheduler, timeout=10)
    except OSError as e:
        raise UsageError(f"cannot reach dask scheduler {scheduler}: {e}") from None


def _dask(client, work, epochs, owns_cluster: bool) -> Iterator[list[dict]]:
    from dask.distributed import as_completed as dask_completed
    try:
        futures = [client.submit(execute, cfgs, epochs, 1, pure=False) for cfgs in work]
        for _, recs in dask_completed(futures, with_results=True):
            yield recs
    finally:
        client.close()
        if owns_cluster:
            client.cluster.close()


# Starting a worker process (interpreter, torch, data) costs a few seconds; below this much
# training compute a sweep finishes as soon in the driver process. Measured on 2 cores:
# MLP 4 lrs x 1 epoch (1.6e12 FLOP) 19-22 s either way; 3 epochs 56 s in-process, 44 s in 2 workers.
PROCESS_MIN_FLOP = 3e12
TRAIN_EXAMPLES = 50_000  # per epoch, roughly, for every problem here


def _worth_processes(todo: list[RunConfig], epochs: int, device: torch.device) -> bool:
    if device.type == "cuda" or len(todo) < 2 or (os.cpu_count() or 1) < 2:
        return False
    flop = sum(problems.train_flops(problems.get(c.problem)) * TRAIN_EXAMPLES * epochs for c in todo)
    return flop >= PROCESS_MIN_FLOP


def plan(specs: list[SweepSpec], results_dir: Path) -> tuple[list[dict], list[RunConfig]]:
    """Stored records that answer the specs, and the configs still to run (each once)."""
    done, todo = [], []
    for cfg in dict.fromkeys(c for spec in specs for c in spec.configs()):
        rec = records.lookup(results_dir, cfg, specs[0].epochs)
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


def run_sweep(spec: SweepSpec | list[SweepSpec], results_dir: str | Path | None = None, *,
              executor: str = "auto",
              workers: int | None = None, scheduler: str | None = None,
              threads: int | None = None, batching: str = "auto",
              train_missing: bool = True, quiet: bool = False) -> pd.DataFrame:
    """Reuse what is stored, compute what is missing, return the spec's tidy table
    (one row per run x epoch, epoch 0 = before training). ``spec`` may be a list of specs
    with one budget: their union is scheduled together.

    ``threads`` sets torch's thread count for in-process runs (worker processes and Dask
    workers always use one thread each); numbers are bit-identical only between runs with
    the same thread count. ``batching`` trains runs of one problem and optimizer together
    as batched members: ``auto`` where it pays (small models on a CPU, all on a GPU).
    With ``train_missing=False`` nothing is trained: a run that is not stored is an error
    (the published book reads its records and never retrains them as a side effect)."""
    specs, results_dir = _specs(spec), paths.runs_dir(results_dir)
    epochs = specs[0].epochs
    if executor not in EXECUTORS:
        raise UsageError(f"unknown executor {executor!r}; allowed: {', '.join(EXECUTORS)}")
    if batching not in BATCHING:
        raise UsageError(f"unknown batching {batching!r}; allowed: {', '.join(BATCHING)}")
    if scheduler is not None:
        executor = "dask"
    if executor == "dask" and scheduler is None:
        scheduler = "local"
    for value, what in ((workers, "workers"), (threads, "threads")):
        if value is not None:
            _positive_int(value, what, 1)
    done, todo = plan(specs, results_dir)
    if todo and not train_missing:
        raise UsageError(f"{len(todo)} run(s) of this study are not stored in {results_dir}, e.g. "
                         f"{todo[0].to_dict()}; restore them (git checkout -- {results_dir}) or "
                         "train them on purpose (train_missing=True, or python -m lrsweep sweep)")
    if todo:  # verify (or fetch) data before any training starts
        for name in dict.fromkeys(problems.get(c.problem).dataset for c in todo):
            data.require(name)
    device = train.default_device()
    if executor == "auto":
        executor = "processes" if _worth_processes(todo, epochs, device) else "inprocess"
    client = _dask_client(scheduler) if executor == "dask" and todo else None
    # one process fills a GPU with big batched groups; a CPU wants one worker per core, a
    # cluster one share of each batched group per worker thread
    if executor == "inprocess":
        workers = 1
    elif client is not None:
        workers = workers or sum(client.nthreads().values()) or 1
    else:
        workers = workers or os.cpu_count() or 1
    work = tasks(todo, batching, workers, device)
    workers = min(workers, max(len(work), 1))
    if executor == "inprocess" or not todo:
        stream = _inprocess(work, epochs, threads, progress=not quiet)
    elif executor == "processes":
        stream = _processes(work, epochs, workers)
    else:
        stream = _dask(client, work, epochs, owns_cluster=scheduler == "local")
    counts = {"cached": len(done), "computed": 0, "diverged": 0, "failed": 0}
    bar = tqdm(total=len(done) + len(todo), initial=len(done), desc="sweep", unit="run",
               disable=quiet, dynamic_ncols=True)
    with bar:
        bar.set_postfix(counts)
        for recs in stream:
            for rec in recs:
                records.write(results_dir, rec)
                done.append(rec)
                counts["computed"] += 1
                if rec["status"] in ("diverged", "failed"):
                    counts[rec["status"]] += 1
            bar.update(len(recs))
            bar.set_postfix(counts)
    failed = [r for r in done if r["status"] == "failed"]
    if failed and not quiet:
        print(f"{len(failed)} run(s) failed, e.g. {failed[0]['config']}: {failed[0]['message']}")
    return records.tidy(done, epochs)

"""Where runs train: in this process, in local worker processes, or on Dask workers.

``stream`` turns the configs a sweep still needs into complete records, one task at a time
as each finishes; it writes nothing (the sweep's driver does, so a killed sweep loses only
the runs in flight). A task is one run, or several runs trained together as batched members.
"""
from __future__ import annotations

import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Iterator

import torch

from ..errors import UsageError
from ..store import records
from ..store.config import RunConfig
from . import batched, problems, provenance, train

DASK_CONNECT_TIMEOUT_S = 10


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
            progress: bool = False) -> list[records.Record]:
    """Train one task (a run, or batched members) and return complete records (nothing is
    written here)."""
    if threads:
        torch.set_num_threads(threads)
    device = train.default_device()
    if len(cfgs) == 1:
        results = [train.train_run(cfgs[0], epochs, progress=progress, device=device, checkpoints=True)]
    else:
        results = batched.train_group(cfgs, epochs, device=device)
    prov = {**provenance.collect(device), "members": len(cfgs)}
    return [records.make(c, r, budget=epochs, engine={**train.ENGINE, "lr_schedule": c.schedule},
                         provenance=prov)
            for c, r in zip(cfgs, results)]


def _inprocess(work, epochs, threads, progress) -> Iterator[list[records.Record]]:
    for cfgs in work:
        yield execute(cfgs, epochs, threads, progress)


ORPHAN_CHECK_S = 1.0


def _end_with_driver(driver: int) -> None:
    """Worker initializer: end this worker as soon as the driver that started it is gone.
    Only the driver writes records, so a worker left training after a kill -9 (or a
    restarted notebook kernel) would spend the cores on a run nobody can store. An orphan
    is re-parented, which ``getppid`` shows; a watcher thread looks every second."""
    def watch():
        while os.getppid() == driver:
            time.sleep(ORPHAN_CHECK_S)
        os._exit(1)
    threading.Thread(target=watch, daemon=True, name="end-with-driver").start()


def _processes(work, epochs, workers, task=execute) -> Iterator[list[records.Record]]:
    """``task`` per unit of work in worker processes. If one raises, the queued ones are
    cancelled but those already training finish and are yielded (to be stored) before the
    error is raised: one bad run does not throw away the others' hours."""
    # spawn: a forked child would inherit the parent's OpenMP thread pool in a bad state
    ctx = multiprocessing.get_context("spawn")
    error = None
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_end_with_driver,
                             initargs=(os.getpid(),)) as pool:
        futures = [pool.submit(task, cfgs, epochs, 1) for cfgs in work]
        try:
            for fut in as_completed(futures):
                if fut.cancelled():
                    continue
                if (failed := fut.exception()) is None:
                    yield fut.result()
                elif error is None:
                    error = failed
                    for other in futures:
                        other.cancel()  # only those not started yet
        finally:
            for fut in futures:
                fut.cancel()
    if error is not None:
        raise error


def _dask_client(scheduler: str):
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise UsageError("the dask executor needs dask[distributed] (pip install 'dask[distributed]')") from None
    if scheduler == "local":
        return Client(LocalCluster(n_workers=os.cpu_count(), threads_per_worker=1,
                                   dashboard_address=None))
    try:
        return Client(scheduler, timeout=DASK_CONNECT_TIMEOUT_S)
    except OSError as e:
        raise UsageError(f"cannot reach dask scheduler {scheduler}: {e}") from None


def _dask(client, work, epochs, owns_cluster: bool) -> Iterator[list[records.Record]]:
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


def stream(todo: list[RunConfig], epochs: int, *, executor: str = "auto",
           workers: int | None = None, scheduler: str | None = None,
           threads: int | None = None, batching: str = "auto",
           progress: bool = True) -> Iterator[list[records.Record]]:
    """Train ``todo`` for ``epochs`` epochs and yield each task's records as it finishes.
    ``auto`` picks worker processes when the work outweighs their start-up, else this
    process; a ``scheduler`` means Dask ('local' starts a LocalCluster)."""
    if scheduler is not None or executor == "dask":
        executor, scheduler = "dask", scheduler or "local"
    device = train.default_device()
    if executor == "auto":
        executor = "processes" if _worth_processes(todo, epochs, device) else "inprocess"
    if not todo:
        return
    client = _dask_client(scheduler) if executor == "dask" else None
    # one process fills a GPU with big batched groups; a CPU wants one worker per core, a
    # cluster one share of each batched group per worker thread
    if executor == "inprocess":
        workers = 1
    elif client is not None:
        workers = workers or sum(client.nthreads().values()) or 1
    else:
        workers = workers or os.cpu_count() or 1
    work = tasks(todo, batching, workers, device)
    if executor == "inprocess":
        yield from _inprocess(work, epochs, threads, progress)
    elif executor == "processes":
        yield from _processes(work, epochs, min(workers, len(work)))
    else:
        yield from _dask(client, work, epochs, owns_cluster=scheduler == "local")

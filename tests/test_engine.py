"""Crash safety, concurrent writers and executors: all must give the same records."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from lrsweep.engine import executors
from lrsweep.store import records
from lrsweep.engine.sweep import SweepSpec, run_sweep

LRS = ["1e-4", "3e-4", "1e-3", "3e-3", "1e-2", "3e-2"]
ARGS = ["--problem", "mnist_logreg", "--optimizer", "adam", "--lr", *LRS, "--epochs", "2",
        "--executor", "inprocess", "--threads", "1", "--batching", "never", "--quiet"]


def sweep_cli(results, *extra):
    return subprocess.Popen([sys.executable, "-m", "lrsweep", "sweep", *ARGS, *extra,
                             "--results", str(results)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def curves(root):
    return {r["run_id"]: (r["status"], r["curves"]) for r in records.load_all(root)}


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    root = tmp_path_factory.mktemp("clean")
    assert sweep_cli(root).wait(timeout=600) == 0
    return curves(root)


@pytest.mark.slow
def test_kill_9_mid_sweep_then_rerun_equals_clean_sweep(tmp_path, clean):
    proc = sweep_cli(tmp_path)
    deadline = time.time() + 300
    while len(list(tmp_path.glob("*/*.json"))) < 2 and time.time() < deadline:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    partial = curves(tmp_path)
    assert 2 <= len(partial) < len(LRS)
    for f in tmp_path.glob("*/*.json"):  # what is there is whole
        json.loads(f.read_text())
    assert sweep_cli(tmp_path).wait(timeout=600) == 0
    assert curves(tmp_path) == clean
    assert len(list(tmp_path.glob("*/*.json"))) == len(LRS)


@pytest.mark.slow
def test_two_sweeps_into_one_directory(tmp_path, clean):
    a, b = sweep_cli(tmp_path), sweep_cli(tmp_path)
    assert a.wait(timeout=600) == 0 and b.wait(timeout=600) == 0, a.stderr.read() + b.stderr.read()
    assert curves(tmp_path) == clean
    assert len(list(tmp_path.glob("*/*.json"))) == len(LRS)


def test_missing_dataset_is_refused_before_work(tmp_path):
    env = {**os.environ, "LRSWEEP_DATA": str(tmp_path / "empty"),
           "LRSWEEP_MIRROR": str(tmp_path / "nowhere")}
    r = subprocess.run([sys.executable, "-m", "lrsweep", "sweep", "--problem", "cifar10_3c3d",
                        "--optimizer", "adam", "--lr", "1e-3", "--epochs", "1", "--results",
                        str(tmp_path / "runs")], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "cifar10_jpeg: not found locally" in r.stderr
    assert not (tmp_path / "runs").exists()


@pytest.mark.slow
def test_dask_local_cluster_equals_in_process(tmp_path):
    """Executors move runs, never change them. (Batched groups are split per worker, so
    here every run is trained alone; batched vs alone is tested in test_batched.)"""
    spec = SweepSpec(["mnist_logreg"], ["adam", "sgd_momentum"], [1e-3, 1e-1], [0], 1)
    one = dict(batching="never", quiet=True)
    local = run_sweep(spec, tmp_path / "a", executor="inprocess", threads=1, **one)
    dask = run_sweep(spec, tmp_path / "b", scheduler="local", **one)
    assert curves(tmp_path / "a") == curves(tmp_path / "b")
    assert local.equals(dask)
    procs = run_sweep(spec, tmp_path / "c", executor="processes", workers=2, **one)
    assert curves(tmp_path / "c") == curves(tmp_path / "a") and procs.equals(local)


def _bad_or_slow(cfgs, epochs, threads):
    """A stand-in task for worker processes: "bad" fails at once, the others finish later."""
    if cfgs == ["bad"]:
        raise RuntimeError("bad run")
    time.sleep(3)
    return cfgs


def test_a_failing_worker_keeps_the_runs_already_training():
    # the crash this guards against: one worker's error threw away the other's run in flight
    got = []
    with pytest.raises(RuntimeError, match="bad run"):
        for recs in executors._processes([["bad"], ["slow"]], 1, 2, task=_bad_or_slow):
            got.append(recs)
    assert got == [["slow"]]


DRIVER = """
import os, sys, time
from lrsweep.engine import executors

def slow(cfgs, epochs, threads):
    print(os.getpid(), flush=True)
    time.sleep(300)

if __name__ == "__main__":
    for _ in executors._processes([["a"], ["b"]], 1, 2, task=slow):
        pass
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has ended
    except FileNotFoundError:
        return False


def test_workers_end_when_their_driver_is_killed(tmp_path):
    """Only the driver writes records: a worker outliving it would train for nothing."""
    script = tmp_path / "driver.py"
    script.write_text(DRIVER)
    driver = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        workers = [int(driver.stdout.readline()) for _ in range(2)]
        assert all(map(_alive, workers))
        driver.kill()
        driver.wait()
        deadline = time.monotonic() + 10 * executors.ORPHAN_CHECK_S + 5
        while any(map(_alive, workers)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(map(_alive, workers)), "workers went on training without their driver"
    finally:
        driver.kill()


def test_batched_groups_split_per_worker_and_record_members(tmp_path):
    from lrsweep.engine import batched, sweep, train
    spec = SweepSpec(["mnist_logreg", "mnist_mlp"], ["adam", "prodigy"], [1e-3, 1e-2, 1e-1], [0, 1], 1)
    cpu = train.default_device()
    work = executors.tasks(spec.configs(), "auto", 2, cpu)
    sizes = sorted(len(w) for w in work)
    # logreg + adam: 6 runs batched in 2 shares; everything else one run per task
    assert sizes == [1] * 18 + [3, 3]
    assert all(batched.group_key(w[0]) == batched.group_key(c) for w in work for c in w)
    assert sorted(len(w) for w in executors.tasks(spec.configs(), "never", 2, cpu)) == [1] * 24
    assert max(len(w) for w in executors.tasks(spec.configs(), "always", 1, cpu)) == 6
    table = run_sweep(SweepSpec(["mnist_logreg"], ["adam"], [1e-3, 1e-1], [0], 1), tmp_path,
                      executor="inprocess", workers=1, quiet=True)
    assert {r["provenance"]["members"] for r in records.load_all(tmp_path)} == {2}
    assert (table.status == "ok").all()


@pytest.mark.slow
def test_dask_splits_batched_groups_per_cluster_thread(tmp_path):
    spec = SweepSpec(["mnist_logreg"], ["adam"], [1e-3, 1e-2, 1e-1, 1.0], [0], 1)
    run_sweep(spec, tmp_path, scheduler="local", batching="always", quiet=True)
    recs = records.load_all(tmp_path)
    # a LocalCluster has one single-threaded worker per core: one share of the group each
    import os
    shares = min(os.cpu_count(), 4)
    sizes = [len(range(i, 4, shares)) for i in range(shares)]
    assert sorted(r["provenance"]["members"] for r in recs) == sorted(n for n in sizes for _ in range(n))

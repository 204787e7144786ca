"""``python -m lrsweep bench``: how close the engine gets to this machine's limit, and how
much faster it is than the tutorial loop (``lrsweep.bench.baseline_loop``), as ratios from one run."""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from ..store import paths
from ..engine import batched, data, problems, provenance, train
from ..engine.sweep import SweepSpec
from . import baseline_loop

PROBLEMS = ["mnist_logreg", "mnist_mlp", "fmnist_2c2d", "cifar10_3c3d"]
DEFAULT_OUT = paths.ROOT / "data" / "bench" / "bench.json"
QUICK_OUT = paths.ROOT / "scratch" / "bench-quick.json"   # never replaces the published one
REPEATS = 3   # throughput samples per loop and problem; the best one is reported


def _sync(device: torch.device) -> None:
    """Wait for queued GPU work, so the clock measures it."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def matmul_peak(n: int = 2048, repeats: int = 20, device: torch.device | None = None) -> float:
    """Best fp32 GFLOP/s of an n x n matmul on ``device`` (all threads on a CPU), with the
    precision training uses (no TF32)."""
    device = device or train.default_device()
    train.setup_process()
    a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
    a @ b
    _sync(device)
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        a @ b
        _sync(device)
        best = min(best, time.perf_counter() - t)
    return 2 * n ** 3 / best / 1e9


def engine_throughput(name: str, steps: int, members: int = 1,
                      device: torch.device | None = None) -> float:
    """Training examples/s of the engine on ``device``, data in memory there: one run
    (``train_run``), or ``members`` lrs trained together (``train_group``, as the engine
    does on a GPU), counting every member's examples."""
    device = device or train.default_device()
    problem = problems.get(name)
    cfgs = SweepSpec([name], ["adam"], [1e-3 * 0.9 ** i for i in range(members)], [0], 1).configs()
    full = train.device_splits(problem.dataset, str(device))

    def seconds(cut) -> float:  # training and its (tiny) evaluation, whole group
        if members == 1:
            return train.train_run(cfgs[0], 1, device=device, splits=cut).wall_time_s
        return sum(r.wall_time_s for r in batched.train_group(cfgs, 1, device, splits=cut))
    bs = problem.batch_size
    seconds(full.head(3 * bs, bs))  # warm-up: allocator, kernels
    return members * steps * bs / seconds(full.head(steps * bs, bs))


def tutorial_throughput(name: str, steps: int, device: torch.device | None = None) -> float:
    """Training examples/s of the tutorial loop. It runs in this process, after the engine
    has tuned the allocator (``lrsweep.engine.allocator``), so it gets that speed-up too: the ratio
    understates the engine's lead. The whole-sweep timings run the tutorial as it ships."""
    device = device or train.default_device()
    problem = problems.get(name)
    splits = data.load(problem.dataset)
    model = problem.build(torch.Generator().manual_seed(0)).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    baseline_loop.train_epoch(model, opt, problem, baseline_loop.loader(problem, splits.train, True, 3))
    _sync(device)
    start = time.perf_counter()
    n = baseline_loop.train_epoch(model, opt, problem, baseline_loop.loader(problem, splits.train, True, steps))
    _sync(device)
    return n / (time.perf_counter() - start)


def best_of(measure, repeats: int) -> tuple[float, list[float]]:
    """Highest of ``repeats`` throughput samples, and all of them. On a shared, noisy machine
    the best sample is the closest to what the code can do; both loops get the same rule."""
    samples = [measure() for _ in range(repeats)]
    return max(samples), samples


def _timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, cwd=paths.ROOT)
    return time.perf_counter() - start


def floor_seconds(name: str, runs: int, epochs: int, peak_gflops: float) -> float:
    """Seconds of a sweep's training FLOPs at the matmul peak, every run for the whole budget,
    no evaluation, no start-up. Only stopping diverged runs early trains faster, so tutorial
    time / floor is about the largest speed-up any loop could show on this machine."""
    problem = problems.get(name)
    bs = problem.batch_size
    examples = len(data.load(problem.dataset).train[1]) // bs * bs  # full batches per epoch
    return runs * epochs * examples * problems.train_flops(problem) / (peak_gflops * 1e9)


def sweep_times(name: str, lrs: list[float], epochs: int, peak_gflops: float) -> dict:
    """Whole-process wall time: one engine sweep vs the tutorial run once per lr."""
    floor = floor_seconds(name, len(lrs), epochs, peak_gflops)
    with tempfile.TemporaryDirectory() as tmp:
        engine = _timed([sys.executable, "-m", "lrsweep", "sweep", "--problem", name, "--optimizer",
                         "adam", "--lr", *map(str, lrs), "--epochs", str(epochs), "--results", tmp,
                         "--quiet"])
    tut = sum(_timed([sys.executable, "-m", "lrsweep.bench.baseline_loop", "--problem", name, "--lr", str(lr),
                      "--epochs", str(epochs)]) for lr in lrs)
    return {"problem": name, "lrs": len(lrs), "epochs": epochs, "engine_s": engine,
            "tutorial_s": tut, "speedup": tut / engine, "floor_s": floor,
            "max_speedup": tut / floor}


def steps_for(problem: problems.Problem, quick: bool) -> int:
    """About 5 s of training at 100 GFLOP/s (0.5 s when quick), within 20 steps .. an epoch."""
    flop = (5e10 if quick else 5e11) / (problems.train_flops(problem) * problem.batch_size)
    return int(min(390, max(20, flop)))


GPU_MEMBERS = 64   # lrs trained at once when benchmarking a GPU (fewer if memory says so)


def run(quick: bool = False, names: list[str] | None = None, sweeps: bool = True) -> dict:
    device = train.default_device()
    peak = matmul_peak(1024 if quick else 2048, device=device)
    repeats = 1 if quick else REPEATS
    rows = []
    for name in names or PROBLEMS:
        p = problems.get(name)
        steps = steps_for(p, quick)
        [cfg] = SweepSpec([name], ["adam"], [1e-3], [0], 1).configs()
        members = min(GPU_MEMBERS, batched.max_members(cfg, device)) if device.type == "cuda" else 1
        eng, eng_samples = best_of(lambda: engine_throughput(name, steps, members, device), repeats)
        tut, tut_samples = best_of(lambda: tutorial_throughput(name, steps, device), repeats)
        gflops = eng * problems.train_flops(p) / 1e9
        rows.append({"problem": name, "steps": steps, "members": members,
                     "engine_ex_s": eng, "tutorial_ex_s": tut,
                     "speedup": eng / tut, "gflops": gflops, "mfu": gflops / peak,
                     "train_flops_per_example": problems.train_flops(p),
                     "engine_samples": eng_samples, "tutorial_samples": tut_samples})
    sweep_rows = []
    if sweeps:
        lr8 = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1]
        plan = [("mnist_logreg", lr8[:2], 1)] if quick else \
            [("mnist_logreg", lr8, 2), ("mnist_mlp", [1e-4, 1e-3, 1e-2, 1e-1], 1)]
        sweep_rows = [sweep_times(*args, peak_gflops=peak) for args in plan]
    return {"quick": quick, "repeats": repeats, "peak_gflops": peak, "threads": torch.get_num_threads(),
            "machine": {k: v for k, v in provenance.collect(device).items() if k != "git"},
            "git": provenance.git_state(), "problems": rows, "sweeps": sweep_rows,
            "when": time.strftime("%Y-%m-%d %H:%M:%S %Z")}


def table(result: dict) -> str:
    lines = [f"machine: {result['machine']['cpu']} ({result['machine']['device']}), "
             f"{result['threads']} threads; fp32 matmul peak {result['peak_gflops']:.1f} GFLOP/s; "
             f"throughput: best of {result['repeats']}",
             f"{'problem':14} {'steps':>5} {'runs':>4} {'engine ex/s':>12} {'tutorial ex/s':>14} "
             f"{'ratio':>7} {'GFLOP/s':>8} {'MFU':>6}"]
    for r in result["problems"]:
        lines.append(f"{r['problem']:14} {r['steps']:5} {r['members']:4} {r['engine_ex_s']:12,.0f} "
                     f"{r['tutorial_ex_s']:14,.0f} {r['speedup']:6.1f}x {r['gflops']:8.1f} {r['mfu']:6.1%}")
    for s in result["sweeps"]:
        lines.append(f"sweep {s['problem']} {s['lrs']} lrs x {s['epochs']} epoch(s): engine "
                     f"{s['engine_s']:.1f} s, tutorial once per lr {s['tutorial_s']:.1f} s "
                     f"-> {s['speedup']:.1f}x (at most {s['max_speedup']:.1f}x: training alone "
                     f"needs {s['floor_s']:.1f} s at peak)")
    return "\n".join(lines)


def main(quick: bool, out: str | None) -> int:
    result = run(quick=quick)
    print(table(result))
    path = Path(out) if out else QUICK_OUT if quick else DEFAULT_OUT
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1) + "\n")
    print(f"written to {path}")
    return 0

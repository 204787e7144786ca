"""Training one run: in-memory tensors, randperm batches, per-epoch evaluation, divergence stop.

Common random numbers: the seed alone fixes the initialisation and, per epoch, the batch
order and augmentation, so every lr (and optimizer) sees the same data in the same order.
"""
from __future__ import annotations

import functools
import hashlib
import time

import torch
import torch.nn.functional as F
from tqdm import tqdm  # text bars: no widgets needed in a kernel

from . import allocator, data, optim, problems
from .config import RunConfig

EVAL_BATCH = 2000
# A run has diverged once a minibatch loss is non-finite or this many times its initial loss.
DIVERGENCE_FACTOR = 100.0
DIVERGENCE_CHECK_EVERY = 50   # steps between host syncs for the divergence check
METRICS = ("train_loss", "train_acc", "valid_loss", "valid_acc", "test_loss", "test_acc")


def epoch_seed(seed: int, epoch: int) -> int:
    """Independent stream per (seed, epoch), so an epoch's batches do not depend on the budget."""
    return int.from_bytes(hashlib.blake2b(f"{seed}:{epoch}".encode(), digest_size=8).digest(), "big") >> 1


def setup_process() -> None:
    """Before training, in every process that trains: keep freed memory for reuse, and
    compute in full fp32 on every device. CUDA would run convolutions in TF32 (a 10-bit
    mantissa) by default, and records from a GPU must be comparable with CPU ones under the
    same run id."""
    allocator.keep_freed_memory()
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False


def default_device() -> torch.device:
    """The GPU when there is one (data and model live there), else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


@functools.lru_cache(maxsize=4)
def device_splits(dataset: str, device: str) -> data.Splits:
    """The dataset on the training device, moved once per process."""
    return data.load(dataset).to(torch.device(device))


def train_eval_subset(splits: data.Splits) -> tuple[torch.Tensor, torch.Tensor]:
    """Evenly strided training subset, as large as the validation set, for the train metrics."""
    x, y = splits.train
    step = max(1, len(y) // len(splits.valid[1]))
    return x[::step][: len(splits.valid[1])], y[::step][: len(splits.valid[1])]


def memory_format(model: torch.nn.Module) -> torch.memory_format:
    """channels_last for conv nets: CPU max-pooling (a quarter of a 3c3d step in NCHW) is
    far faster on it. Measured A/B, training examples/s with 2 threads: cifar10_3c3d
    1,050 -> 1,380, fmnist_2c2d 1,650 -> 1,800."""
    convs = any(isinstance(m, torch.nn.Conv2d) for m in model.modules())
    return torch.channels_last if convs else torch.contiguous_format


@torch.no_grad()
def evaluate(model, problem, x, y) -> tuple[float, float]:
    """Mean cross-entropy (without the L2 term) and accuracy."""
    loss_sum = torch.zeros((), device=y.device)
    correct = torch.zeros((), dtype=torch.long, device=y.device)
    layout = memory_format(model)
    for i in range(0, len(y), EVAL_BATCH):
        logits = model(problem.prepare(x[i:i + EVAL_BATCH]).contiguous(memory_format=layout))
        yb = y[i:i + EVAL_BATCH]
        loss_sum += F.cross_entropy(logits, yb, reduction="sum")
        correct += (logits.argmax(1) == yb).sum()
    return loss_sum.item() / len(y), correct.item() / len(y)


def new_result() -> dict:
    return {"status": "ok", "diverged_epoch": None, "message": None,
            "curves": {"epoch": [], **{m: [] for m in METRICS}}}


def diverged(result: dict, epoch: int, worst: float, limit: float) -> None:
    result.update(status="diverged", diverged_epoch=epoch,
                  message=f"minibatch loss {worst:.4g} > {limit:.4g} or non-finite")


def finish(result: dict, start: float, splits: data.Splits, members: int = 1) -> dict:
    """Epochs trained, wall time (shared equally by batched members) and data provenance."""
    result["epochs"] = result["curves"]["epoch"][-1] if result["curves"]["epoch"] else 0
    result["wall_time_s"] = (time.perf_counter() - start) / members
    result["data"] = splits.provenance
    return result


def train_run(cfg: RunConfig, epochs: int, *, progress: bool = False,
              device: torch.device | None = None, splits: data.Splits | None = None) -> dict:
    """Train ``cfg`` for ``epochs`` epochs. Returns status, per-epoch curves and wall time;
    an exception inside training becomes ``status='failed'`` rather than ending a sweep.
    ``splits`` replaces the problem's dataset (benchmarks train on a cut)."""
    setup_process()
    problem = problems.get(cfg.problem)
    splits = splits or device_splits(problem.dataset, str(device or default_device()))
    start = time.perf_counter()  # training and evaluation only: loading is once per process
    result = new_result()
    try:
        _train(cfg, epochs, problem, splits, result, progress)
    except Exception as e:  # noqa: BLE001 - recorded, the sweep goes on
        result.update(status="failed", message=f"{type(e).__name__}: {e}")
    return finish(result, start, splits)


def _train(cfg, epochs, problem, splits, result, progress):
    x, y = splits.train
    curves = result["curves"]
    model = problem.build(torch.Generator().manual_seed(cfg.seed)).to(x.device)
    layout = memory_format(model)
    model = model.to(memory_format=layout)
    opt = optim.build(cfg.optimizer, model.parameters(), cfg.lr, dict(cfg.hparams))
    switch = optim.get(cfg.optimizer).train_eval_switch
    evals = {"train": train_eval_subset(splits), "valid": splits.valid, "test": splits.test}

    def record(epoch):
        model.eval()
        if switch:
            opt.eval()
        curves["epoch"].append(epoch)
        for name, (ex, ey) in evals.items():
            loss, acc = evaluate(model, problem, ex, ey)
            curves[f"{name}_loss"].append(loss)
            curves[f"{name}_acc"].append(acc)
        model.train()
        if switch:
            opt.train()

    record(0)
    limit = DIVERGENCE_FACTOR * curves["train_loss"][0]
    steps = len(y) // cfg.batch_size  # the last partial batch is dropped, as in DeepOBS
    for epoch in tqdm(range(1, epochs + 1), desc=f"{cfg.optimizer} lr={cfg.lr:.3g}",
                      leave=False, disable=not progress):
        g = torch.Generator().manual_seed(epoch_seed(cfg.seed, epoch))
        perm = torch.randperm(len(y), generator=g).to(x.device)
        worst = torch.zeros((), device=x.device)
        for i in range(steps):
            idx = perm[i * cfg.batch_size:(i + 1) * cfg.batch_size]
            logits = model(problem.prepare(x[idx], g).contiguous(memory_format=layout))
            loss = F.cross_entropy(logits, y[idx])
            opt.zero_grad(set_to_none=True)
            (loss + problem.regularizer(model)).backward()
            opt.step()
            worst = torch.maximum(worst, loss.detach())  # NaN propagates
            if (i + 1) % DIVERGENCE_CHECK_EVERY == 0 or i == steps - 1:
                if not worst.item() <= limit:
                    return diverged(result, epoch, worst.item(), limit)
        record(epoch)

"""Training one run: in-memory tensors, randperm batches, per-epoch evaluation, divergence stop.

Common random numbers: the seed alone fixes the initialisation and, per epoch, the batch
order and augmentation, so every lr (and optimizer) sees the same data in the same order.
The training loop (``training_steps``) is shared with the LR range test; the batch order,
the evaluation and the divergence rule with batched training (``batched``), which trains
several runs of one problem at once.
"""
from __future__ import annotations

import functools
import hashlib
import time

import torch
import torch.nn.functional as F
from tqdm import tqdm  # text bars: no widgets needed in a kernel

from ..store import optim
from ..store.config import CONSTANT, DIVERGENCE_CHECK_EVERY, DIVERGENCE_FACTOR, ENGINE_VERSION, RunConfig
from ..store.records import Outcome
from . import allocator, checkpoint, data, optimizers, problems

EVAL_BATCH = 2000
# What the engine fixes for every run; each record states it (records.Record.engine).
ENGINE = {"version": ENGINE_VERSION, "lr_schedule": CONSTANT,  # per run: its config's schedule
          "divergence": {"factor": DIVERGENCE_FACTOR, "check_every_steps": DIVERGENCE_CHECK_EVERY,
                         "rule": "a minibatch loss is non-finite or above factor x the "
                                 "initial training loss; the run stops there"}}


def epoch_seed(seed: int, epoch: int) -> int:
    """Independent stream per (seed, epoch), so an epoch's batches do not depend on the budget."""
    return int.from_bytes(hashlib.blake2b(f"{seed}:{epoch}".encode(), digest_size=8).digest(), "big") >> 1


def batch_order(seed: int, epoch: int, n: int, device: torch.device) -> tuple[torch.Generator, torch.Tensor]:
    """The epoch's generator (it also drives augmentation) and its permutation of the
    training set, drawn on the CPU so every device sees the same batches."""
    g = torch.Generator().manual_seed(epoch_seed(seed, epoch))
    return g, torch.randperm(n, generator=g).to(device)


def seeded_batches(problem, train: tuple[torch.Tensor, torch.Tensor], seeds, batch_size: int, epochs):
    """The batches of the one training loop: per epoch of ``epochs`` (an iterable of epoch
    numbers) each seed's batch order, and per step the prepared batch of every seed that
    ``seeds()`` still asks for (it is asked at every step: batched members drop out as they
    diverge). Yields ``(epoch, step, steps, {seed: (x, y)})``; the last partial batch is
    dropped, as in DeepOBS."""
    x, y = train
    steps = len(y) // batch_size
    for epoch in epochs:
        orders = {s: batch_order(s, epoch, len(y), x.device) for s in dict.fromkeys(seeds())}
        for i in range(steps):
            batch = {}
            for s in dict.fromkeys(seeds()):
                g, perm = orders[s]
                idx = perm[i * batch_size:(i + 1) * batch_size]
                batch[s] = problem.prepare(x[idx], g), y[idx]
            yield epoch, i, steps, batch


def training_steps(model, opt, problem, train: tuple[torch.Tensor, torch.Tensor], seed: int, batch_size: int,
                   layout: torch.memory_format, epochs, lr_at=None):
    """The one training loop for one model: on each of ``seeded_batches``, the loss plus
    the problem's regularizer, backward and the optimizer's step, the lr set first by
    ``lr_at(epoch, step, steps)`` where given (a schedule, the range test's ramp). Yields
    ``(epoch, step, steps, loss)`` after every step: the caller stops it (divergence, the
    range test's rule) and evaluates at an epoch's end. Batched members (``batched``) take
    their steps over the same ``seeded_batches``."""
    for epoch, i, steps, batch in seeded_batches(problem, train, lambda: (seed,), batch_size, epochs):
        if lr_at is not None:
            for group in opt.param_groups:
                group["lr"] = lr_at(epoch, i, steps)
        xb, yb = batch[seed]
        loss = F.cross_entropy(model(xb.contiguous(memory_format=layout)), yb)
        opt.zero_grad(set_to_none=True)
        (loss + problem.regularizer(model)).backward()
        opt.step()
        yield epoch, i, steps, loss


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


def eval_sets(splits: data.Splits) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    return {"train": train_eval_subset(splits), "valid": splits.valid, "test": splits.test}


def memory_format(model: torch.nn.Module) -> torch.memory_format:
    """channels_last for conv nets: CPU max-pooling (a quarter of a 3c3d step in NCHW) is
    far faster on it. Measured A/B, training examples/s with 2 threads: cifar10_3c3d
    1,050 -> 1,380, fmnist_2c2d 1,650 -> 1,800."""
    convs = any(isinstance(m, torch.nn.Conv2d) for m in model.modules())
    return torch.channels_last if convs else torch.contiguous_format


@torch.no_grad()
def evaluate(forward, problem, sets: dict, members: int) -> list[dict[str, float]]:
    """Mean cross-entropy (without the L2 term) and accuracy of each member on each split,
    and ``test_correct``: whether each test example was classified correctly (a numpy bool
    array), which records keep for paired comparisons. ``forward(x)`` gives logits of shape
    (members, batch, classes)."""
    out = [{} for _ in range(members)]
    for name, (x, y) in sets.items():
        device = y.device
        loss = [torch.zeros((), device=device) for _ in range(members)]
        hits = []  # (members, batch) per evaluation batch
        for i in range(0, len(y), EVAL_BATCH):
            logits, yb = forward(problem.prepare(x[i:i + EVAL_BATCH])), y[i:i + EVAL_BATCH]
            for j in range(members):
                loss[j] += F.cross_entropy(logits[j], yb, reduction="sum")
            hits.append(logits.argmax(-1) == yb)
        hit = torch.cat(hits, dim=1).cpu()
        # divide in Python so every path prints the same numbers
        for j, (lsum, c) in enumerate(zip(loss, hit.sum(-1).tolist())):
            out[j][f"{name}_loss"], out[j][f"{name}_acc"] = lsum.item() / len(y), c / len(y)
            if name == "test":
                out[j]["test_correct"] = hit[j].numpy()
    return out


class DivergenceWatch:
    """The divergence rule (``ENGINE['divergence']``) for one run or a stack of members:
    the worst minibatch loss of the epoch so far, compared with the limit every
    ``DIVERGENCE_CHECK_EVERY`` steps (each comparison syncs with the device)."""

    def __init__(self, initial_train_losses: list[float], device: torch.device):
        self.limit = DIVERGENCE_FACTOR * torch.tensor(initial_train_losses, device=device)
        self.worst = torch.zeros_like(self.limit)

    def new_epoch(self) -> None:
        self.worst = torch.zeros_like(self.limit)

    def see(self, losses: torch.Tensor, step: int, steps: int) -> list[int]:
        """Record this step's losses; on a checking step, the members over the limit."""
        self.worst = torch.maximum(self.worst, losses.detach().reshape(self.worst.shape))  # NaN propagates
        if (step + 1) % DIVERGENCE_CHECK_EVERY and step != steps - 1:
            return []
        return (~(self.worst <= self.limit)).nonzero().flatten().tolist()

    def why(self, j: int) -> str:
        return f"minibatch loss {self.worst[j].item():.4g} > {self.limit[j].item():.4g} or non-finite"

    def keep(self, mask: torch.Tensor) -> None:
        self.limit, self.worst = self.limit[mask], self.worst[mask]


def train_run(cfg: RunConfig, epochs: int, *, progress: bool = False,
              device: torch.device | None = None, splits: data.Splits | None = None,
              checkpoints: bool = False) -> Outcome:
    """Train ``cfg`` for ``epochs`` epochs. Returns status, per-epoch curves and wall time;
    an exception inside training becomes ``status='failed'`` rather than ending a sweep.
    ``splits`` replaces the problem's dataset (benchmarks train on a cut). ``checkpoints``:
    save the state after every epoch and resume from a saved one (``checkpoint``)."""
    setup_process()
    problem = problems.get(cfg.problem)
    splits = splits or device_splits(problem.dataset, str(device or default_device()))
    start = time.perf_counter()  # training and evaluation only: loading is once per process
    outcome = Outcome(data=splits.provenance)
    try:
        _train(cfg, epochs, problem, splits, outcome, progress, checkpoints)
    except Exception as e:  # noqa: BLE001 - recorded, the sweep goes on
        outcome.fail(e)
    outcome.wall_time_s += time.perf_counter() - start
    return outcome


def _train(cfg, epochs, problem, splits, outcome, progress, checkpoints=False):
    started = time.perf_counter()
    x, y = splits.train
    model = problem.build(torch.Generator().manual_seed(cfg.seed)).to(x.device)
    layout = memory_format(model)
    model = model.to(memory_format=layout)
    opt = optimizers.build(cfg.optimizer, model.parameters(), cfg.lr, dict(cfg.hparams))
    saved = checkpoint.load(cfg, splits.provenance, epochs) if checkpoints else None
    switch = optim.get(cfg.optimizer).train_eval_switch
    sets = eval_sets(splits)

    def record(epoch):
        model.eval()
        if switch:
            opt.eval()
        [metrics] = evaluate(lambda xb: model(xb.contiguous(memory_format=layout))[None],
                             problem, sets, members=1)
        outcome.log(epoch, metrics)
        model.train()
        if switch:
            opt.train()

    if saved is None:
        record(0)
        first = 1
    else:  # the run as it stood after its last saved epoch; the next epochs follow exactly
        model.load_state_dict(saved["model"])
        opt.load_state_dict(saved["optimizer"])
        outcome.curves, outcome.test_correct = saved["curves"], saved["test_correct"]
        outcome.wall_time_s = saved["wall_time_s"]
        outcome.resumed_at.append(saved["epoch"])
        first = saved["epoch"] + 1
    watch = DivergenceWatch(outcome.curves["train_loss"][:1], x.device)
    schedule = None if cfg.schedule == CONSTANT else (
        lambda epoch, i, steps: cfg.lr * cfg.lr_factor((epoch - 1) * steps + i, steps))
    epochs_left = tqdm(range(first, epochs + 1), desc=f"{cfg.optimizer} lr={cfg.lr:.3g}", leave=False,
                       disable=not progress)
    for epoch, i, steps, loss in training_steps(model, opt, problem, (x, y), cfg.seed, cfg.batch_size,
                                                layout, epochs_left, schedule):
        if i == 0:
            watch.new_epoch()
        if watch.see(loss, i, steps):
            outcome.diverge(epoch, watch.why(0))
            return
        if i < steps - 1:
            continue
        record(epoch)
        if checkpoints:
            checkpoint.save(cfg, {"epoch": epoch, "model": model.state_dict(),
                                  "optimizer": opt.state_dict(), "curves": outcome.curves,
                                  "test_correct": outcome.test_correct, "data": splits.provenance,
                                  "wall_time_s": outcome.wall_time_s + time.perf_counter() - started})

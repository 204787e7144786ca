"""Training several runs of one problem at once: batched members.

Members share problem, optimizer, hyperparameters and batch size, and differ in lr and
seed. Their parameters are stacked (``torch.func.stack_module_state``) and one
``vmap(grad(...))`` call computes every member's gradient; the optimizers below are
functional re-implementations of ``torch.optim``'s single-tensor Adam, AdamW and SGD with
a per-member learning rate (the built-in ones take one lr per parameter group). A member
that diverges is dropped from the stack; the others go on. Each member sees exactly the
batches and augmentation of its seed, as in ``train.train_run``; the numbers agree with
one-at-a-time training to floating-point reduction order (tested).
"""
from __future__ import annotations

import copy
import math
import time

import torch
import torch.nn.functional as F
from torch.func import functional_call, grad, stack_module_state, vmap

from . import data, problems
from ..store.config import CONSTANT, RunConfig
from ..store.records import Outcome
from .train import (DivergenceWatch, default_device, device_splits, eval_sets, evaluate,
                    seeded_batches, setup_process)

OPTIMIZERS = ("adam", "adamw", "sgd", "sgd_momentum")
# On a CPU only overhead-bound models gain (measured: ~6x for logistic regression, none
# for the MLP or 2c2d, which are compute-bound); on a GPU batching is what fills the device.
CPU_MAX_TRAIN_FLOPS = 1_000_000


def supported(cfg: RunConfig) -> bool:
    """Per-member lrs are constant here; scheduled runs train one at a time."""
    return cfg.optimizer in OPTIMIZERS and cfg.schedule == CONSTANT


def pays(cfg: RunConfig, device: torch.device) -> bool:
    """Whether batching this run with others of its group is worth it on ``device``."""
    if not supported(cfg):
        return False
    return device.type == "cuda" or problems.train_flops(problems.get(cfg.problem)) <= CPU_MAX_TRAIN_FLOPS


def max_members(cfg: RunConfig, device: torch.device, free_bytes: int | None = None) -> int | None:
    """How many members fit on a GPU at once (None: no limit, on a CPU). Per member: the
    parameters with gradient and two optimizer states, and a batch of activations kept for
    backward plus their gradients; half the free memory is left as headroom."""
    if device.type != "cuda":
        return None
    if free_bytes is None:
        free_bytes, _ = torch.cuda.mem_get_info(device)
    p = problems.get(cfg.problem)
    per_member = 4 * (4 * problems.n_params(p) + 2 * cfg.batch_size * problems.activation_elements(p))
    return max(1, int(0.5 * free_bytes // per_member))


def group_key(cfg: RunConfig) -> tuple:
    return (cfg.problem, cfg.optimizer, cfg.hparams, cfg.batch_size)


def _per_member(v: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    return v.view(-1, *([1] * (like.dim() - 1)))


class FunctionalOptimizer:
    """Per-member-lr versions of torch.optim's single-tensor updates, on stacked tensors."""

    def __init__(self, name: str, params: dict, lrs: torch.Tensor, hp: dict):
        self.name, self.lrs, self.hp, self.t = name, lrs, hp, 0
        self.state = {k: {} for k in params}

    def keep(self, mask: torch.Tensor) -> None:
        self.lrs = self.lrs[mask]
        self.state = {k: {s: v[mask] for s, v in st.items()} for k, st in self.state.items()}

    @torch.no_grad()
    def step(self, params: dict, grads: dict) -> None:
        self.t += 1
        for k, p in params.items():
            self._update(p, grads[k], self.state[k], _per_member(self.lrs, p))

    def _update(self, p, g, st, lr):
        hp = self.hp
        if self.name in ("adam", "adamw"):
            b1, b2, eps, wd = hp["beta1"], hp["beta2"], hp["eps"], hp["weight_decay"]
            if wd and self.name == "adamw":
                p.mul_(1 - lr * wd)
            elif wd:
                g = g.add(p, alpha=wd)
            if not st:
                st["m"], st["v"] = torch.zeros_like(p), torch.zeros_like(p)
            st["m"].lerp_(g, 1 - b1)
            st["v"].mul_(b2).addcmul_(g, g, value=1 - b2)
            denom = (st["v"].sqrt() / math.sqrt(1 - b2 ** self.t)).add_(eps)
            p.sub_(lr / (1 - b1 ** self.t) * st["m"] / denom)
        else:
            wd, mom = hp["weight_decay"], hp.get("momentum", 0.0)
            if wd:
                g = g.add(p, alpha=wd)
            if mom:
                if "buf" not in st:
                    st["buf"] = g.clone()
                else:
                    st["buf"].mul_(mom).add_(g)
                g = g.add(st["buf"], alpha=mom) if hp.get("nesterov") else st["buf"]
            p.sub_(lr * g)


def train_group(cfgs: list[RunConfig], epochs: int, device: torch.device | None = None,
                splits: data.Splits | None = None) -> list[Outcome]:
    """Train ``cfgs`` (one group: see ``group_key``) together; one outcome per config, in
    order. ``splits`` replaces the problem's dataset (benchmarks train on a cut)."""
    keys = {group_key(c) for c in cfgs}
    if len(keys) != 1 or not all(supported(c) for c in cfgs):
        raise ValueError(f"not one batchable group: {sorted(keys)}")
    setup_process()
    device = device or default_device()
    problem = problems.get(cfgs[0].problem)
    splits = splits or device_splits(problem.dataset, str(device))
    start = time.perf_counter()
    outcomes = [Outcome(data=splits.provenance) for _ in cfgs]
    try:
        _train(cfgs, epochs, problem, splits, outcomes)
    except Exception as e:  # noqa: BLE001 - recorded, the sweep goes on
        for o in outcomes:
            if o.status == "ok":
                o.fail(e)
    for o in outcomes:  # members share the wall time equally
        o.wall_time_s = (time.perf_counter() - start) / len(cfgs)
    return outcomes


def _train(cfgs, epochs, problem, splits, outcomes):
    x, y = splits.train
    models = [problem.build(torch.Generator().manual_seed(c.seed)).to(x.device) for c in cfgs]
    params, buffers = stack_module_state(models)
    params = {k: v.detach() for k, v in params.items()}  # torch.func.grad needs no autograd leaves
    base = copy.deepcopy(models[0]).to("meta")
    opt = FunctionalOptimizer(cfgs[0].optimizer, params,
                              torch.tensor([c.lr for c in cfgs], device=x.device), dict(cfgs[0].hparams))
    active = list(range(len(cfgs)))           # outcome index of each stacked member
    seeds = [c.seed for c in cfgs]
    sets = eval_sets(splits)

    def loss_fn(p, b, xb, yb):
        ce = F.cross_entropy(functional_call(base, (p, b), (xb,)), yb)
        return ce + problem.regularizer(p), ce

    grad_fn = vmap(grad(loss_fn, has_aux=True), in_dims=(0, 0, 0, 0))
    forward = vmap(lambda p, b, xb: functional_call(base, (p, b), (xb,)), in_dims=(0, 0, None))

    def record(epoch):
        metrics = evaluate(lambda xb: forward(params, buffers, xb), problem, sets, len(active))
        for r, m in zip(active, metrics):
            outcomes[r].log(epoch, m)

    record(0)
    watch = DivergenceWatch([outcomes[r].curves["train_loss"][0] for r in active], x.device)
    # every seed's batch, drawn (and augmented) exactly as in one-at-a-time training
    for epoch, i, steps, batch in seeded_batches(problem, (x, y), lambda: [seeds[r] for r in active],
                                                 cfgs[0].batch_size, range(1, epochs + 1)):
        if i == 0:
            watch.new_epoch()
        xb = torch.stack([batch[seeds[r]][0] for r in active])
        yb = torch.stack([batch[seeds[r]][1] for r in active])
        grads, ce = grad_fn(params, buffers, xb, yb)
        opt.step(params, grads)
        if bad := watch.see(ce, i, steps):
            for j in bad:
                outcomes[active[j]].diverge(epoch, watch.why(j))
            keep = torch.ones(len(active), dtype=torch.bool, device=x.device)
            keep[bad] = False
            active = [r for r, k in zip(active, keep.tolist()) if k]
            if not active:
                return
            params = {k: v[keep] for k, v in params.items()}
            buffers = {k: v[keep] for k, v in buffers.items()}
            opt.keep(keep)
            watch.keep(keep)
        if i == steps - 1:
            record(epoch)

"""The learning-rate range test (Smith 2017): one short run whose lr grows exponentially,
minibatch by minibatch, from ``START`` to ``END``; the training loss against the lr; and an
lr picked from that curve by a rule fixed here (``pick``). Built on the engine: the same
model, initialisation, batch order, optimizer and training loop (``train.training_steps``)
as a run of the study with that seed; the test is a schedule (the ramp) and a stop rule.

The result is a small JSON file (no pickle) per problem, optimizer and seed, with the
curve, the pick and the provenance; the picked lr is then trained like any other.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from ..store import paths

START, END, STEPS = 1e-7, 10.0, 300
SMOOTHING = 0.98          # exponential moving average of the loss, bias-corrected
STOP_FACTOR = 4.0         # the ramp stops once the smoothed loss exceeds 4x its minimum
PICK_FRACTION = 0.1       # the pick: a tenth of the lr at the smoothed loss's minimum


def lr_at(step: int, steps: int = STEPS, start: float = START, end: float = END) -> float:
    return start * (end / start) ** (step / max(1, steps - 1))


def smoothed(losses: list[float]) -> np.ndarray:
    out, avg = [], 0.0
    for i, loss in enumerate(losses, start=1):
        avg = SMOOTHING * avg + (1 - SMOOTHING) * loss
        out.append(avg / (1 - SMOOTHING ** i))
    return np.array(out)


def pick(lrs: list[float], losses: list[float]) -> float:
    """The rule, fixed before any range test was read: ``PICK_FRACTION`` times the lr at
    which the smoothed training loss is lowest (the loss has stopped falling a decade
    before the minimum, so a tenth of it is still on the descent)."""
    s = smoothed(losses)
    return float(PICK_FRACTION * lrs[int(np.nanargmin(s))])


def run(problem: str, optimizer: str, seed: int = 0, steps: int = STEPS, splits=None) -> dict:
    """One range test: the lr and minibatch training loss at every step (stopping early
    once the loss blows up) and the picked lr."""
    import itertools

    import torch

    from ..store import optim
    from . import optimizers, problems, provenance, train
    train.setup_process()
    prob = problems.get(problem)
    splits = splits or train.device_splits(prob.dataset, "cpu")
    x, y = splits.train
    model = prob.build(torch.Generator().manual_seed(seed))
    layout = train.memory_format(model)
    model = model.to(memory_format=layout)
    spec = optim.get(optimizer)
    opt = optimizers.build(optimizer, model.parameters(), START, dict(spec.defaults))
    lrs, losses = [], []
    # the engine's training loop, its lr on the ramp (step k of the test: epochs run on)
    ramp = lambda epoch, i, per_epoch: lr_at((epoch - 1) * per_epoch + i, steps)  # noqa: E731
    for epoch, i, per_epoch, loss in train.training_steps(model, opt, prob, (x, y), seed, prob.batch_size, layout,
                                                          itertools.count(1), ramp):
        lrs.append(ramp(epoch, i, per_epoch))
        losses.append(loss.item())
        s = smoothed(losses)  # the stop rule: the ramp's end, a non-finite loss, or a blow-up
        if len(lrs) == steps or not math.isfinite(losses[-1]) or s[-1] > STOP_FACTOR * np.nanmin(s):
            break
    finite = [(lr, loss) for lr, loss in zip(lrs, losses) if math.isfinite(loss)]
    return {"problem": problem, "optimizer": optimizer, "seed": seed,
            "rule": {"start": START, "end": END, "steps": steps, "smoothing": SMOOTHING,
                     "stop_factor": STOP_FACTOR, "pick_fraction": PICK_FRACTION},
            "lrs": lrs, "losses": losses, "picked_lr": pick(*zip(*finite)),
            "epochs": len(lrs) / (len(y) // prob.batch_size),
            "provenance": provenance.collect(torch.device("cpu"))}


def path_for(directory: str | Path, problem: str, optimizer: str, seed: int) -> Path:
    """Where a range test is stored: one JSON per problem, optimizer and seed."""
    return Path(directory) / problem / f"{optimizer}-seed{seed}.json"


def stored(problem: str, optimizer: str, seed: int, directory: str | Path,
           train_missing: bool = True, steps: int = STEPS) -> dict:
    """The range test from ``directory`` (``path_for``), run and written first if it is
    not there (an error instead, unless ``train_missing``)."""
    path = path_for(directory, problem, optimizer, seed)
    if path.is_file():
        return json.loads(path.read_text())
    if not train_missing:
        from ..errors import UsageError
        raise UsageError(f"range test {path} is not stored; restore it (git checkout -- {path}) "
                         "or run it on purpose (train_missing=True)")
    result = run(problem, optimizer, seed, steps)
    with paths.atomic_file(path) as fh:
        json.dump(result, fh, indent=1)
    return result

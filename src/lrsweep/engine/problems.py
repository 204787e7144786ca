"""Test problems as the engine trains them: the networks (with DeepOBS's initialisation),
the loss terms and the train-time augmentation, for the problems whose facts (dataset,
network, batch size, L2, augmentation) ``store.problems`` states."""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn

from ..store import datasets
from ..store import problems as store_problems
from . import augment

Builder = Callable[[torch.Generator], nn.Module]


@dataclass(frozen=True)
class Problem:
    name: str
    dataset: str
    build: Builder                      # the network, initialised from the generator
    description: str
    batch_size: int = 128
    l2: float = 0.0                     # DeepOBS L2: l2 * sum(w**2) / 2 over weights, not biases
    augment: Callable | None = None     # (x, generator) -> x, training batches only
    standardize: bool = False           # per-image standardisation of every batch

    def prepare(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Batch as the network sees it: augmented (if a generator is given) and standardised."""
        if generator is not None and self.augment is not None:
            x = self.augment(x, generator)
        return augment.per_image_standardize(x) if self.standardize else x

    def regularizer(self, params: nn.Module | dict[str, torch.Tensor]) -> torch.Tensor | float:
        """The L2 term of a network, or of its parameters by name (one batched member)."""
        if not self.l2:
            return 0.0
        named = params.named_parameters() if isinstance(params, nn.Module) else params.items()
        return self.l2 * 0.5 * sum((p ** 2).sum() for n, p in named if n.endswith("weight"))


# --------------------------------------------------------------------------- initialisation

def _init(model: nn.Module, g: torch.Generator, weight: str, std: float = 0.0, bias: float = 0.0):
    """DeepOBS initialisers: 'zeros', 'truncnorm' (TF truncated normal: cut at 2 std), 'xavier'."""
    for m in model.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            with torch.no_grad():
                if weight == "zeros":
                    m.weight.zero_()
                elif weight == "truncnorm":
                    nn.init.trunc_normal_(m.weight, 0.0, std, -2 * std, 2 * std, generator=g)
                else:
                    nn.init.xavier_uniform_(m.weight, generator=g)
                m.bias.fill_(bias)
    return model


def _logreg(g):
    return _init(nn.Sequential(nn.Flatten(), nn.Linear(784, 10)), g, "zeros")


def _mlp(g):
    layers, sizes = [nn.Flatten()], [784, 1000, 500, 100, 10]
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        layers += [nn.Linear(a, b)] + ([nn.ReLU()] if i < len(sizes) - 2 else [])
    return _init(nn.Sequential(*layers), g, "truncnorm", std=0.03)


def _2c2d(g):
    net = nn.Sequential(
        nn.Conv2d(1, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2, 2),    # 28 -> 14
        nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2, 2),   # 14 -> 7
        nn.Flatten(), nn.Linear(7 * 7 * 64, 1024), nn.ReLU(), nn.Linear(1024, 10))
    return _init(net, g, "truncnorm", std=0.05, bias=0.05)


def _3c3d(g):
    # TF 'same' max-pooling with window 3, stride 2 equals PyTorch ceil_mode=True here.
    pool = lambda: nn.MaxPool2d(3, 2, ceil_mode=True)  # noqa: E731
    net = nn.Sequential(
        nn.Conv2d(3, 64, 5), nn.ReLU(), pool(),                 # 32 -> 28 -> 14
        nn.Conv2d(64, 96, 3), nn.ReLU(), pool(),                # 14 -> 12 -> 6
        nn.Conv2d(96, 128, 3, padding=1), nn.ReLU(), pool(),    # 6 -> 6 -> 3
        nn.Flatten(), nn.Linear(3 * 3 * 128, 512), nn.ReLU(),
        nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10))
    return _init(net, g, "xavier")


# The networks by kind; which problem uses which, and every other fact, is in the store.
BUILDERS: dict[str, Builder] = {"logreg": _logreg, "mlp": _mlp, "2c2d": _2c2d, "3c3d": _3c3d}
AUGMENTATIONS = {True: augment.cifar_augment, False: None}

PROBLEMS: dict[str, Problem] = {
    s.name: Problem(s.name, s.dataset, BUILDERS[s.network], s.description, s.batch_size, s.l2,
                    AUGMENTATIONS[s.augmented], s.standardize)
    for s in store_problems.PROBLEMS.values()}


def get(name: str) -> Problem:
    return PROBLEMS[store_problems.get(name).name]  # the store's error for an unknown name


def input_shape(problem: Problem) -> tuple[int, int, int]:
    return datasets.get(problem.dataset).image_shape


@functools.lru_cache(maxsize=None)
def _forward_profile(problem: Problem) -> tuple[int, int]:
    """(FLOPs, activation elements) of one example's forward pass: multiply-adds x 2 of the
    Linear and Conv2d layers, and the outputs of every layer."""
    model, flops, acts = problem.build(torch.Generator().manual_seed(0)), 0, 0

    def count(m, inp, out):
        nonlocal flops, acts
        if isinstance(m, nn.Linear):
            flops += 2 * m.in_features * m.out_features
        elif isinstance(m, nn.Conv2d):
            flops += 2 * math.prod(m.kernel_size) * m.in_channels * out[0].numel()
        acts += out[0].numel()
    leaves = [m for m in model.modules() if not list(m.children())]
    hooks = [m.register_forward_hook(count) for m in leaves]
    with torch.no_grad():
        model(torch.zeros(1, *input_shape(problem)))
    for h in hooks:
        h.remove()
    return flops, acts


def forward_flops(problem: Problem) -> int:
    return _forward_profile(problem)[0]


def activation_elements(problem: Problem) -> int:
    """Layer outputs of one example's forward pass (what backward keeps in memory)."""
    return _forward_profile(problem)[1]


def train_flops(problem: Problem) -> int:
    """Forward + backward is about three forward passes (the usual 6N-per-token rule)."""
    return 3 * forward_flops(problem)


def n_params(problem: Problem) -> int:
    return sum(p.numel() for p in problem.build(torch.Generator().manual_seed(0)).parameters())

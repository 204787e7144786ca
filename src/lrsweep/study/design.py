"""Space-filling designs over an optimizer's hyperparameters: scrambled Sobol points
(``scipy.stats.qmc``) in a box, log-scaled where the hyperparameter spans decades. Each
point becomes a one-run ``SweepSpec``, so a design is trained, stored and resumed like any
sweep (``run_sweep`` takes the list)."""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import ClassVar, Mapping

from scipy.stats import qmc

from ..errors import UsageError
from ..store import optim
from ..engine.spec import SweepSpec, integer_at_least
from .progress import Progress, counted

# Per optimizer: name -> (scale, low, high). "log": log-uniform; "linear": uniform;
# "complement-log": 1 - x is log-uniform (beta2 near 1); "power-of-2": an integer 2**k.
SPACES: dict[str, dict[str, tuple[str, float, float]]] = {
    "adam": {"lr": ("log", 1e-5, 1e-1), "beta1": ("linear", 0.0, 0.99),
             "beta2": ("complement-log", 1e-4, 1e-1),  # beta2 from 0.9 to 0.9999
             "eps": ("log", 1e-10, 1e-4),               # Keras' 1e-7 and PyTorch's 1e-8 inside
             "batch_size": ("power-of-2", 32, 1024)},
    "sgd_momentum": {"lr": ("log", 1e-4, 3.16), "momentum": ("linear", 0.0, 0.99),
                     "batch_size": ("power-of-2", 32, 1024)},
}


def _value(scale: str, low: float, high: float, u: float) -> float | int:
    if scale == "linear":
        return low + u * (high - low)
    if scale == "power-of-2":
        k_lo, k_hi = math.log2(low), math.log2(high)
        return int(2 ** min(k_hi, math.floor(k_lo + u * (k_hi - k_lo + 1))))
    x = 10 ** (math.log10(low) + u * (math.log10(high) - math.log10(low)))
    return 1 - x if scale == "complement-log" else x


def points(optimizer: str, n: int, seed: int = 0) -> list[dict]:
    """``n`` Sobol points (a power of 2 keeps the sequence balanced) of ``optimizer``'s
    space, as {hyperparameter: value}, values rounded to 4 significant digits (as the
    records will show them)."""
    if optimizer not in SPACES:
        raise UsageError(f"no design space for {optimizer!r}; allowed: {', '.join(SPACES)}")
    n = integer_at_least(n, "n", 2)
    if n & (n - 1):
        raise UsageError(f"n must be a power of 2 for a balanced Sobol design, got {n}")
    space = SPACES[optimizer]
    unit = qmc.Sobol(d=len(space), scramble=True, seed=seed).random(n)
    out = []
    for row in unit:
        p = {name: _value(*box, u) for (name, box), u in zip(space.items(), row)}
        out.append({k: v if isinstance(v, int) else float(f"{v:.4g}") for k, v in p.items()})
    return out


def specs(problem: str, optimizer: str, n: int, epochs: int, *, seed: int = 0,
          run_seed: int = 0) -> list[SweepSpec]:
    """The design as one-run specs (``run_seed`` fixes initialisation and batch order of
    every run; ``seed`` scrambles the Sobol sequence)."""
    optim.get(optimizer)
    return [SweepSpec([problem], [optimizer], [p.pop("lr")], [run_seed], epochs, settings=p)
            for p in points(optimizer, n, seed)]


BOOTSTRAP = 50  # resamples of the runs behind each importance interval


@dataclass(frozen=True)
class SobolDesigns:
    """``points``: (problem, optimizer) -> (points, epochs), each a design over the
    optimizer's space (``SPACES``); ``seed`` scrambles every Sobol sequence; ``bootstrap``:
    the resamples behind the importance intervals of its runs (``importance``)."""
    points: Mapping[tuple[str, str], tuple[int, int]]
    seed: int = 0
    bootstrap: int = BOOTSTRAP

    name: ClassVar[str] = "design"
    about: ClassVar[str] = ("the Sobol designs over each optimizer's hyperparameters (lr, betas, eps or "
                            "momentum, batch size) on some problems (lrsweep.study.design.PUBLISHED)")

    def on(self, problems_: list[str] | None) -> "SobolDesigns":
        """The designs on ``problems_`` only (None: all)."""
        return self if problems_ is None else replace(
            self, points={k: v for k, v in self.points.items() if k[0] in problems_})

    def check(self, problem: str) -> dict[str, tuple[int, int]]:
        """Per optimizer, the points and epochs of the designs on ``problem``; a clear error if none."""
        mine = {o: v for (p, o), v in self.points.items() if p == problem}
        if not mine:
            raise UsageError(f"no design on {problem!r}; published: "
                             f"{', '.join(sorted({p for p, _ in self.points}))} (or give --n and --epochs)")
        return mine

    def specs_of(self, problem: str, optimizer: str) -> list[SweepSpec]:
        n, epochs = self.points[(problem, optimizer)]
        return specs(problem, optimizer, n, epochs, seed=self.seed)

    def progress_of(self, problem: str, optimizer: str, results_dir=None) -> Progress:
        return counted(self.specs_of(problem, optimizer), results_dir)

    def run_of(self, problem: str, optimizer: str, results_dir=None, *, train_missing: bool = True,
               **sweep_options):
        """One design's tidy table (missing runs trained unless ``train_missing`` is False)."""
        from ..engine.sweep import run_sweep
        return run_sweep(self.specs_of(problem, optimizer), results_dir, train_missing=train_missing,
                         **sweep_options)

    def progress(self, problem: str, results_dir=None) -> Progress:
        """The runs of every design on ``problem`` stored; trains nothing."""
        each = [self.progress_of(problem, o, results_dir) for o in self.check(problem)]
        return Progress(sum(p.done for p in each), sum(p.planned for p in each))

    def run(self, problem: str, results_dir=None, *, train_missing: bool = True, **sweep_options):
        """Every design on ``problem`` (each optimizer's, one sweep each: budgets may differ)."""
        import pandas as pd
        return pd.concat([self.run_of(problem, o, results_dir, train_missing=train_missing, **sweep_options)
                          for o in self.check(problem)], ignore_index=True)


# The designs the book reads. The budget is a quarter of the study's on fmnist_mlp and a
# fifth on fmnist_2c2d (on both the tuned lr is the same after the short budget as after the
# full one; the chapter shows it), which makes 128 points for Adam on the MLP affordable on
# one core, and 32 on the conv net (whose runs cost about five times as much).
PUBLISHED = SobolDesigns(MappingProxyType({
    ("fmnist_mlp", "adam"): (128, 5),
    ("fmnist_mlp", "sgd_momentum"): (64, 5),
    ("fmnist_2c2d", "adam"): (32, 2),
    ("fmnist_2c2d", "sgd_momentum"): (16, 2),
}))


def describe(optimizer: str) -> str:
    """The design space in words, e.g. "lr from 1e-05 to 0.1 (log-uniform), ..."."""
    def one(name, scale, low, high):
        if scale == "complement-log":
            return f"1 - {name} from {low:g} to {high:g} (log-uniform)"
        kind = {"log": "log-uniform", "linear": "uniform", "power-of-2": "a power of 2"}[scale]
        return f"{name.replace('_', ' ')} from {low:g} to {high:g} ({kind})"
    return ", ".join(one(k, *box) for k, box in SPACES[optimizer].items())

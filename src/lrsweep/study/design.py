"""Space-filling designs over an optimizer's hyperparameters: scrambled Sobol points
(``scipy.stats.qmc``) in a box, log-scaled where the hyperparameter spans decades. Each
point becomes a one-run ``SweepSpec``, so a design is trained, stored and resumed like any
sweep (``run_sweep`` takes the list)."""
from __future__ import annotations

import math

from scipy.stats import qmc

from ..errors import UsageError
from ..store import optim
from ..engine.spec import SweepSpec, integer_at_least

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


# The designs the book reads: (problem, optimizer) -> (points, epochs). The budget is a
# quarter of the study's on fmnist_mlp and a fifth on fmnist_2c2d (on both the tuned lr is
# the same after the short budget as after the full one; the chapter shows it), which makes
# 128 points for Adam on the MLP affordable on one core, and 32 on the conv net (whose runs
# cost about five times as much).
PUBLISHED: dict[tuple[str, str], tuple[int, int]] = {
    ("fmnist_mlp", "adam"): (128, 5),
    ("fmnist_mlp", "sgd_momentum"): (64, 5),
    ("fmnist_2c2d", "adam"): (32, 2),
    ("fmnist_2c2d", "sgd_momentum"): (16, 2),
}


def progress(problem: str, optimizer: str, n: int, epochs: int, results_dir=None) -> tuple[int, int]:
    """How many of the design's runs the store holds, of how many; trains nothing."""
    from ..store.paths import runs_dir
    from ..engine.sweep import plan
    done, todo = plan(specs(problem, optimizer, n, epochs), runs_dir(results_dir))
    return len(done), len(done) + len(todo)


def run(problem: str, optimizer: str, n: int, epochs: int, results_dir=None, *,
        train_missing: bool = True, **sweep_options):
    """The design's tidy table (missing runs trained unless ``train_missing`` is False)."""
    from ..engine.sweep import run_sweep
    return run_sweep(specs(problem, optimizer, n, epochs), results_dir,
                     train_missing=train_missing, **sweep_options)


def describe(optimizer: str) -> str:
    """The design space in words, e.g. "lr from 1e-05 to 0.1 (log-uniform), ..."."""
    def one(name, scale, low, high):
        if scale == "complement-log":
            return f"1 - {name} from {low:g} to {high:g} (log-uniform)"
        kind = {"log": "log-uniform", "linear": "uniform", "power-of-2": "a power of 2"}[scale]
        return f"{name.replace('_', ' ')} from {low:g} to {high:g} ({kind})"
    return ", ".join(one(k, *box) for k, box in SPACES[optimizer].items())

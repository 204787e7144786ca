"""The method chapter's tables and numbers: the study's design from the registries and
``study``, the fixed rules of ``analysis``, the simulated coverage of its intervals, and
what DeepOBS's 100-epoch curves say about the budget."""
from __future__ import annotations

import numpy as np
import pandas as pd

import inspect
import math

from . import analysis, data, deepobs, optim, problems, report, study, train

# Truths for the coverage simulation: population test accuracy at three finalists.
COVERAGE_SCENARIOS = {
    "the default is best": {3.16e-4: .905, 1e-3: .910, 3.16e-3: .905},
    "tuning gains 1.5 points": {3.16e-4: .925, 1e-3: .910, 3.16e-3: .900},
    "a near tie (0.2 points)": {3.16e-4: .912, 1e-3: .910, 3.16e-3: .905},
}
SEED_SDS = (0.003, 0.01)   # seed-to-seed spread of a run's accuracy: 0.3 and 1 point
BOOT_SEEDS = 3             # the seed count at which the old percentile bootstrap is shown to fail
DRIFT_FROM = study.BUDGETS["cifar10_3c3d"]  # DeepOBS's best lr from our conv-net budget to its last epoch


def _pts(x: float) -> str:
    return f"{100 * x:g} point" + ("" if x == 0.01 else "s")


def problems_table():
    rows = []
    for name in study.BUDGETS:
        p = problems.get(name)
        rows.append({"problem": name, "data": data.get(p.dataset).label, "network": p.description,
                     "params": problems.n_params(p), "batch": p.batch_size,
                     "epochs": study.budget(name), "seeds": len(study.stage2_seeds_of(name))})
    return report.table(pd.DataFrame(rows), {
        "problem": ("problem", "{}"), "data": ("data", "{}"), "network": ("network", "{}"),
        "parameters": ("params", "{:,}"), "batch size": ("batch", "{}"),
        "epochs": ("epochs", "{}"), "seeds at finalists": ("seeds", "{}")})


def optimizers_table():
    rows = [{"optimizer": optim.get(o).label, "default lr": report.fmt_lr(optim.get(o).default_lr),
             "hyperparameters": ", ".join(f"{k} = {v:g}" if isinstance(v, float) else f"{k} = {v}"
                                          for k, v in optim.get(o).defaults.items())}
            for o in study.OPTIMIZERS]
    return report.table(pd.DataFrame(rows), {k: (k, "{}") for k in rows[0]})


def coverage_table(reps: int, seed_counts: tuple[int, ...] = (3, 5)) -> pd.DataFrame:
    """Simulated coverage and mean width of the regret interval (default lr 0.001)."""
    rng = np.random.default_rng(0)
    rows = []
    for name, truth in COVERAGE_SCENARIOS.items():
        for sd in SEED_SDS:
            for n in seed_counts:
                cov, width = analysis.simulate_coverage(truth, 1e-3, n, seed_sd=sd, reps=reps, rng=rng)
                rows.append({"truth": name, "seed spread": f"{100 * sd:g} pt", "seeds": n,
                             "coverage": cov, "width": width})
    return pd.DataFrame(rows)


def coverage_shown(cov: pd.DataFrame, reps: int):
    return report.table(cov, {"truth": ("truth", "{}"), "seed spread (sd)": ("seed spread", "{}"),
                              "seeds (n)": ("seeds", "{}"),
                              f"coverage ({reps:,} studies)": ("coverage", "{:.1%}"),
                              "mean width": ("width", lambda w: f"{100 * w:.1f} pp")})


def numbers(cov: pd.DataFrame) -> dict[str, str]:
    best = deepobs.best_lr_by_epoch(deepobs.load())
    drift = deepobs.lr_drift(best, DRIFT_FROM, int(best["epoch"].max()))
    conv = [p for p in study.BUDGETS if p.endswith(("2c2d", "3c3d"))]
    small = [p for p in study.BUDGETS if p not in conv]
    return {
        **report.design_numbers(list(study.OPTIMIZERS), ["mnist", "fashion_mnist", "cifar10_jpeg"]),
        "grid": ", ".join(report.fmt_lr(lr) for lr in study.GRID),
        "n_grid": str(len(study.GRID)),
        "grid_low": report.fmt_lr(min(study.GRID)), "grid_high": report.fmt_lr(max(study.GRID)),
        "stage2_top": str(study.STAGE2_TOP),
        "seeds_small": str(len(study.STAGE2_SEEDS["small"])),
        "seeds_conv": str(len(study.STAGE2_SEEDS["conv"])),
        "epochs_small": "/".join(sorted({str(study.budget(p)) for p in small})),
        "epochs_conv": "/".join(sorted({str(study.budget(p)) for p in conv})),
        "level": f"{analysis.LEVEL:.0%}", "delta": _pts(analysis.DELTA),
        "no_learning_margin": _pts(analysis.NO_LEARNING_MARGIN),
        "family_margin": _pts(analysis.FAMILY_MARGIN),
        "basin_deltas": ", ".join(_pts(d).split()[0] for d in analysis.BASIN_DELTAS) + " points",
        "thread_grids": "; ".join(f"{{{', '.join(report.fmt_lr(x) for x in g)}}}"
                                  for g in analysis.THREAD_GRIDS.values()),
        "coverage_min": f"{cov['coverage'].min():.1%}",
        "sim_n_test": f"{inspect.signature(analysis.simulate_coverage).parameters['n_test'].default:,}",
        "divergence_factor": f"{train.DIVERGENCE_FACTOR:g}",
        "deepobs_epochs": str(int(best["epoch"].max())),
        # a percentile bootstrap over 3 seeds: its distinct resamples, and how often the
        # range of 3 draws covers the median of a continuous distribution (1 - 2 / 2**3)
        "boot_seeds": str(BOOT_SEEDS),
        "boot_resamples": str(math.comb(2 * BOOT_SEEDS - 1, BOOT_SEEDS)),
        "range_coverage": f"{1 - 2 / 2 ** BOOT_SEEDS:.0%}",
        "drift_from": str(DRIFT_FROM),
        "grid_factor": f"{np.sqrt(10):.0f}",  # half a decade either way of the best grid point
        "deepobs_adam_drift_max": f"{drift[drift.optimizer == 'adam']['decades'].abs().max():.1f}",
        "deepobs_drift_max": f"{drift['decades'].abs().max():.1f}",
    }


def drift_table():
    best = deepobs.best_lr_by_epoch(deepobs.load())
    drift = deepobs.lr_drift(best, DRIFT_FROM, int(best["epoch"].max()))
    return report.table(drift, {"problem": ("problem", "{}"), "DeepOBS optimizer": ("optimizer", "{}"),
                                f"best lr, epoch {DRIFT_FROM}": ("lr_start", report.fmt_lr),
                                f"best lr, epoch {int(best['epoch'].max())}": ("lr_end", report.fmt_lr),
                                "change (decades)": ("decades", "{:+.1f}")})

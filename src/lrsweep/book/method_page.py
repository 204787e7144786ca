"""The method chapter's tables and numbers: the study's design from the registries and
``study``, the fixed rules of ``analysis``, the simulated coverage of its intervals, and
what DeepOBS's 100-epoch curves say about the budget."""
from __future__ import annotations

import inspect
import math

import numpy as np
import pandas as pd
from scipy import stats

from ..store import config, datasets, optim, paths, problems
from ..stats import analysis, deepobs
from ..study import budget, fine_basin, lr_study
from . import report, verdicts, wording

# Truths for the coverage simulation: population test accuracy at the finalists.
COVERAGE_SCENARIOS = {
    "the default is best": {3.16e-4: .905, 1e-3: .910, 3.16e-3: .905},
    "tuning gains 1.5 points": {3.16e-4: .925, 1e-3: .910, 3.16e-3: .900},
    "a near tie (0.2 points)": {3.16e-4: .912, 1e-3: .910, 3.16e-3: .905},
    # what CIFAR-10 shows: two finalists near 73%, the other ahead by half a point
    "2 finalists at 73%, tuning gains 0.5 points": {3.16e-4: .735, 1e-3: .730},
}
SEED_SDS = (0.003, 0.01)   # seed-to-seed spread of a run's accuracy: 0.3 and 1 point
# The power table's design: CIFAR-10's, two finalists at 73%, seeds 1 point apart.
POWER_ACC, POWER_SEED_SD = 0.73, 0.01
POWER_REGRETS = (0.0, 0.005, 0.01, 0.015, 0.02)
POWER_SEEDS = (3, 5)
# The published tables' simulated studies per row; their results are cached under
# data/simulations (they take minutes), any other count's under _build.
PUBLISHED_REPS = 500
BOOT_SEEDS = 3             # the seed count at which the old percentile bootstrap is shown to fail
DRIFT_FROM = lr_study.PUBLISHED.budgets["cifar10_3c3d"]  # DeepOBS's best lr from our conv-net budget to its last epoch
DEEPOBS_LONG = budget.PUBLISHED.runs["cifar10_3c3d"].epochs  # DeepOBS's regret quoted where our long runs end


def _pts(x: float) -> str:
    return f"{100 * x:g} point" + ("" if x == 0.01 else "s")


def problems_table():
    rows = []
    for name in lr_study.PUBLISHED.problems:  # the problems studied, as readers name them
        p = problems.get(name)
        rows.append({"problem": wording.readable(name), "data": datasets.get(p.dataset).label, "network": p.description,
                     "params": p.params, "batch": p.batch_size,
                     "epochs": lr_study.PUBLISHED.budget(name), "seeds": len(lr_study.PUBLISHED.stage2_seeds_of(name))})
    return report.table(pd.DataFrame(rows), {
        "problem": ("problem", "{}"), "data": ("data", "{}"), "network": ("network", "{}"),
        "parameters": ("params", "{:,}"), "batch size": ("batch", "{}"),
        "epochs": ("epochs", "{}"), "seeds at finalists": ("seeds", "{}")})


def optimizers_table():
    rows = [{"optimizer": optim.get(o).label, "default lr": report.fmt_lr(optim.get(o).default_lr),
             "hyperparameters": ", ".join(f"{k} = {v:g}" if isinstance(v, float) else f"{k} = {v}"
                                          for k, v in optim.get(o).defaults.items())}
            for o in lr_study.PUBLISHED.optimizers]
    return report.table(pd.DataFrame(rows), {k: (k, "{}") for k in rows[0]})


def _simulated(name: str, rows_of, reps: int, **settings) -> pd.DataFrame:
    """Simulation rows, cached under data/simulations: the key holds the settings, the reps
    and the source of every function of ``analysis`` a simulated study runs through (a
    change to the statistics computes them anew)."""
    code = [inspect.getsource(f) for f in (analysis.simulate, analysis._regret, analysis._interval,
                                           analysis.paired_test_var, analysis.test_var,
                                           analysis._finalists, analysis.verdict)]
    what = {"settings": settings, "reps": reps, "code": code, "level": analysis.LEVEL,
            "delta": analysis.DELTA, "family_margin": analysis.FAMILY_MARGIN, "numpy": np.__version__}
    folder = paths.ROOT / ("data" if reps == PUBLISHED_REPS else "_build") / "simulations"
    return pd.DataFrame(paths.cached_rows(folder / f"{name}.json", what, lambda: rows_of(reps)))


def _sim_row(sim: analysis.Simulated) -> dict:
    return {"coverage": float(sim.coverage), "width": sim.width, **sim.verdicts}


def coverage_table(reps: int, seed_counts: tuple[int, ...] = (3, 5)) -> pd.DataFrame:
    """Simulated coverage and mean width of the regret interval (default lr 0.001), with
    the test error paired image by image as the book's records allow."""
    def rows(reps):
        rng = np.random.default_rng(0)
        return [{"truth": name, "seed spread": f"{100 * sd:g} pt", "seeds": n,
                 **_sim_row(analysis.simulate(truth, 1e-3, n, seed_sd=sd, reps=reps, rng=rng))}
                for name, truth in COVERAGE_SCENARIOS.items() for sd in SEED_SDS for n in seed_counts]
    return _simulated("coverage", rows, reps, scenarios=COVERAGE_SCENARIOS, sds=SEED_SDS,
                      seeds=seed_counts)


def coverage_shown(cov: pd.DataFrame, reps: int):
    return report.table(cov, {"truth": ("truth", "{}"), "seed spread (sd)": ("seed spread", "{}"),
                              "seeds (n)": ("seeds", "{}"),
                              f"coverage ({reps:,} studies)": ("coverage", "{:.1%}"),
                              "mean width": ("width", lambda w: f"{100 * w:.1f} pp")})


def power_table(reps: int) -> pd.DataFrame:
    """How often each verdict comes out at each true regret of the default, for the design
    of CIFAR-10 (two finalists at 73%, seeds 1 point apart) at 3 and 5 seeds, with the test
    error paired image by image and with the independence bound used before."""
    def rows(reps):
        rng = np.random.default_rng(1)
        return [{"regret": r, "seeds": n, "paired": paired,
                 **_sim_row(analysis.simulate({3.16e-4: POWER_ACC + r, 1e-3: POWER_ACC}, 1e-3, n,
                                              seed_sd=POWER_SEED_SD, paired=paired, reps=reps, rng=rng))}
                for paired in (True, False) for n in POWER_SEEDS for r in POWER_REGRETS]
    return _simulated("power", rows, reps, acc=POWER_ACC, sd=POWER_SEED_SD, regrets=POWER_REGRETS,
                      seeds=POWER_SEEDS)


def power_shown(power: pd.DataFrame, reps: int):
    """One row per true regret and seed count: the verdicts' shares with paired test error,
    and how often the independence bound said "tune"."""
    paired = power[power["paired"]].reset_index(drop=True)
    bound = power[~power["paired"]].set_index(["regret", "seeds"])[analysis.VERDICTS[1]]
    paired["tune_bound"] = [bound[(r, n)] for r, n in zip(paired["regret"], paired["seeds"])]
    return report.table(paired, {
        "true regret": ("regret", lambda r: f"{100 * r:g} pp"), "seeds (n)": ("seeds", "{}"),
        **{f"{v}": (v, "{:.0%}") for v in analysis.VERDICTS},
        "tune the lr, independence bound": ("tune_bound", "{:.0%}")})


def sim_agreement(acc: float = POWER_ACC) -> float:
    """The share of test images on which two simulated runs at accuracy ``acc`` agree
    (both right or both wrong), from the simulation's latent ``agreement``."""
    rho = inspect.signature(analysis.simulate).parameters["agreement"].default
    t = stats.norm.ppf(acc)
    both_right = stats.multivariate_normal([0, 0], [[1, rho], [rho, 1]]).cdf([t, t])
    return float(both_right + (1 - 2 * acc + both_right))


def _stage3_scope(study: lr_study.LrStudy) -> str:
    """Where stage 3 runs, in words: on every problem, or on which and why not the others."""
    third = [p for p in study.problems if study.stages_of(p) == 3]
    if len(third) == len(study.problems):
        return "on every problem"
    if not third:
        return "on no problem yet"
    rest = [p for p in study.problems if p not in third]
    return (f"on {wording.and_list([wording.readable(p) for p in third])}; on "
            f"{wording.and_list([wording.readable(p) for p in rest])} its runs are still training, so "
            f"there the finalists are those of stage 2")


def numbers(cov: pd.DataFrame) -> dict[str, str]:
    best = deepobs.best_lr_by_epoch(deepobs.load())
    drift = deepobs.lr_drift(best, DRIFT_FROM, int(best["epoch"].max()))
    regret = deepobs.default_regret_by_epoch(deepobs.load()).query("optimizer == 'adam'").set_index(
        ["problem", "epoch"])["regret"]
    conv = [p for p in lr_study.PUBLISHED.budgets if p.endswith(("2c2d", "3c3d"))]
    small = [p for p in lr_study.PUBLISHED.budgets if p not in conv]
    return {
        **report.design_numbers(list(lr_study.PUBLISHED.optimizers), ["mnist", "fashion_mnist", "cifar10_jpeg"]),
        "grid": ", ".join(report.fmt_lr(lr) for lr in lr_study.PUBLISHED.grid),
        "n_grid": str(len(lr_study.PUBLISHED.grid)),
        "grid_above": "; ".join(f"{wording.readable(p)}: {', '.join(report.fmt_lr(x) for x in lrs)}"
                                for p, lrs in lr_study.PUBLISHED.grid_above.items()),
        "grid_low": report.fmt_lr(min(lr_study.PUBLISHED.grid)), "grid_high": report.fmt_lr(max(lr_study.PUBLISHED.grid)),
        "stage2_top": str(lr_study.PUBLISHED.stage2_top),
        "stage3_scope": _stage3_scope(lr_study.PUBLISHED),
        "seeds_small": str(len(lr_study.PUBLISHED.stage2_seeds["small"])),
        "seeds_conv": str(len(lr_study.PUBLISHED.stage2_seeds["conv"])),
        "epochs_small": "/".join(sorted({str(lr_study.PUBLISHED.budget(p)) for p in small})),
        "epochs_conv": "/".join(sorted({str(lr_study.PUBLISHED.budget(p)) for p in conv})),
        "level": f"{analysis.LEVEL:.0%}", "delta": _pts(analysis.DELTA),
        "no_learning_margin": _pts(analysis.NO_LEARNING_MARGIN),
        "family_margin": _pts(analysis.FAMILY_MARGIN),
        "same_basin": f"{verdicts.SAME_BASIN:g}",
        "same_fine_basin": f"{verdicts.SAME_FINE_BASIN:g}",
        "fine_problems": wording.and_list([wording.readable(p) for p in fine_basin.PUBLISHED.problems]),
        "fine_within": _pts(fine_basin.PUBLISHED.within),
        "fine_seeds": wording.plural(len(fine_basin.PUBLISHED.study.stage1_seeds), "seed"),
        "basin_deltas": ", ".join(_pts(d).split()[0] for d in analysis.BASIN_DELTAS) + " points",
        "thread_grids": "; ".join(f"{{{', '.join(report.fmt_lr(x) for x in g)}}}"
                                  for g in analysis.THREAD_GRIDS.values()),
        "coverage_min": f"{cov['coverage'].min():.1%}",
        "sim_n_test": f"{inspect.signature(analysis.simulate).parameters['n_test'].default:,}",
        "sim_agreement": f"{sim_agreement():.0%}",
        "power_acc": f"{POWER_ACC:.0%}", "power_seed_sd": _pts(POWER_SEED_SD),
        "divergence_factor": f"{config.DIVERGENCE_FACTOR:g}",
        "deepobs_epochs": str(int(best["epoch"].max())),
        # a percentile bootstrap over 3 seeds: its distinct resamples, and how often the
        # range of 3 draws covers the median of a continuous distribution (1 - 2 / 2**3)
        "boot_seeds": str(BOOT_SEEDS),
        "boot_resamples": str(math.comb(2 * BOOT_SEEDS - 1, BOOT_SEEDS)),
        "range_coverage": f"{1 - 2 / 2 ** BOOT_SEEDS:.0%}",
        "drift_from": str(DRIFT_FROM),
        "deepobs_long": str(DEEPOBS_LONG),
        "deepobs_regret_cifar_short": f"{100 * regret[('cifar10_3c3d', DRIFT_FROM)]:.1f}",
        "deepobs_regret_cifar_long": f"{100 * regret[('cifar10_3c3d', DEEPOBS_LONG)]:.1f}",
        "grid_factor": f"{np.sqrt(10):.0f}",  # half a decade either way of the best grid point
        "deepobs_adam_drift_max": f"{drift[drift.optimizer == 'adam']['decades'].abs().max():.1f}",
        "deepobs_drift_max": f"{drift['decades'].abs().max():.1f}",
    }


def drift_table():
    best = deepobs.best_lr_by_epoch(deepobs.load())
    drift = deepobs.lr_drift(best, DRIFT_FROM, int(best["epoch"].max()))
    return report.table(drift, {"problem": ("problem", wording.readable),
                                "DeepOBS optimizer": ("optimizer", wording.optimizer_name),
                                f"best lr, epoch {DRIFT_FROM}": ("lr_start", report.fmt_lr),
                                f"best lr, epoch {int(best['epoch'].max())}": ("lr_end", report.fmt_lr),
                                "change (decades)": ("decades", "{:+.1f}")})

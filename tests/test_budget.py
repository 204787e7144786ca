"""The default's regret against the budget: read at every epoch, from our runs and
DeepOBS's curves, and the long runs read as far as they are stored."""
import csv
import gzip

import pytest

from lrsweep.stats import analysis, deepobs
from lrsweep.study import budget
from lrsweep.store import paths, records
from lrsweep.engine.sweep import SweepSpec, run_sweep

from conftest import table


def test_regret_by_budget_reads_each_epoch_as_the_runs_stood_then():
    """0.001 leads until epoch 2, then 3e-4 overtakes it by 2 points on every seed."""
    rows = []
    for s in range(3):
        for e, (fast, slow) in enumerate([(.5, .4), (.8, .7), (.85, .87), (.86, .88)]):
            rows += [("adam", 1e-3, s, e, "ok", fast + .001 * s, fast + .001 * s),
                     ("adam", 3e-4, s, e, "ok", slow + .001 * s, slow + .001 * s)]
    by = analysis.regret_by_budget(table(rows)).set_index("epoch")
    assert list(by.index) == [1, 2, 3]
    assert by.loc[1, "tuned_lr"] == 1e-3 and by.loc[1, "regret"] == 0
    assert by.loc[3, "tuned_lr"] == 3e-4 and by.loc[3, "regret"] == pytest.approx(0.02)
    assert (by["n"] == 3).all() and not by["paired"].any()
    assert by.loc[3, "verdict"] == analysis.verdict(by.loc[3, "lo"], by.loc[3, "hi"])


def test_deepobs_regret_of_the_default_matches_the_raw_file():
    """Against the CSV read by hand: best of the seed-42 grid minus the run at 0.001."""
    path = paths.mirror_dir() / deepobs.FILE.name
    with gzip.open(path, "rt") as fh:
        rows = [r for r in csv.DictReader(fh) if r["problem"] == "cifar10_3c3d"
                and r["optimizer"] == "AdamOptimizer" and r["seed"] == "42" and r["epoch"] == "40"]
    best = max(float(r["test_acc"]) for r in rows)
    [at] = [float(r["test_acc"]) for r in rows if abs(float(r["lr"]) / 1e-3 - 1) < 1e-6]
    got = deepobs.default_regret_by_epoch(deepobs.load()).set_index(["problem", "optimizer", "epoch"])
    assert got.loc[("cifar10_3c3d", "adam", 40), "regret"] == pytest.approx(best - at, abs=1e-12)


def test_the_long_runs_are_read_as_far_as_they_are_stored(tmp_path, small_data):
    """A shorter record of a long-run config counts up to its epochs; progress counts only
    the runs that reached the long budget."""
    design = budget.LongBudget({"mnist_logreg": budget.LongRuns("adam", (1e-3, 1e-2), (0,), 3)})
    run_sweep(SweepSpec(["mnist_logreg"], ["adam"], [1e-3, 1e-2], [0], 1), tmp_path, executor="inprocess",
              quiet=True)
    assert design.progress("mnist_logreg", tmp_path)[:2] == (0, 2)
    short, now = design.stored("mnist_logreg", tmp_path)
    assert short["epoch"].max() == 1 and now == design.progress("mnist_logreg", tmp_path)
    design.run("mnist_logreg", tmp_path, executor="inprocess", quiet=True)
    assert design.progress("mnist_logreg", tmp_path).complete
    long, now = design.stored("mnist_logreg", tmp_path)
    assert now == design.progress("mnist_logreg", tmp_path)
    assert long["epoch"].max() == 3 and long["test_correct"].notna().all()
    assert all(records.has_predictions(r) for r in records.load_all(tmp_path))


def test_the_answer_box_reports_the_long_runs_only_past_the_study_budget():
    """Rows up to the study's budget say nothing the study's finalists do not; the box
    reports the last epoch the long runs reached past it, and nothing while none has."""
    import pandas as pd

    from lrsweep.book import verdicts

    def row(series, epoch, regret=0.02, lo=0.011, hi=0.03):
        return dict(problem="cifar10_3c3d", epoch=epoch, regret=regret, lo=lo, hi=hi, n=4,
                    paired=True, lead=float("nan"), verdict=analysis.verdict(lo, hi), series=series)
    study = [row(budget.STUDY, e) for e in (1, 10)]
    long = [row(budget.LONG, e) for e in (1, 10, 20, 40)]
    rows = pd.DataFrame(study + long)
    assert list(budget.past_study(rows)) == [False, False, False, False, True, True]
    box = verdicts.budget_short(rows)
    assert box.startswith("Trained longer: after 40 epochs on CIFAR-10 (3c3d CNN)") and "tune the lr" in box
    assert verdicts.budget_short(pd.DataFrame(study + long[:2])) == ""

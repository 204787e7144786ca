"""The synthesis and DeepOBS chapters' metrics on synthetic records whose answer is known."""
import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from lrsweep.stats import analysis
from lrsweep.book import deepobs_page, figures, synthesis
from conftest import curve, table
from lrsweep.book import verdicts

SEEDS = (0, 1, 2, 3, 4)


def seeds_at(opt, accs, noise=0.001):
    """Every lr with five seeds (a spread small enough for tight intervals)."""
    return curve(opt, accs, seeds=SEEDS, noise=noise)


def test_recommendation_is_the_cheapest_choice_within_tolerance_everywhere():
    # the default 0.001 loses 3 points on p and nothing on q; the 3-point grid around it
    # holds the best lr of both
    rows = table(seeds_at("adam", {1e-4: .80, 3.16e-4: .93, 1e-3: .90, 3.16e-3: .85}), "p")
    rows = pd.concat([rows, table(seeds_at("adam", {1e-4: .80, 3.16e-4: .85, 1e-3: .95, 3.16e-3: .85}), "q")])
    final = analysis.final_epoch(rows)
    text = synthesis.recommendation(final)
    assert "choosing on validation among 0.000316, 0.001, 0.00316 (3 training runs per seed)" in text
    assert "every one of the 2 problems" in text
    # with the default best on both, the default itself is the cheapest
    best_default = final.assign(test_acc=np.where(final["lr"] == 1e-3, 0.99, final["test_acc"]))
    assert "its default 0.001 (1 training run per seed)" in synthesis.recommendation(best_default)


def test_recommendation_says_so_when_no_cheap_choice_holds():
    rows = table(seeds_at("adam", {1e-4: .50, 3.16e-4: .55, 1e-3: .60, 1e-2: .62, 3.16e-2: .90, 1e-1: .70}))
    text = synthesis.recommendation(analysis.final_epoch(rows))
    assert text.startswith("For Adam, neither its default nor any of the coarse grids")
    # and where the default stood, by the verdict rule: here it lost more than the tolerance
    assert text.endswith("At its default 0.001, it lost more than 1 point on 1 of 1 problem (p).")


def test_within_tolerance_needs_an_interval():
    assert not verdicts.within_tolerance(pd.DataFrame({"hi": [0.001, float("nan")]}))
    assert verdicts.within_tolerance(pd.DataFrame({"hi": [0.001, 0.009]}))
    assert not verdicts.within_tolerance(pd.DataFrame({"hi": []}))


def test_budget_rows_measure_how_far_the_tuned_lr_moves():
    rows = []
    for e in range(1, 5):  # 1e-2 leads early, 1e-3 from epoch 3 on
        late = e >= 3
        rows += [("adam", 1e-3, s, e, "ok", .8 + .1 * late, .8) for s in (0, 1)]
        rows += [("adam", 1e-2, s, e, "ok", .85, .85) for s in (0, 1)]
    [r] = synthesis.budget_rows(table(rows)).to_dict("records")
    assert (r["half"], r["end"], r["lr_half"], r["lr_end"]) == (2, 4, 1e-2, 1e-3)
    assert r["decades"] == pytest.approx(-1.0)
    fig = figures.best_lr_by_budget(analysis.tuned_by_budget(table(rows)), pd.DataFrame(
        {"problem": ["p"] * 3, "optimizer": ["adam"] * 3, "epoch": [0, 1, 2], "lr": [1e-3, 1e-3, 1e-4]}))
    [ax] = fig.axes
    ours, theirs = ax.get_lines()
    assert list(ours.get_ydata()) == [1e-2, 1e-2, 1e-3, 1e-3]
    assert list(theirs.get_xdata()) == [1, 2]  # epoch 0 has no best lr
    assert ax.get_yscale() == "log" and ax.get_title() == "p"
    plt.close(fig)


def test_deepobs_best_lr_is_theirs_on_test_and_ours_on_validation():
    # ours: 1e-3 best on validation, 1e-2 best on test
    ours = table([("adam", lr, s, 2, "ok", va, ta) for lr, va, ta in ((1e-3, .9, .8), (1e-2, .8, .9))
                  for s in (0, 1)], problem="fmnist_2c2d")
    curves = pd.DataFrame([dict(problem="fmnist_2c2d", optimizer="adam", lr=lr, seed=42, epoch=e,
                                test_acc=acc, test_loss=1.0)
                           for e, best in ((2, 1e-2), (100, 1e-4)) for lr in (1e-4, 1e-3, 1e-2)
                           for acc in [0.9 if lr == best else 0.5]])
    [r] = deepobs_page.best_lr_table(ours, curves).to_dict("records")
    assert (r["ours"], r["theirs_budget"], r["theirs_last"], r["budget"], r["last"]) == (1e-3, 1e-2, 1e-4, 2, 100)
    assert not math.isnan(r["ours"])

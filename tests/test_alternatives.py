"""The alternatives table on synthetic records whose answer is known."""
import numpy as np
import pandas as pd
import pytest

from lrsweep.study import alternatives, lr_study
from lrsweep.stats import analysis
from conftest import table

SEEDS = range(5)
EFFECT = np.random.default_rng(0).normal(0, 0.005, 5)  # a seed's luck, shared by its runs


def runs(opt, accs, problem="mnist_logreg", hparams="h"):
    return table([(opt, lr, s, 1, "ok", a + EFFECT[s], a + EFFECT[s]) for lr, a in accs.items()
                  for s in SEEDS], problem).assign(hparams=hparams)


def test_each_alternative_is_costed_and_paired_against_tuned_adam():
    main = analysis.final_epoch(runs("adam", {1e-4: .80, 3.16e-4: .93, 1e-3: .90, 1e-2: .85}))
    extra = analysis.final_epoch(pd.concat([
        runs("prodigy", {1.0: .92}),                       # 1 point below tuned Adam
        runs("dog", {1.0: .95}),                           # 2 points above it
        runs("amsgrad", {1e-3: .91, 1e-2: .93}),           # tuned at 1e-2: equal
        runs("adam", {4.2e-4: .925}),                      # the range test's pick
        runs("adam", {1e-3: .80}, hparams="h,schedule=cosine:1")]))
    rows = alternatives.table(main, extra, {"mnist_logreg": (4.2e-4, 0.5)}).set_index("alternative")
    assert rows.loc["Adam at 0.001", "regret"] == pytest.approx(0.03)
    assert rows.loc["Adam at 0.001", "cost_runs"] == 1
    assert rows.loc["grid: 3 points around 1e-3", "regret"] == pytest.approx(0.0)
    assert rows.loc["grid: 1e-4 and 1e-3", "cost_runs"] == 2
    assert rows.loc["LR range test", "regret"] == pytest.approx(0.005)
    assert rows.loc["LR range test", "cost_runs"] == pytest.approx(1 + 0.5 / lr_study.PUBLISHED.budget("mnist_logreg"))
    assert rows.loc["Prodigy at its default", "regret"] == pytest.approx(0.01)
    assert rows.loc["DoG at its default", "regret"] == pytest.approx(-0.02)
    assert rows.loc["DoG at its default", "hi"] < 0  # paired: the seeds' luck cancels
    assert rows.loc["AMSGrad, tuned", "regret"] == pytest.approx(0.0)
    assert rows.loc["Adam, cosine schedule, tuned", "regret"] == pytest.approx(0.13)
    assert rows.loc["Adam, tuned (reference)", "regret"] == 0
    # cheapest within 1 point everywhere: DoG (1 run) before the 3-point grid (3 runs)
    assert alternatives.cheapest_within(rows.reset_index()) == "DoG at its default"
    assert alternatives.cheapest_within(rows.reset_index(), delta=-1) is None


def test_cost_regret_figure_lists_each_alternative_once_cheapest_first():
    import matplotlib.pyplot as plt

    from lrsweep.book import figures
    rows = pd.DataFrame([dict(problem=p, alternative=a, cost_runs=c, regret=r, lo=r - .005, hi=r + .005, n=5)
                         for p in ("p", "q") for a, c, r in (("grid", 3, .001), ("default", 1, .02), ("full", 12, 0.0))]
                        + [dict(problem="p", alternative="lr-free", cost_runs=1, regret=0, lo=-.01, hi=.01, n=5)])
    fig = figures.cost_regret(rows)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    # one measured on fewer problems than the others says so
    assert labels == ["default (1 run)", "lr-free (1 run; 1 of 2 problems)", "grid (3 runs)", "full (12 runs)"]
    # and it cannot be the cheapest, however small its regret where it was measured
    rows.loc[rows["alternative"] == "lr-free", "hi"] = 0.001
    assert alternatives.cheapest_within(rows, delta=0.01) == "grid"
    plt.close(fig)

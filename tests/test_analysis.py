import itertools
import math

import numpy as np
import pandas as pd
import pytest

from lrsweep.stats import analysis
from lrsweep.store import records
from lrsweep.book import report

from conftest import curve, table


def test_final_epoch_outcomes_diverged_at_chance_and_no_learning():
    t = table([("adam", 1.0, 0, 0, "diverged", 0.3, 0.3), ("adam", 1e-3, 0, 0, "ok", 0.1, 0.1),
               ("adam", 1e-3, 0, 1, "ok", 0.9, 0.88), ("adam", 1e-6, 0, 1, "ok", 0.12, 0.11)])
    f = analysis.final_epoch(t).set_index("lr")
    assert f.loc[1.0, "test_acc"] == 0.1 and f.loc[1.0, "outcome"] == "diverged"
    assert math.isnan(f.loc[1.0, "test_loss"])
    assert f.loc[1e-3, "test_acc"] == 0.88 and f.loc[1e-3, "epoch"] == 1 and f.loc[1e-3, "outcome"] == "ok"
    assert f.loc[1e-6, "outcome"] == "no_learning"  # within 5 points of chance, not diverged


def test_final_epoch_at_a_budget():
    """A run that diverged after the budget counts as it stood at the budget."""
    t = table([("adam", 1e-2, 0, 0, "diverged", 0.1, 0.1), ("adam", 1e-2, 0, 1, "diverged", 0.8, 0.8),
               ("adam", 1e-3, 0, 0, "ok", 0.1, 0.1), ("adam", 1e-3, 0, 1, "ok", 0.7, 0.7),
               ("adam", 1e-3, 0, 2, "ok", 0.9, 0.9)])  # 1e-2 diverged in epoch 2
    at1 = analysis.final_epoch(t, 1).set_index("lr")
    assert at1.loc[1e-2, "outcome"] == "ok" and at1.loc[1e-2, "test_acc"] == 0.8
    at2 = analysis.final_epoch(t, 2).set_index("lr")
    assert at2.loc[1e-2, "outcome"] == "diverged" and at2.loc[1e-3, "test_acc"] == 0.9
    assert list(analysis.final_epoch(t, 3)["lr"]) == [1e-2]  # 1e-3 never reached epoch 3


def test_lr_is_selected_on_validation_among_the_finalists():
    rows = [("adam", 1e-3, s, 1, "ok", 0.90, 0.95) for s in range(3)]
    rows += [("adam", 1e-2, s, 1, "ok", 0.92, 0.91) for s in range(3)]
    rows += [("adam", 1e-1, 0, 1, "ok", 0.99, 0.99)]  # one seed: not a finalist
    cell = analysis.final_epoch(table(rows))
    assert analysis.finalists(cell) == [1e-3, 1e-2] and analysis.tuned_lr(cell) == 1e-2
    [row] = analysis.summary(cell).to_dict("records")
    assert row["best_lr"] == 1e-2 and row["acc_tuned"] == pytest.approx(0.91)
    assert row["acc_default"] == pytest.approx(0.95)
    # the regret is the best finalist's lead in population terms; the default, a finalist,
    # leads on test, so its estimate is 0 and lies inside its interval
    assert row["regret"] == 0 and row["regret_lo"] <= 0 <= row["regret_hi"]


def test_regret_is_the_paired_mean_and_its_interval_holds_it():
    rng = np.random.default_rng(0)
    rows = []
    for s in range(5):
        seed_effect = rng.normal(0, 0.01)  # common random numbers: shared by both lrs
        rows += [("adam", 1e-3, s, 1, "ok", 0.90 + seed_effect, 0.90 + seed_effect),
                 ("adam", 1e-2, s, 1, "ok", 0.93 + seed_effect, 0.93 + seed_effect + rng.normal(0, 0.002))]
    cell = analysis.final_epoch(table(rows))
    r = analysis.regret(cell, 1e-3)
    d = cell.pivot_table(index="seed", columns="lr", values="test_acc").diff(axis=1)[1e-2]
    assert r["regret"] == pytest.approx(d.mean()) and r["n"] == 5 and r["tuned_lr"] == 1e-2
    assert 0 < r["lo"] < r["regret"] < r["hi"] < 0.05
    assert analysis.verdict(r["lo"], r["hi"]) == "tune the lr"


def test_interval_stays_open_when_the_reference_is_picked():
    """0.001 picked, a runner-up 0.5 points below: the estimate is the runner-up's (negative)
    lead, and the upper end leaves room for the runner-up being better after all."""
    rows = curve("adam", {1e-3: 0.905, 3e-3: 0.900}, seeds=range(3), noise=0.002)
    r = analysis.regret(analysis.final_epoch(table(rows)), 1e-3)
    assert r["tuned_lr"] == 1e-3 and r["regret"] == 0 and r["lo"] == 0 < r["hi"]


def test_no_zero_width_interval_when_every_other_finalist_is_far_behind():
    """The runner-up 10 points below on validation (outside the family margin): the interval
    is 0 to 0, and the result says by how much the default leads at least."""
    rows = curve("adam", {1e-3: 0.905, 3e-3: 0.805}, seeds=range(3), noise=0.002)
    r = analysis.regret(analysis.final_epoch(table(rows)), 1e-3)
    assert r["lo"] == r["regret"] == r["hi"] == 0
    assert 0.05 < r["lead"] < 0.1  # 10 points ahead, less the noise
    assert analysis.verdict(r["lo"], r["hi"]) == "default is enough"
    assert "leads every other finalist by at least" in report.fmt_ci(r["lo"], r["hi"], r["lead"])
    assert "[" not in report.fmt_ci(r["lo"], r["hi"], r["lead"])  # no "[+0.00, +0.00]"
    close = analysis.regret(analysis.final_epoch(table(curve("adam", {1e-3: 0.905, 3e-3: 0.900},
                                                                  seeds=range(3), noise=0.002))), 1e-3)
    assert math.isnan(close["lead"])


@pytest.mark.parametrize("n_seeds,truth,seed_sd", [
    (3, {3e-4: .905, 1e-3: .910, 3e-3: .905}, 0.003),   # the default is best
    (5, {3e-4: .925, 1e-3: .910, 3e-3: .900}, 0.003),   # tuning gains 1.5 points
    (3, {3e-4: .912, 1e-3: .910, 3e-3: .905}, 0.01),    # a near tie
    (3, {3e-4: .735, 1e-3: .730}, 0.01),                # CIFAR-10-like: 2 finalists, 0.5 points
])
@pytest.mark.parametrize("paired", [True, False])
def test_regret_interval_covers_the_truth_at_the_studys_seed_counts(n_seeds, truth, seed_sd, paired):
    """Simulated studies with a known truth, scored image by image: the nominal 95%
    interval covers at least 90% (300 studies: a standard error of about 1.3 points)."""
    sim = analysis.simulate(truth, 1e-3, n_seeds, seed_sd=seed_sd, paired=paired, reps=300,
                            rng=np.random.default_rng(n_seeds))
    assert sim.coverage >= 0.90
    assert sim.width < 0.045  # and it is not trivially wide (under 4.5 points)
    assert sum(sim.verdicts.values()) == pytest.approx(1)


def _all_resamples_variance(x: np.ndarray) -> float:
    """Brute force: the variance of the mean of ``x`` over every one of the n^n ways of
    drawing n test images with replacement (the exact bootstrap, no formula)."""
    n = len(x)
    means = [x[list(idx)].mean() for idx in itertools.product(range(n), repeat=n)]
    return float(np.var(means))


def test_paired_test_variance_matches_brute_force_over_every_resampled_test_set():
    """One seed, 6 test images: the paired variance is the variance of the accuracy
    difference over all 6^6 resampled test sets, McNemar's formula, and far below the
    independence bound when the two runs agree on most images."""
    a = np.array([1, 1, 1, 0, 1, 0], dtype=bool)
    b = np.array([1, 1, 0, 0, 1, 1], dtype=bool)
    brute = _all_resamples_variance(a.astype(float) - b)
    assert analysis.paired_test_var([a], [b]) == pytest.approx(brute, rel=1e-12)
    p10, p01 = (a & ~b).mean(), (~a & b).mean()
    assert brute == pytest.approx((p10 + p01 - (p10 - p01) ** 2) / 6, rel=1e-12)
    assert brute < analysis.test_var(a.mean(), b.mean(), 6)


def test_paired_test_variance_keeps_only_what_the_seeds_share():
    """Seeds that agree image by image share all of it; seeds whose differences are their
    own (independent across seeds) share nothing, up to sampling noise."""
    rng = np.random.default_rng(0)
    a, b = rng.random(4000) < .9, rng.random(4000) < .9
    assert analysis.paired_test_var([a, a, a], [b, b, b]) == pytest.approx(
        analysis.paired_test_var([a], [b]), rel=1e-9)
    own_a, own_b = rng.random((3, 4000)) < .9, rng.random((3, 4000)) < .9
    assert analysis.paired_test_var(list(own_a), list(own_b)) < 0.1 * analysis.paired_test_var([a], [b])


def _with_bits(cell: pd.DataFrame, correct: dict) -> pd.DataFrame:
    """The cell with packed per-example correctness, ``correct[(seed, lr)]``."""
    return cell.assign(test_correct=[records.pack_correct(correct[(s, lr)])
                                     for s, lr in zip(cell["seed"], cell["lr"])])


def test_regret_pairs_the_test_error_where_runs_carry_predictions():
    """Two lrs that differ on only a few images: the paired interval is far narrower than
    the independence bound and says it was paired."""
    rng = np.random.default_rng(2)
    n, correct, rows = 10_000, {}, []
    for s in range(3):
        base = rng.random(n) < .73
        flip = rng.random(n) < .02
        for lr, bits in ((1e-3, base), (3e-4, base ^ flip)):
            correct[(s, lr)] = bits
            rows.append(("adam", lr, s, 1, "ok", bits.mean() + 0.001 * s, bits.mean()))
    cell = analysis.final_epoch(table(rows))
    unpaired = analysis.regret(cell, 1e-3)
    paired = analysis.regret(_with_bits(cell, correct), 1e-3)
    assert paired["paired"] and not unpaired["paired"]
    assert paired["regret"] == unpaired["regret"]
    assert paired["hi"] - paired["lo"] < 0.8 * (unpaired["hi"] - unpaired["lo"])
    missing = _with_bits(cell, correct)
    missing.loc[0, "test_correct"] = None  # one run without predictions: not paired
    assert not analysis.regret(missing, 1e-3)["paired"]


@pytest.mark.parametrize("seed", range(20))
def test_the_regret_estimate_lies_inside_its_interval(seed):
    rng = np.random.default_rng(seed)
    lrs = rng.choice([1e-4, 3.16e-4, 1e-3, 3.16e-3, 1e-2], size=rng.integers(2, 5), replace=False)
    rows = [("adam", float(lr), s, 1, "ok", .9 + rng.normal(0, .01), .9 + rng.normal(0, .01))
            for lr in [*lrs, 1e-3] for s in range(3)]
    rows = list({(r[1], r[2]): r for r in rows}.values())
    r = analysis.regret(analysis.final_epoch(table(rows)), 1e-3)
    assert r["lo"] <= r["regret"] <= r["hi"]


def test_verdict_rule():
    assert analysis.verdict(0.0, 0.009) == "default is enough"
    assert analysis.verdict(0.011, 0.03) == "tune the lr"
    assert analysis.verdict(0.0, 0.02) == "undecided"
    assert analysis.verdict(math.nan, math.nan) == "undecided"


def test_basin_width_counts_contiguous_decades_within_delta():
    accs = {1e-5: .80, 1e-4: .895, 1e-3: .90, 1e-2: .897, 1e-1: .10, 1.0: .899}
    cell = analysis.final_epoch(table(curve("adam", accs)))
    assert analysis.basin_width(cell, 0.006) == pytest.approx(2.0)   # 1e-4 .. 1e-2
    assert analysis.basin_width(cell, 0.004) == pytest.approx(1.0)   # 1e-3 .. 1e-2
    assert analysis.basin_width(cell, 0.001) == 0.0                  # 1.0 is not contiguous
    # the grid bounds the true basin: up to the first lr outside it on each side
    assert analysis.basin_most(cell, 0.004) == pytest.approx(3.0)    # 1e-4 .. 1e-1
    assert analysis.basin_most(cell, 0.001) == pytest.approx(2.0)    # 1e-4 .. 1e-2
    assert analysis.basin_most(cell, 0.006) == pytest.approx(4.0)    # 1e-5 .. 1e-1
    assert analysis.basin_width(cell, 0.11) == pytest.approx(3.0)    # 1e-5 .. 1e-2: the grid's end
    assert analysis.basin_most(cell, 0.11) == math.inf


def test_fixed_lr_is_chosen_without_the_task_it_is_scored_on():
    t = pd.concat([table(curve("sgd_momentum", {1e-3: .80, 1e-2: .90, 1e-1: .85}), "a"),
                   table(curve("sgd_momentum", {1e-3: .70, 1e-2: .80, 1e-1: .78}), "b"),
                   table(curve("sgd_momentum", {1e-3: .60, 1e-2: .60, 1e-1: .70}), "c")])
    final = analysis.final_epoch(t)
    assert analysis.fixed_lr(final, "sgd_momentum", "c") == 1e-2
    assert analysis.fixed_lr(final, "sgd_momentum", "a") == 1e-1  # b and c: 0.1 loses least
    table_ = analysis.fixed_lr_table(final).set_index(["problem", "choice"])
    assert table_.loc[("c", "leave-one-task-out"), "regret"] == pytest.approx(0.10)
    assert table_.loc[("c", "library default"), "lr"] == 1e-3


def test_coarse_grid_chooses_within_itself_on_validation():
    accs = {1e-4: .80, 3.16e-4: .95, 1e-3: .90, 1e-2: .85, 1e-1: .10}
    cell = analysis.final_epoch(table(curve("adam", accs)))
    assert analysis.grid_choice(cell, (1e-4, 1e-3, 1e-2, 1e-1)) == 1e-3
    assert analysis.grid_choice(cell, (1e-6,)) is None
    g = analysis.grid_table(cell).set_index("grid")["regret"]
    assert g.loc[list(analysis.THREAD_GRIDS)].tolist() == pytest.approx([0.05, 0.05])  # both pick 1e-3
    assert g.loc["3 points around 1e-3"] == pytest.approx(0.0)  # it has 3.16e-4, the best


def test_tuned_lr_against_budget():
    rows = []
    for e, (a, b) in enumerate([(.5, .6), (.8, .7)], start=1):
        rows += [("adam", 1e-3, s, e, "ok", a, a) for s in range(2)]
        rows += [("adam", 1e-2, s, e, "ok", b, b) for s in range(2)]
    by = analysis.tuned_by_budget(table(rows))
    assert by["epoch"].tolist() == [1, 2] and by["tuned_lr"].tolist() == [1e-2, 1e-3]
    # another problem trained for longer: each cell only up to its own budget
    longer = table([(o, lr, s, e, "ok", .5, .5) for o, lr, s, e in
                    [("adam", 1e-3, s, e) for s in range(2) for e in (1, 2, 3)]], problem="q")
    by = analysis.tuned_by_budget(pd.concat([table(rows), longer]))
    assert by.groupby("problem")["epoch"].max().to_dict() == {"p": 2, "q": 3}


def test_regret_is_against_each_optimizers_own_default():
    """Prodigy's lr is a multiplier whose default is 1.0, Adam's default is 0.001."""
    rows = []
    for opt in ("adam", "prodigy"):
        rows += curve(opt, {1e-3: .90, 1.0: .80, 1e-2: .95}, seeds=(0, 1))
    s = analysis.summary(analysis.final_epoch(table(rows))).set_index("optimizer")
    assert s.loc["adam", "default_lr"] == 1e-3 and s.loc["prodigy", "default_lr"] == 1.0
    assert s.loc["adam", "regret"] == pytest.approx(0.05)
    assert s.loc["prodigy", "regret"] == pytest.approx(0.15)
    forced = analysis.summary(analysis.final_epoch(table(rows)), default_lr=1e-3)
    assert forced["regret"].tolist() == pytest.approx([0.05, 0.05])


def test_one_seed_has_no_interval_and_missing_default_is_reported():
    t = table([("adam", 1e-2, 0, 1, "ok", 0.9, 0.9), ("adam", 1e-1, 0, 1, "ok", 0.8, 0.8)])
    [row] = analysis.summary(analysis.final_epoch(t)).to_dict("records")
    assert math.isnan(row["acc_default"]) and math.isnan(row["regret_lo"])
    assert row["verdict"] == "undecided"
    assert report.fmt_pct(row["acc_default"]) == "n/a"
    assert report.fmt_ci(row["regret_lo"], row["regret_hi"]) == "n/a (one seed)"


def test_formatting():
    assert report.fmt_lr(0.000316) == "0.000316" and report.fmt_lr(1e-05) == "1e-05"
    assert report.fmt_pct(0.97834) == "97.83%" and report.fmt_pp(-0.0123) == "-1.23 pp"
    # rounded to one significant digit of the interval's half-width
    assert report.fmt_pp(0.0123, half_width=0.0036) == "+1.2 pp"
    assert report.fmt_pp(0.0123, half_width=0.018) == "+1 pp"
    assert report.fmt_pp(-0.0002, half_width=0.005) == "+0.0 pp"  # rounds to zero: no sign
    assert report.fmt_ci(0.0, 0.0072) == "[+0.0, +0.7] pp"
    assert report.fmt_ci(0.001, 0.0402) == "[+0, +4] pp"
    assert report.fmt_ci(-0.002, 0.03) == "[+0, +3] pp"  # -0.2 rounds to 0: no "-0"


def test_figure_files_for_download_are_deterministic(tmp_path):
    import matplotlib.pyplot as plt

    from lrsweep.book import figures
    rows = [(opt, lr, s, 1, "ok", 0.9 - abs(lr - 1e-3), 0.9 - abs(lr - 1e-3))
            for opt in ("adam", "sgd_momentum") for lr in (1e-4, 1e-3, 1e-2) for s in (0, 1)]
    saved = []
    for build in ("a", "b"):  # two builds of the book draw and save the figure afresh
        fig = figures.accuracy_vs_lr(analysis.final_epoch(table(rows)))
        saved.append(figures.save(fig, "f", tmp_path / build))
        plt.close(fig)
    first, again = saved
    assert [p.suffix for p in first] == [".svg", ".pdf", ".png"]
    assert first[2].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and first[1].read_bytes()[:4] == b"%PDF"
    for a, b in zip(first, again):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_figures_mark_each_outcome_and_show_every_interval():
    import matplotlib.pyplot as plt

    from lrsweep.book import figures
    rows = curve("adam", {1e-5: .12, 1e-3: .9, 1e-1: .5}, seeds=(0, 1))
    rows += [("adam", 1.0, s, 1, "diverged", 0.1, 0.1) for s in (0, 1)]
    rows += curve("sgd_momentum", {1e-5: .11, 1e-3: .85, 1e-1: .92, 1.0: .3}, seeds=(0, 1))
    final = analysis.final_epoch(table(rows))
    fig = figures.accuracy_vs_lr(final, metrics=("test_acc", "test_loss"))
    labels = {t.get_text() for t in fig.legends[0].get_texts()}
    assert {"Adam", "SGD-momentum", "diverged", "did not learn", "default lr 0.001"} <= labels
    assert fig.axes[0].get_xscale() == "log" and len(fig.axes) == 2
    plt.close(fig)
    fixed = analysis.fixed_lr_table(pd.concat([final, final.assign(problem="q")]))
    fig = figures.regret_overview(fixed, "choice")
    assert len(fig.axes[0].containers) == fixed.groupby(["choice", "optimizer"]).ngroups
    plt.close(fig)
    summary = analysis.summary(pd.concat([final, final.assign(problem="q")]))
    fig = figures.basin_overview(summary)
    assert len(fig.axes) == len(analysis.BASIN_DELTAS)
    [bars] = {len(ax.patches) for ax in fig.axes}  # a bar per problem and optimizer
    assert bars == 2 * 2
    widths = sorted(p.get_width() for p in fig.axes[1].patches)
    assert widths == sorted(summary["basin_10"])
    plt.close(fig)


def test_regret_against_an_alternative_is_paired_and_may_be_negative():
    """An alternative (here: 1 point worse than the tuned lr on every seed, then 1 point
    better) against the cell's finalists; seeds pair them."""
    rng = np.random.default_rng(0)
    effect = rng.normal(0, 0.01, 5)  # a seed's luck, shared by every run of it
    rows = [("adam", lr, s, 1, "ok", acc + effect[s], acc + effect[s])
            for lr, acc in ((1e-3, .90), (1e-2, .88)) for s in range(5)]
    cell = analysis.final_epoch(table(rows))
    for shift in (-0.01, 0.01):
        other = pd.DataFrame({"seed": range(5), "valid_acc": 0.90 + shift + effect,
                              "test_acc": 0.90 + shift + effect})
        r = analysis.regret_against(cell, other)
        assert r["tuned_lr"] == 1e-3 and r["n"] == 5
        assert r["regret"] == pytest.approx(-shift)
        assert r["lo"] < -shift < r["hi"]
        assert r["hi"] - r["lo"] < 0.03  # paired: the seeds' 1-point spread cancels
    assert r["hi"] < 0  # the better alternative: the whole interval below 0
    with pytest.raises(ValueError, match="one run per seed"):
        analysis.regret_against(cell, pd.concat([other, other]))


def test_final_epoch_of_concatenated_tables():
    """Tables of several problems glued with pd.concat repeat index labels: still one row per run."""
    a = table([("adam", 1e-3, 0, e, "ok", .5 + e / 10, .5) for e in range(3)], "p")
    b = table([("adam", 1e-3, 0, e, "ok", .6 + e / 10, .6) for e in range(3)], "q")
    f = analysis.final_epoch(pd.concat([a, b]))
    assert len(f) == 2 and f.set_index("problem")["valid_acc"].to_dict() == pytest.approx({"p": .7, "q": .8})

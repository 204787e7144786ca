"""The quarter-decade points near the optimum: which steps they fill, how the basin is read
on them, and the rule that words sensitivity from them (fixed before they were trained)."""
import math

import pandas as pd
import pytest

from lrsweep.book import verdicts
from lrsweep.book.evidence import Evidence
from lrsweep.engine.sweep import run_sweep
from lrsweep.errors import UsageError
from lrsweep.stats import analysis
from lrsweep.study import fine_basin, lr_study, registry

from conftest import curve, table


def test_midpoints_split_every_step_that_touches_the_basin():
    """Within 2 points of the best: 1e-3 .. 1e-2; the steps from the first lr outside on
    each side (3.16e-4, 3.16e-2) are split too, rounded as the grid's lrs are."""
    accs = {1e-4: .70, 3.16e-4: .85, 1e-3: .90, 3.16e-3: .91, 1e-2: .895, 3.16e-2: .60, 0.1: .10}
    cell = analysis.final_epoch(table(curve("adam", accs)))
    assert fine_basin.midpoints(cell, 0.02) == [0.000562, 0.00178, 0.00562, 0.0178]
    # a basin at the grid's end has no step beyond it to split
    edge = analysis.final_epoch(table(curve("adam", {1e-3: .90, 3.16e-3: .89, 1e-2: .5})))
    assert fine_basin.midpoints(edge, 0.02) == [0.00178, 0.00562]


def test_the_fine_basin_reads_one_seed_curve_at_quarter_decade_steps():
    """Seed 0 on the filled grid; the finalists' other seeds, which only some lrs have,
    are left out so that every lr is read alike."""
    accs = {1e-3: .902, 1.78e-3: .906, 3.16e-3: .91, 5.62e-3: .903, 1e-2: .85}
    rows = curve("adam", accs) + curve("adam", {1e-2: .99}, seeds=(1, 2))
    fine = analysis.fine_basins(analysis.final_epoch(table(rows)), (0,)).iloc[0]
    assert fine["n_lrs"] == 5
    assert fine["basin_10"] == pytest.approx(math.log10(5.62e-3 / 1e-3))  # 0.75 decades
    assert fine["basin_5"] == pytest.approx(math.log10(3.16e-3 / 1.78e-3))


def _influence(fine_a, fine_b, coarse_a=1.0, coarse_b=1.0):
    s = pd.DataFrame([dict(problem=p, optimizer=o, verdict="tune the lr", best_lr=1e-3,
                           basin_10=coarse_a if o == "adam" else coarse_b)
                      for p in "ab" for o in ("adam", "sgd_momentum")])
    fixed = pd.DataFrame([dict(optimizer=o, problem=p, choice="leave-one-task-out", regret=0.0, hi=0.005)
                          for p in "ab" for o in ("adam", "sgd_momentum")])
    fine = pd.DataFrame([dict(problem="a", optimizer=o, basin_10=b)
                         for o, b in (("adam", fine_a), ("sgd_momentum", fine_b))])
    return s, fixed, fine


def test_sensitivity_is_read_on_the_quarter_decade_grid_once_it_is_stored():
    """Half-decade basins 1.0 and 1.0: about as sensitive. The quarter-decade basins decide
    once stored: a gap of one quarter-decade step is within the grid's resolution, a gap of
    two is not, and then the half-decade reading is said beside."""
    s, fixed, fine = _influence(1.25, 1.0)
    assert "about as sensitive as" in verdicts.influence_sentence(s, fixed)
    assert "half a decade being the grid's step" in verdicts.influence_sentence(s, fixed)
    text = verdicts.influence_sentence(s, fixed, fine=fine)
    assert "about as sensitive as SGD-momentum's" in text
    assert "median of 1.25 decades against 1.00" in text and "the rule before it" not in text
    s, fixed, fine = _influence(1.5, 1.0)
    text = verdicts.influence_sentence(s, fixed, fine=fine)
    assert "Adam's learning rate is less sensitive than SGD-momentum's" in text
    assert "the rule before it read \"about as sensitive as\" (1.0 against 1.0 decades)" in text
    assert "less sensitive than" in verdicts.influence_short(s, fixed, fine=fine)
    assert "less sensitive than" in verdicts.plain_answer(s, fixed, fine)
    # one optimizer without quarter-decade points: the half-decade rule speaks alone
    assert "about as sensitive" in verdicts.influence_sentence(s, fixed, fine=fine[fine["optimizer"] == "adam"])


def test_the_design_plans_midpoints_from_the_study_stage_1_and_reports_progress(tmp_path, small_data):
    """A two-lr study on a small slice: stage 1 first, then each optimizer's midpoints;
    the page's evidence reads them only once all are stored, and never trains them."""
    study = lr_study.PUBLISHED.varied(optimizers=["adam"], lrs=[1e-3, 1e-2], epochs=1)
    design = fine_basin.FineBasin(problems=("mnist_logreg",), study=study, within=1.0)  # every step
    with pytest.raises(UsageError, match="no quarter-decade points on 'fmnist_logreg'"):
        design.check("fmnist_logreg")
    now = design.progress("mnist_logreg", tmp_path)
    assert (now.stage, now.done, now.planned, now.what) == (1, 0, 2, "the study's stage 1")
    evidence = Evidence(tmp_path, study=study, problems=["mnist_logreg"],
                        designs=registry.Designs(study=study, fine=design))
    run_sweep(study._stage1("mnist_logreg"), tmp_path, executor="inprocess", quiet=True)
    now = design.progress("mnist_logreg", tmp_path)
    assert (now.stage, now.done, now.planned, now.what) == (2, 0, 1, "its quarter-decade points")
    assert evidence.fine_basins() is None and evidence.fine()[1]["mnist_logreg"] == now
    from lrsweep.book import synthesis
    text, values = synthesis.fine_section(evidence)
    assert text.startswith("Still running") and "quarter-decade points" in text and not values
    table_ = design.run("mnist_logreg", tmp_path, executor="inprocess", quiet=True)
    assert sorted(table_["lr"].unique()) == [1e-3, 0.00316, 1e-2]
    assert design.progress("mnist_logreg", tmp_path).complete
    fresh = Evidence(tmp_path, study=study, problems=["mnist_logreg"],
                     designs=registry.Designs(study=study, fine=design))
    assert fresh.fine_basins()["n_lrs"].tolist() == [3]
    text, values = synthesis.fine_section(fresh)
    assert "tbl-fine-basins" in text and "Still running" not in text
    assert values["fine_problems"] == "MNIST (logistic regression)" and values["fine_seeds"] == "1 seed"
    import re  # widths in quarter decades need two decimals ("1.25", not "1.2")
    assert all(re.match(r"\d\.\d\d (to \d\.\d\d|or more)$", c) for c in values["fine_table"].cells.iloc[:, 2:].stack())


def test_the_quarter_decade_points_count_in_the_synthesis_costs():
    """The compute appendix charges each run to the chapter that reads it: a midpoint of the
    grid with stage 1's seed to the synthesis; the same lr with another seed is not one."""
    from lrsweep.book import costs
    from lrsweep.store import optim
    cfg = dict(problem="mnist_mlp", optimizer="adam", lr=0.00178, seed=0, batch_size=128,
               hparams=optim.get("adam").defaults)
    assert costs.chapter_of(cfg) == "synthesis"
    assert costs.chapter_of({**cfg, "lr": 0.001}) == "mnist"
    assert costs.chapter_of({**cfg, "seed": 1}) == "beyond"
    assert costs.chapter_of({**cfg, "problem": "cifar10_3c3d"}) == "beyond"  # no midpoints planned there

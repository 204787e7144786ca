"""The first page's plain answer: its wording follows the verdicts and the basin widths,
by the rules fixed before the study's results were read."""
import math
from dataclasses import replace

import pandas as pd
import pytest
from lrsweep.book import verdicts, wording



def summary(rows):
    """Summary rows from (problem, optimizer, verdict, basin_10)."""
    return pd.DataFrame([dict(problem=p, optimizer=o, verdict=v, basin_10=b) for p, o, v, b in rows])


def test_plain_answer_counts_each_verdict_and_names_its_problems():
    s = summary([("a", "adam", "default is enough", 1.0), ("b", "adam", "tune the lr", 1.0),
                 ("c", "adam", "default is enough", 1.5), ("d", "adam", "undecided", 0.5)]
                + [(p, "sgd_momentum", "tune the lr", 1.0) for p in "abcd"])
    text = verdicts.plain_answer(s)
    assert text.startswith("On 2 of 4 problems (a and c), keeping Adam's learning rate at its default 0.001")
    assert "on 1 of 4 problems (b), tuning it gained more than 1 point" in text
    assert "on 1 of 4 problems (d), the seeds cannot tell" in text
    # medians 1.0 and 1.0 decades: within one grid step, "about as influential"
    assert "median of 1.0 decades for Adam and 1.0 for SGD-momentum" in text
    assert "about as influential as SGD-momentum's" in text
    assert text.count(".") >= 2 and "SGD-momentum's." in text


def test_plain_answer_compares_basins_only_beyond_one_grid_step():
    wide = summary([("a", "adam", "tune the lr", 2.0), ("a", "sgd_momentum", "tune the lr", 1.5)])
    assert "about as influential" in verdicts.plain_answer(wide)  # 0.5 decades apart: not less
    wider = summary([("a", "adam", "tune the lr", 2.5), ("a", "sgd_momentum", "tune the lr", 1.5)])
    assert "less influential than" in verdicts.plain_answer(wider)
    narrower = summary([("a", "adam", "tune the lr", 0.5), ("a", "sgd_momentum", "tune the lr", 1.5)])
    assert "more influential than" in verdicts.plain_answer(narrower)
    assert "Still running" not in verdicts.pending_note({})


def test_plain_answer_without_results_says_so():
    assert "No problem of this study has all its runs" in verdicts.plain_answer(
        pd.DataFrame(columns=["optimizer"]))


def test_design_sentence_names_each_seed_count():
    from lrsweep.study import lr_study
    study = replace(lr_study.PUBLISHED, neighbours=())
    assert wording.design_phrase(["mnist_logreg"], study.varied(stage2_seeds=[0, 1])).endswith("get 2 seeds")
    text = wording.design_phrase(["fmnist_mlp", "fmnist_2c2d"], study)
    assert text.endswith("get 5 (Fashion-MNIST (MLP)) or 3 (Fashion-MNIST (2c2d CNN)) seeds")
    # stage 3, and where it runs when not on every problem
    text = wording.design_phrase(["fmnist_mlp"], replace(study, neighbours=("small", "conv")))
    assert text.endswith("get 5 seeds; then the grid's two neighbours of the learning rate tuned among them "
                         "get as many")
    text = wording.design_phrase(["fmnist_mlp", "fmnist_2c2d"], replace(study, neighbours=("small",)))
    assert text.endswith("get as many (on Fashion-MNIST (MLP))")


def test_influence_tells_sensitivity_from_location_by_rules_fixed_in_advance():
    """Same basins (within a grid step) but one lr serves Adam everywhere and SGD-momentum
    nowhere: the sentence says both, and counts a missing interval as not shown within."""
    s = pd.DataFrame([dict(problem=p, optimizer=o, verdict="tune the lr", basin_10=1.0 + (o == "adam") * 0.5,
                           best_lr=lr) for p, lrs in (("a", (1e-3, 1e-2)), ("b", (1e-3, 3e-2)))
                      for o, lr in zip(("adam", "sgd_momentum"), lrs)])
    fixed = pd.DataFrame([dict(optimizer=o, problem=p, choice="leave-one-task-out", regret=r, hi=hi)
                          for o, p, r, hi in (("adam", "a", 0.0, 0.004), ("adam", "b", 0.001, 0.006),
                                              ("sgd_momentum", "a", 0.02, 0.03),
                                              ("sgd_momentum", "b", 0.01, float("nan")))])
    inf = verdicts.influence(s, fixed)
    assert inf.loc["sgd_momentum", "spread"] == pytest.approx(math.log10(3))
    assert inf.loc["adam", "loto_within"] == 2 and inf.loc["sgd_momentum", "loto_untold"] == 1
    text = verdicts.influence_sentence(s, fixed)
    assert "about as sensitive as SGD-momentum's" in text
    assert "on 2 of 2 problems for Adam" in text and "on 0 of 2 for SGD-momentum, 1 of them with one seed" in text
    assert text.endswith("So one learning rate serves Adam on more problems than SGD-momentum.")
    assert "Where its best lies" in verdicts.plain_answer(s, fixed)


def test_the_cliff_above_the_default_names_the_steepest_problem_and_its_seeds():
    from conftest import table
    from lrsweep.stats import analysis
    rows = [("adam", 1e-3, s, 1, "ok", .73, .73) for s in range(3)] + [("adam", 3.16e-3, 0, 1, "ok", .49, .49)]
    rows_q = [("adam", 1e-3, s, 1, "ok", .92, .92) for s in range(3)] + [("adam", 3.16e-3, 0, 1, "ok", .91, .91)]
    final = analysis.final_epoch(pd.concat([table(rows, "cifar10_3c3d"), table(rows_q, "fmnist_2c2d")]))
    text = verdicts.cliff_sentence(final)
    assert text.startswith("Above the default the ground falls away fastest on CIFAR-10 (3c3d CNN)")
    assert "49.00% (1 seed) against 73.00% at 0.001 (3 seeds), a drop of 24 points" in text
    assert text.endswith("on the other problems that step cost at most 1.0 points.")

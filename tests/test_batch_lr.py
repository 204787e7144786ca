"""The best lr against the batch size: the window of lrs, the choice per batch size, the
slope, and the page section, on synthetic records and a tiny store."""
import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from lrsweep.study import batch_lr, lr_study, registry
from lrsweep.errors import UsageError
from conftest import curve, table
from lrsweep.book import beyond_summary


def at_batch(batch, accs, optimizer="adam"):
    t = table(curve(optimizer, accs, seeds=[0], noise=0.0), "p")
    return t.assign(batch_size=batch, run_id=t["run_id"] + f"-b{batch}")


def test_best_lr_per_batch_size_and_its_slope():
    # the best lr grows tenfold over a hundredfold batch: slope 0.5 (the square-root rule)
    t = pd.concat([at_batch(10, {1e-4: .8, 1e-3: .9, 1e-2: .85}),
                   at_batch(100, {1e-4: .7, 1e-3: .8, 3.16e-3: .9, 1e-2: .85}),
                   at_batch(1000, {1e-3: .7, 1e-2: .9})])
    best = batch_lr.best_lrs(t).set_index("batch_size")
    assert list(best["best_lr"]) == [1e-3, 3.16e-3, 1e-2]
    assert list(best["at_edge"]) == [False, False, True]  # 1e-2 is the largest tried at 1000
    assert best.loc[100, "valid_acc"] == pytest.approx(0.9, abs=1e-3)
    assert batch_lr.slope(best.reset_index()) == pytest.approx(0.5, abs=0.01)


def test_keeping_one_lr_across_batch_sizes_loses_the_gap_to_the_best_there():
    t = pd.concat([at_batch(10, {1e-3: .9, 1e-2: .85}), at_batch(1000, {1e-3: .8, 3.16e-3: .85, 1e-2: .9}),
                   at_batch(1000, {1e-2: .95}, optimizer="sgd_momentum")])
    lost = batch_lr.kept_regret(t, {("p", "adam"): 1e-3, ("p", "sgd_momentum"): 1e-3}).set_index("batch_size")
    assert list(lost["regret"]) == [pytest.approx(0.0), pytest.approx(0.1)]  # sgd: 1e-3 not tried there
    assert set(lost["optimizer"]) == {"adam"} and (lost["kept_lr"] == 1e-3).all()


def test_the_window_is_the_study_grid_around_the_tuned_lr(tmp_path, small_data):
    study = replace(lr_study.PUBLISHED, grid=(1e-4, 1e-3, 1e-2, 1e-1, 1.0), grid_above={}, optimizers=("adam",),
                    budgets={**lr_study.PUBLISHED.budgets, "mnist_logreg": 2}, stage2_seeds={"small": (0,)})
    designs = registry.PUBLISHED.around(study)
    designs = replace(designs, batch=replace(designs.batch, window=1.0, sweeps={"mnist_logreg": (1, (64, 128))}))
    table = study.run("mnist_logreg", tmp_path, executor="inprocess", quiet=True)
    tuned = batch_lr.analysis.tuned_lr(batch_lr.analysis.final_epoch(table, 1))  # read at 1 epoch
    got = designs.batch.lrs(designs.batch.centres("mnist_logreg", table)["adam"])
    assert got == [lr for lr in study.grid if abs(math.log10(lr / tuned)) <= 1.0 + 0.01]
    assert tuned in got and len(got) in (2, 3)

    # the chapter's section: pending until the sweep is stored, then the best lr per batch size
    from lrsweep.book import beyond_page
    from lrsweep.book.evidence import Evidence
    text, values = beyond_page.batch_section(Evidence(tmp_path, designs=designs), tmp_path / "fig")
    n = len(got)
    assert values["batch_pending"] == f"Still running, so not shown yet: mnist_logreg ({n} of {2 * n} runs)."
    assert values["batch_plan"] == "on MNIST (logistic regression), batch sizes 64 and 128 with 1 epoch"
    assert "No batch-size sweep" in text
    designs.batch.run("mnist_logreg", tmp_path, executor="inprocess", quiet=True)
    text, values = beyond_page.batch_section(Evidence(tmp_path, designs=designs), tmp_path / "fig")
    assert values["batch_pending"] == "" and "fig-batch-lr" in text
    assert values["batch_sentence"].startswith("On MNIST (logistic regression), Adam's best learning rate is ")
    assert "at batch size 64 and" in values["batch_sentence"] and "over 2 batch sizes" in values["batch_sentence"]
    assert f"Adam at {tuned:g} (its tuned learning rate at batch size 128) loses " in values["kept_sentence"]
    assert " at 64, " in values["kept_sentence"] and values["kept_sentence"].endswith(" at 128.")
    caveat = beyond_summary.batch_caveat(Evidence(tmp_path, designs=designs))
    assert "on MNIST (logistic regression), its best learning rate moved" in caveat and f"keeping {tuned:g} lost" in caveat


def test_only_published_problems_have_a_batch_sweep(capsys):
    from lrsweep.cli import main
    with pytest.raises(UsageError, match="no batch-size sweep"):
        batch_lr.PUBLISHED.check("mnist_logreg")
    assert main(["batch", "fmnist_mlp", "mnist_logreg", "--quiet"]) == 2  # refused before any run
    assert "no batch-size sweep of 'mnist_logreg'" in capsys.readouterr().err


def test_a_store_without_the_study_shows_the_sweep_as_waiting_for_it(tmp_path):
    from lrsweep.book import beyond_page
    from lrsweep.book.evidence import Evidence
    text, values = beyond_page.batch_section(Evidence(tmp_path), tmp_path / "fig")
    assert values["batch_pending"] == ("Still running, so not shown yet: "
                                       + "; ".join(f"{p} (its study first)" for p in batch_lr.PUBLISHED.sweeps) + ".")
    assert beyond_summary.batch_caveat(Evidence(tmp_path)) == ""

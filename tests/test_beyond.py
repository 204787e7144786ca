"""The alternatives' runs: each on the study's seeds and budget, trained once, then only read."""
from dataclasses import replace

import pytest

from lrsweep.study import beyond, lr_study, registry
from lrsweep.engine import range_test
from lrsweep.errors import UsageError
from lrsweep.book import beyond_summary
from lrsweep.book.evidence import Evidence


@pytest.fixture
def small():
    """The report's designs around a small study: two lrs, two stage-2 seeds, one epoch on
    mnist_logreg, and a 20-step range test."""
    study = replace(lr_study.PUBLISHED, grid=(1e-3, 1e-2), grid_above={}, stage2_top=1,
                    stage2_seeds={"small": (0, 1), "conv": (0, 1)},
                    budgets={**lr_study.PUBLISHED.budgets, "mnist_logreg": 1})
    designs = registry.PUBLISHED.around(study)
    return replace(designs, alternatives=replace(designs.alternatives, range_steps=20))


def test_every_alternative_runs_on_the_studys_seeds_and_budget(tmp_path, small_data, small):
    alternatives = small.alternatives
    table = alternatives.run("mnist_logreg", tmp_path / "runs", tmp_path / "range",
                             executor="inprocess", quiet=True)
    runs = table.groupby("run_id").first()
    assert set(runs["epoch"]) <= {0, 1} and table["epoch"].max() == 1
    for o in beyond.AT_DEFAULT:  # each at its library default, on both stage-2 seeds
        mine = runs[runs["optimizer"] == o]
        assert sorted(mine["seed"]) == [0, 1] and set(mine["lr"]) == {beyond.optim.get(o).default_lr}
    cosine = runs[runs["hparams"].str.contains("schedule=cosine:1")]
    assert set(cosine["lr"]) == {1e-3, 1e-2} and cosine["optimizer"].eq("adam").all()
    assert set(runs.loc[runs["optimizer"] == "amsgrad", "lr"]) == {1e-3, 1e-2}
    picked = range_test.stored("mnist_logreg", "adam", 0, tmp_path / "range")["picked_lr"]
    ranged = runs[(runs["optimizer"] == "adam") & (runs["lr"] == float(f"{picked:.3g}"))]
    assert sorted(ranged["seed"]) == [0, 1]
    # the published build reads them back and trains nothing; without the range test it says so
    again = alternatives.run("mnist_logreg", tmp_path / "runs", tmp_path / "range", train_missing=False, quiet=True)
    assert again["run_id"].nunique() == table["run_id"].nunique()
    with pytest.raises(UsageError, match="range test .* is not stored"):
        alternatives.run("mnist_logreg", tmp_path / "runs", tmp_path / "elsewhere", train_missing=False, quiet=True)


def test_the_chapter_shows_a_problem_once_its_study_and_alternatives_are_stored(
        tmp_path, small_data, small):
    from lrsweep.book import beyond_page
    runs, ranges, figs = tmp_path / "runs", tmp_path / "range", tmp_path / "figs"
    small.study.run("mnist_logreg", runs, executor="inprocess", quiet=True)
    # with the study alone: only what the study itself gives, and the alternatives pending
    def page():  # the chapter's evidence, as its notebook opens it
        return Evidence(runs, designs=small, problems=["mnist_logreg"], range_dir=ranges)
    text, values = beyond_page.run(page(), figs)
    assert values["n_ready"] == "1" and "mnist_logreg (0 of" in values["pending_note"]
    assert "of its alternatives" in values["pending_note"]
    assert values["alternatives_table"].cells.empty and "tbl-alternatives" not in text
    assert values["cheapest"].startswith("Of the choices measured on MNIST (logistic regression) (Adam's default")
    small.alternatives.run("mnist_logreg", runs, ranges, executor="inprocess", quiet=True)
    text, values = beyond_page.run(page(), figs)
    assert values["n_ready"] == "1" and "fig-alternatives" in text and "tbl-alternatives" in text
    # the alternatives trained for the chapter beside tuned Adam; the default and the grids
    # are in the answer's and the synthesis's tables, not repeated
    shown = set(values["alternatives_table"].cells["alternative"])
    assert {"LR range test", "DoG at its default", "AMSGrad, tuned", "Adam, tuned (reference)"} <= shown
    assert not any(a.startswith(("Adam at", "grid:")) for a in shown)
    # what was measured and where: no rule that the design could never meet
    assert "ran on MNIST (logistic regression) only, so each is judged there alone" in values["cheapest"]
    assert "reference" not in values["cheapest"]
    assert (figs / "fig-alternatives.png").is_file()


def test_the_plan_runs_only_its_kinds_and_refuses_other_problems(tmp_path, small_data, small):
    alternatives = replace(small.alternatives, kinds={"mnist_logreg": beyond.ONE_RUN})
    assert not alternatives.progress("mnist_logreg", tmp_path / "runs", tmp_path / "range").complete
    table = alternatives.run("mnist_logreg", tmp_path / "runs", tmp_path / "range", executor="inprocess", quiet=True)
    assert not table["optimizer"].eq("amsgrad").any() and not table["hparams"].str.contains("schedule=").any()
    assert set(beyond.AT_DEFAULT) <= set(table["optimizer"])
    assert alternatives.progress("mnist_logreg", tmp_path / "runs", tmp_path / "range").complete
    with pytest.raises(UsageError, match="no alternatives on 'mnist_mlp'"):
        alternatives.run("mnist_mlp", tmp_path / "runs", tmp_path / "range", quiet=True)
    with pytest.raises(UsageError, match="no alternatives on 'mnist_mlp'"):
        alternatives.progress("mnist_mlp", tmp_path / "runs", tmp_path / "range")


def test_problems_without_alternatives_show_the_studys_and_what_the_rest_would_cost(tmp_path, small_data, small):
    from lrsweep.book import beyond_page
    designs = small.around(replace(small.study, chapters={"mnist": ("mnist_logreg",)}))
    designs = replace(designs, alternatives=replace(designs.alternatives, kinds={}))
    runs = tmp_path / "runs"
    designs.study.run("mnist_logreg", runs, executor="inprocess", quiet=True)
    evidence = Evidence(runs, designs=designs, problems=["mnist_logreg"], range_dir=tmp_path / "range")
    table, running = beyond_summary.rows(evidence, train_missing=False)
    assert not running and set(table["problem"]) == {"mnist_logreg"}
    assert "Adam at 0.001" in set(table["alternative"]) and "LR range test" not in set(table["alternative"])
    # the estimate: one run per lr-free optimizer and the range test's pick, per stage-2 seed
    from lrsweep.store import records
    from lrsweep.book.costs import study_run_hours
    hours = study_run_hours(records.load_all(runs), designs.study)["mnist_logreg"]
    walls = [r["wall_time_s"] for r in records.load_all(runs) if r["status"] == "ok"]
    assert hours == pytest.approx(sum(walls) / len(walls) / 3600)
    expected = (len(beyond.AT_DEFAULT) + 1) * len(designs.study.stage2_seeds_of("mnist_logreg")) * hours
    assert f"MNIST (logistic regression) about {expected:.1f} hours" in beyond_page.unmeasured_cost(evidence)
    assert "MNIST (logistic regression), none (only those read from the study" in beyond_page.measured_sentence(designs)

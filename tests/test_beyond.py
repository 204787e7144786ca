"""The alternatives' runs: each on the study's seeds and budget, trained once, then only read."""
import pytest

from lrsweep import beyond, range_test, study
from lrsweep.errors import UsageError


@pytest.fixture
def small_study(monkeypatch):
    monkeypatch.setattr(study, "GRID", (1e-3, 1e-2))
    monkeypatch.setattr(study, "STAGE2_SEEDS", {"small": (0, 1), "conv": (0, 1)})
    monkeypatch.setattr(study, "STAGE2_TOP", 1)
    monkeypatch.setattr(study, "BUDGETS", {**study.BUDGETS, "mnist_logreg": 1})
    monkeypatch.setattr(range_test, "STEPS", 20)


def test_every_alternative_runs_on_the_studys_seeds_and_budget(tmp_path, small_data, small_study):
    table = beyond.run("mnist_logreg", tmp_path / "runs", tmp_path / "range",
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
    again = beyond.run("mnist_logreg", tmp_path / "runs", tmp_path / "range", train_missing=False, quiet=True)
    assert again["run_id"].nunique() == table["run_id"].nunique()
    with pytest.raises(UsageError, match="range test .* is not stored"):
        beyond.run("mnist_logreg", tmp_path / "runs", tmp_path / "elsewhere", train_missing=False, quiet=True)


def test_the_chapter_shows_a_problem_once_its_study_and_alternatives_are_stored(
        tmp_path, small_data, small_study):
    from lrsweep import beyond_page
    runs, ranges, figs = tmp_path / "runs", tmp_path / "range", tmp_path / "figs"
    study.run("mnist_logreg", runs, executor="inprocess", quiet=True)
    text, values = beyond_page.run(["mnist_logreg"], runs, figs, ranges, train_missing=False)
    assert values["n_ready"] == "0" and "mnist_logreg (0 of" in values["pending_note"]
    beyond.run("mnist_logreg", runs, ranges, executor="inprocess", quiet=True)
    text, values = beyond_page.run(["mnist_logreg"], runs, figs, ranges, train_missing=False)
    assert values["n_ready"] == "1" and "fig-alternatives" in text
    shown = values["alternatives_table"].cells
    assert {"Adam at 0.001", "LR range test", "DoG at its default", "AMSGrad, tuned"} <= set(shown["alternative"])
    assert values["cheapest"].startswith(("The cheapest alternative", "No alternative"))
    assert "reference" not in values["cheapest"]
    assert (figs / "fig-alternatives.png").is_file()

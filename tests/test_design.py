"""Sobol designs over Adam's hyperparameters and their functional ANOVA, on synthetic
objectives whose variance decomposition is known."""
import math

import numpy as np
import pandas as pd
import pytest

from lrsweep.study import design, importance
from lrsweep.errors import UsageError
from lrsweep.book import beyond_page, beyond_summary


def test_sobol_points_fill_the_box_in_the_design_scales():
    pts = design.points("adam", 64, seed=0)
    assert len(pts) == 64 and len({tuple(p.items()) for p in pts}) == 64
    lr = np.log10([p["lr"] for p in pts])
    assert lr.min() >= -5 and lr.max() <= -1
    # balanced: each quarter of log10(lr) holds a quarter of the points
    assert np.histogram(lr, bins=4, range=(-5, -1))[0].tolist() == [16] * 4
    assert all(0.9 <= p["beta2"] <= 0.9999 and 1e-10 <= p["eps"] <= 1e-4 for p in pts)
    sizes = [p["batch_size"] for p in pts]
    assert set(sizes) == {32, 64, 128, 256, 512, 1024} and all(isinstance(s, int) for s in sizes)
    assert design.points("adam", 64, seed=0) == pts  # the seed fixes the design


def test_design_specs_are_one_run_sweeps_with_those_settings():
    specs = design.specs("fmnist_mlp", "adam", 8, epochs=2)
    [cfg] = specs[0].configs()
    p = design.points("adam", 8)[0]
    assert cfg.lr == p["lr"] and cfg.batch_size == p["batch_size"] and cfg.seed == 0
    assert dict(cfg.hparams)["beta2"] == p["beta2"] and dict(cfg.hparams)["eps"] == p["eps"]
    assert len({s.configs()[0].run_id for s in specs}) == 8
    with pytest.raises(UsageError, match="power of 2"):
        design.points("adam", 100)
    with pytest.raises(UsageError, match="no design space"):
        design.points("prodigy", 8)


def synthetic(objective, n=128, seed=0, optimizer="adam"):
    """A design table whose validation accuracy is objective(coordinates in [0, 1])."""
    rng = np.random.default_rng(seed)
    space = design.SPACES[optimizer]
    u = rng.random((n, len(space)))
    table = pd.DataFrame({k: [importance._lo_hi(*space[k])[0] + x * np.subtract(*importance._lo_hi(*space[k])[::-1])
                              for x in u[:, i]] for i, k in enumerate(space)})
    table["valid_acc"] = [objective(dict(zip(space, row))) for row in u]
    return table


def test_fanova_finds_the_one_hyperparameter_that_matters():
    t = synthetic(lambda u: 0.9 - 0.5 * (u["lr"] - 0.5) ** 2 + 0.001 * u["eps"])
    s = importance.scores(t, "adam")
    assert s["lr"] > 0.8 and max(s[k] for k in ("beta1", "beta2", "eps", "batch_size")) < 0.05
    assert abs(s["lr x batch_size"]) < 0.05


@pytest.mark.parametrize("optimizer", ["adam", "sgd_momentum"])
def test_fanova_main_effects_equal_optunas_public_evaluator(optimizer):
    """The independent reference: optuna's fANOVA through its public API (a study of one
    trial per run, ``FanovaImportanceEvaluator``) fits the same forest and must give the
    same main effects, to rounding."""
    import optuna
    from optuna.distributions import FloatDistribution
    from optuna.importance import FanovaImportanceEvaluator
    t = synthetic(lambda u: 0.5 + (u["lr"] - 0.5) * (u["batch_size"] - 0.5) + 0.1 * u["lr"] ** 2,
                  n=64, optimizer=optimizer)
    space = design.SPACES[optimizer]
    dists = {k: FloatDistribution(*importance._lo_hi(*space[k])) for k in space}
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize")
    study.add_trials([optuna.trial.create_trial(params={k: float(row[k]) for k in space}, distributions=dists,
                                                value=float(row["valid_acc"])) for _, row in t.iterrows()])
    for seed in (0, 5):
        theirs = FanovaImportanceEvaluator(n_trees=importance.N_TREES, seed=seed).evaluate(study, params=list(space))
        mine = importance.scores(t, optimizer, seed)
        assert {k: mine[k] for k in space} == pytest.approx(theirs, abs=1e-12)
        assert max(theirs.values()) > 0.1  # not a trivially flat objective


def test_fanova_sees_the_lr_batch_size_interaction():
    # a pure interaction: no main effect of either, all variance in the pair
    t = synthetic(lambda u: 0.5 + (u["lr"] - 0.5) * (u["batch_size"] - 0.5), n=128)
    s = importance.scores(t, "adam")
    # (a forest of 128 runs recovers part of it; 256 runs recover over half)
    mains = [s[k] for k in ("lr", "beta1", "beta2", "eps", "batch_size")]
    assert s["lr x batch_size"] > 0.3 and s["lr x batch_size"] > max(mains)


@pytest.mark.parametrize("optimizer", ["adam", "sgd_momentum"])
def test_the_interaction_is_the_pair_asked_for(optimizer):
    # optuna's forest orders its columns by name, not as the design space lists them
    t = synthetic(lambda u: 0.5 + (u["lr"] - 0.5) * (u["batch_size"] - 0.5), optimizer=optimizer)
    assert importance.scores(t, optimizer)["lr x batch_size"] > 0.3
    other = "momentum" if optimizer == "sgd_momentum" else "beta1"
    t = synthetic(lambda u: 0.5 + (u["lr"] - 0.5) * (u[other] - 0.5), optimizer=optimizer)
    assert importance.scores(t, optimizer)["lr x batch_size"] < 0.1


def test_design_table_reads_records_in_the_design_scale():
    final = pd.DataFrame([dict(optimizer="adam", lr=1e-3, batch_size=128, valid_acc=0.9,
                               hparams="beta1=0.9,beta2=0.999,eps=1e-08,weight_decay=0.0")])
    [row] = importance.design_table(final, "adam").to_dict("records")
    assert row["lr"] == pytest.approx(-3) and row["batch_size"] == pytest.approx(7)
    assert row["beta2"] == pytest.approx(-3) and row["eps"] == pytest.approx(-8)
    assert row["beta1"] == 0.9 and row["valid_acc"] == 0.9


def test_bootstrap_interval_holds_the_point_estimate():
    t = synthetic(lambda u: 0.9 - 0.5 * (u["lr"] - 0.5) ** 2, n=32)
    b = importance.bootstrap(t, "adam", reps=4).set_index("term")
    assert b.loc["lr", "lo"] <= b.loc["lr", "share"] <= b.loc["lr", "hi"] or math.isclose(
        b.loc["lr", "share"], b.loc["lr", "hi"], rel_tol=0.05)
    assert b.loc["lr", "lo"] > 0.3 and (b["n_runs"] == 32).all()
    others = ["beta1", "beta2", "eps", "batch_size"]
    assert b.loc["lr", "lo"] > b.loc[others, "hi"].max()  # lr stands apart
    # the sums are paired per draw: the lead's interval is that of lr minus the largest other
    assert 0 < b.loc[importance.LR_LEAD, "lo"] <= b.loc["lr", "lo"]
    assert b.loc[importance.BETAS, "share"] == pytest.approx(b.loc["beta1", "share"] + b.loc["beta2", "share"])
    assert b.loc[importance.OTHERS, "share"] == pytest.approx(b.loc[["beta1", "beta2", "eps"], "share"].sum())


def test_design_command_trains_each_point_once_and_refuses_a_bad_size(tmp_path, small_data, capsys):
    from lrsweep.cli import main
    args = ["design", "mnist_logreg", "--n", "2", "--epochs", "1", "--results", str(tmp_path),
            "--executor", "inprocess", "--quiet"]
    assert main(args) == 0
    stored = sorted(tmp_path.glob("mnist_logreg/*.json"))
    assert len(stored) == 2
    assert main(args) == 0 and sorted(tmp_path.glob("mnist_logreg/*.json")) == stored  # resumes
    assert main([*args[:2], "--n", "3", *args[4:]]) == 2
    assert "n must be a power of 2" in capsys.readouterr().err


def test_stored_importance_is_reused_only_for_the_same_runs(tmp_path, monkeypatch):
    t = synthetic(lambda u: 0.9 - 0.5 * (u["lr"] - 0.5) ** 2, n=16)
    path = tmp_path / "imp.json"
    first = importance.stored(t, "adam", path, reps=2)
    calls = []
    real = importance.bootstrap
    monkeypatch.setattr(importance, "bootstrap", lambda *a, **k: calls.append(1) or real(*a, **k))
    pd.testing.assert_frame_equal(importance.stored(t, "adam", path, reps=2), first)
    assert calls == []  # read back, not refitted
    changed = t.assign(valid_acc=t["valid_acc"] + np.linspace(0, 0.01, len(t)))
    importance.stored(changed, "adam", path, reps=2)
    assert calls == [1]  # other runs: computed again
    importance.stored(changed, "adam", path, reps=3)
    assert calls == [1, 1]  # other settings too


def test_the_designs_section_shows_stored_designs_and_the_progress_of_others(tmp_path, small_data):
    from dataclasses import replace

    from lrsweep.store import paths
    from lrsweep.study import registry
    designs = replace(registry.PUBLISHED, sobol=design.SobolDesigns({("mnist_logreg", "adam"): (8, 1),
                                                                      ("mnist_logreg", "sgd_momentum"): (4, 1)},
                                                                     bootstrap=2))
    designs.sobol.run_of("mnist_logreg", "adam", tmp_path, executor="inprocess", quiet=True)
    from lrsweep.book.evidence import Evidence
    text, values = beyond_page.importance_section(Evidence(tmp_path, designs=designs), tmp_path / "fig")
    assert "Adam on mnist_logreg (1 of 4 runs)" not in values["designs_pending"]
    assert "SGD-momentum on mnist_logreg (0 of 4 runs)" in values["designs_pending"]
    assert "over 8 Sobol points of Adam's space trained for 1 epochs" in values["importance_sentence"]
    assert "beta1, beta2 and eps together" in values["importance_sentence"]
    assert "fig-importance" in text and (tmp_path / "fig" / "fig-importance.svg").is_file()
    # not the published store: its importance is kept out of data/
    assert not (paths.ROOT / "data" / "importance" / "mnist_logreg-adam.json").exists()


def test_near_the_tuned_lr_the_flat_top_leaves_the_variance_to_the_others():
    # accuracy falls steeply away from lr = 1e-3 and is flat within a decade of it, where
    # only beta1 moves it: over the whole box lr explains nearly all, near 1e-3 beta1 does
    def objective(u):
        lr = -5 + 4 * u["lr"]  # log10, as the box spans it
        return 0.9 - 0.2 * max(0.0, abs(lr + 3) - 0.5) ** 2 + 0.01 * u["beta1"]
    t = synthetic(objective, n=256)
    window, box = importance.near(t, 1e-3)
    assert box == {"lr": (pytest.approx(-3.5), pytest.approx(-2.5))}
    assert window["lr"].between(-3.5, -2.5).all()
    assert len(window) == (t["lr"] - (-3)).abs().le(0.5).sum() > importance.MIN_NEAR
    assert importance.scores(t, "adam")["lr"] > 0.8
    near = importance.scores(window, "adam", box=box)
    assert near["beta1"] > 0.8 and near["lr"] < 0.05
    with pytest.raises(ValueError, match="outside"):  # the narrowed box refuses the rest
        importance.scores(t, "adam", box=box)


def test_the_near_analysis_keys_its_cache_by_the_box_and_says_when_too_few_runs(tmp_path, monkeypatch):
    t = synthetic(lambda u: 0.9 - 0.5 * (u["lr"] - 0.5) ** 2, n=16)
    window, box = importance.near(t, 1e-3)
    assert importance._what(window, "adam", 2, 0.95, 0, box) != importance._what(window, "adam", 2, 0.95, 0)
    monkeypatch.setattr(importance, "_tables", lambda *a, **k: ([("p", "adam", 5, t)], {}))
    monkeypatch.setattr(importance, "_cache_dir", lambda _: tmp_path)
    small = design.SobolDesigns({}, bootstrap=2)
    rows = importance.of_designs(small, tuned={("p", "adam"): 1e-3})[2]
    assert len(rows) == 1 and rows["term"].isna().all() and rows["n_runs"].iloc[0] == len(window)
    assert rows["sd"].iloc[0] == pytest.approx(window["valid_acc"].std())
    assert f"fewer than the {importance.MIN_NEAR}" in beyond_page.near_sentence(rows)
    assert importance.of_designs(small, tuned={})[2] is None  # no tuned lr: nothing to centre on


def test_the_importance_is_summarised_in_one_sentence_elsewhere():
    """The first page and the synthesis give the designs' result in one sentence (the full
    account is on the Beyond page): the range of the lr's share and of the others'."""
    shares = pd.DataFrame({"problem": ["a", "a", "b", "b"], "optimizer": ["adam"] * 4,
                           "term": ["lr", importance.OTHERS] * 2, "share": [0.72, 0.004, 0.98, 0.05]})
    text = beyond_summary.importance_short(shares, {})
    assert text == ("In 2 designs that vary every hyperparameter at once, the learning rate explains "
                    "72% to 98% of the variance of the final validation accuracy, the optimizer's "
                    "other hyperparameters together 0% to 5%.")
    assert text.count(".") == 1
    assert beyond_summary.importance_short(None, {}).startswith("No design over the hyperparameters")

import math

import numpy as np
import pandas as pd
import pytest

from lrsweep import analysis, report


def table(rows):
    """Tidy rows from (optimizer, lr, seed, epoch, status, valid_acc, test_acc)."""
    out = []
    for opt, lr, seed, epoch, status, va, ta in rows:
        out.append(dict(problem="p", optimizer=opt, hparams="h", lr=lr, seed=seed, epoch=epoch,
                        status=status, train_loss=1.0, train_acc=va, valid_loss=1.0,
                        valid_acc=va, test_loss=1.0, test_acc=ta, chance_acc=0.1,
                        run_id=f"{opt}{lr}{seed}"))
    return pd.DataFrame(out)


def test_final_epoch_counts_divergence_at_chance():
    t = table([("adam", 1.0, 0, 0, "diverged", 0.3, 0.3), ("adam", 1e-3, 0, 0, "ok", 0.1, 0.1),
               ("adam", 1e-3, 0, 1, "ok", 0.9, 0.88)])
    f = analysis.final_epoch(t).set_index("lr")
    assert f.loc[1.0, "test_acc"] == 0.1 and f.loc[1.0, "diverged"] and math.isnan(f.loc[1.0, "test_loss"])
    assert f.loc[1e-3, "test_acc"] == 0.88 and f.loc[1e-3, "epoch"] == 1


def test_lr_is_selected_on_validation_not_test():
    t = table([("adam", 1e-3, s, 1, "ok", 0.90, 0.95) for s in range(3)] +
              [("adam", 1e-2, s, 1, "ok", 0.92, 0.91) for s in range(3)])
    [row] = analysis.summary(analysis.final_epoch(t)).to_dict("records")
    assert row["best_lr"] == 1e-2
    assert row["acc_tuned"] == pytest.approx(0.91) and row["acc_default"] == pytest.approx(0.95)
    assert row["regret"] == pytest.approx(-0.04)


def test_regret_ci_brackets_the_estimate_and_reflects_seed_noise():
    rng = np.random.default_rng(0)
    rows = []
    for s in range(8):
        noise = rng.normal(0, 0.01)
        rows += [("adam", 1e-3, s, 1, "ok", 0.90 + noise, 0.90 + noise),
                 ("adam", 1e-2, s, 1, "ok", 0.93 + noise, 0.93 + rng.normal(0, 0.01))]
    [row] = analysis.summary(analysis.final_epoch(table(rows))).to_dict("records")
    assert row["regret_lo"] <= row["regret"] <= row["regret_hi"]
    assert 0.0 < row["regret_lo"] and row["regret_hi"] < 0.06
    assert row["n_seeds"] == 8


def test_regret_is_against_each_optimizers_own_default():
    """Prodigy's lr is a multiplier whose default is 1.0, Adam's default is 0.001."""
    rows = []
    for opt in ("adam", "prodigy"):
        rows += [(opt, 1e-3, 0, 1, "ok", 0.90, 0.90), (opt, 1.0, 0, 1, "ok", 0.80, 0.80),
                 (opt, 1e-2, 0, 1, "ok", 0.95, 0.95)]
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
    assert report.fmt_pct(row["acc_default"]) == "n/a"
    assert report.fmt_ci(row["regret_lo"], row["regret_hi"]) == "n/a (one seed)"


def test_formatting():
    assert report.fmt_lr(0.000316) == "0.000316" and report.fmt_lr(1e-05) == "1e-05"
    assert report.fmt_pct(0.97834) == "97.83%" and report.fmt_pp(-0.0123) == "-1.23 pp"


def test_figure_files_for_download_are_deterministic(tmp_path):
    import matplotlib.pyplot as plt

    from lrsweep import figures
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

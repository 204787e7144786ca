"""The LR range test: the ramp, the pick rule on a curve whose answer is known, and a real
short test on the engine."""
import numpy as np
import pytest

from lrsweep.engine import range_test


def test_pick_is_a_tenth_of_the_lr_at_the_smoothed_minimum():
    lrs = [range_test.lr_at(i, 200) for i in range(200)]
    assert lrs[0] == pytest.approx(range_test.START) and lrs[-1] == pytest.approx(range_test.END)
    assert np.allclose(np.diff(np.log(lrs)), np.log(lrs[1] / lrs[0]))  # exponential
    # a loss falling until lr = 1e-2 and climbing after it
    losses = [2.3 - np.log10(lr / 1e-7) / 5 if lr <= 1e-2 else 1.3 + 3 * np.log10(lr / 1e-2) for lr in lrs]
    picked = range_test.pick(lrs, losses)
    # the moving average lags: the smoothed minimum sits a little after 1e-2
    assert 1e-3 <= picked <= 3e-3


def test_range_test_on_the_engine(small_data, tmp_path):
    first = range_test.stored("mnist_logreg", "adam", 0, tmp_path)
    assert (tmp_path / "mnist_logreg" / "adam-seed0.json").is_file()
    lrs, losses = first["lrs"], first["losses"]
    assert 50 < len(lrs) <= range_test.STEPS and lrs == sorted(lrs)
    assert min(losses[:20]) < losses[0]  # it learns on the way up
    assert lrs[0] <= first["picked_lr"] <= lrs[-1] / 10 * 1.0001
    again = range_test.run("mnist_logreg", "adam", 0)
    assert again["losses"] == losses  # same seed, same batches, same numbers
    assert range_test.stored("mnist_logreg", "adam", 0, tmp_path)["picked_lr"] == first["picked_lr"]

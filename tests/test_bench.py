import pytest
import torch

from lrsweep.engine import augment, data, problems
from lrsweep.bench import baseline_loop, measure
from lrsweep.book import compute_page, costs


def test_tutorial_dataset_yields_the_engine_images():
    s = data.load("mnist")
    ds = baseline_loop.PILImages(s.test[0][:5], s.test[1][:5], train=False, cifar=False)
    x, y = ds[3]
    assert x.shape == (1, 28, 28) and y == s.test[1][3].item()
    assert torch.allclose(x * 0.3081 + 0.1307, s.test[0][3], atol=1e-6)


def test_tutorial_cifar_crop_and_standardisation():
    x = torch.rand(4, 3, 32, 32)
    ds = baseline_loop.PILImages(x, torch.zeros(4, dtype=torch.long), train=False, cifar=True)
    img, _ = ds[0]
    expect = augment.per_image_standardize(((x[:1] * 255).round() / 255))[0]
    assert torch.allclose(img, expect, atol=1e-5)
    train_img, _ = baseline_loop.PILImages(x, torch.zeros(4, dtype=torch.long), train=True, cifar=True)[0]
    assert train_img.shape == (3, 32, 32)


def test_bench_quick_reports_ratios(tmp_path):
    result = measure.run(quick=True, names=["mnist_mlp"], sweeps=False)
    [row] = result["problems"]
    assert result["peak_gflops"] > 0 and row["engine_ex_s"] > 0 and row["tutorial_ex_s"] > 0
    assert row["engine_ex_s"] == max(row["engine_samples"]) and len(row["tutorial_samples"]) == 1
    assert 0 < row["mfu"] < 1.1  # FLOPs per example not overstated (10% for noise in the peak)
    assert row["members"] == 1  # a CPU trains one run at a time
    text = measure.table(result)
    assert "mnist_mlp" in text and "MFU" in text
    # the compute appendix reads the same structure
    assert compute_page.bench_numbers(result)["bench_threads"] == str(result["threads"])


def test_sweep_floor_scales_with_work_and_peak():
    one = measure.floor_seconds("mnist_mlp", 1, 1, peak_gflops=100.0)
    assert measure.floor_seconds("mnist_mlp", 4, 2, peak_gflops=100.0) == pytest.approx(8 * one)
    assert measure.floor_seconds("mnist_mlp", 1, 1, peak_gflops=200.0) == pytest.approx(one / 2)
    # 49,920 examples (390 full batches) of the MLP's training FLOPs
    assert one == pytest.approx(49_920 * problems.train_flops(problems.get("mnist_mlp")) / 100e9)


def test_quick_run_never_replaces_the_published_bench(tmp_path, monkeypatch):
    published = compute_page.load_bench(measure.DEFAULT_OUT)
    monkeypatch.setattr(measure, "run", lambda quick: {**published, "quick": quick})
    monkeypatch.setattr(measure, "DEFAULT_OUT", tmp_path / "bench.json")
    monkeypatch.setattr(measure, "QUICK_OUT", tmp_path / "quick.json")
    measure.main(quick=True, out=None)
    assert not (tmp_path / "bench.json").exists()
    assert compute_page.load_bench(tmp_path / "quick.json")["quick"] is True


def test_engine_throughput_of_batched_members_counts_every_member(monkeypatch):
    """How a GPU is benchmarked (several lrs at once): every member's examples count, and
    the group's wall time is the sum of its members' shares. Timed by a fake clock here,
    since two measured throughputs on a shared machine cannot be compared reliably."""
    from lrsweep.engine import batched, train
    from lrsweep.store import records
    monkeypatch.setattr(train, "train_run", lambda cfg, epochs, device, splits: records.Outcome(wall_time_s=2.0))
    monkeypatch.setattr(batched, "train_group", lambda cfgs, epochs, device, splits: [
        records.Outcome(wall_time_s=2.0 / len(cfgs)) for _ in cfgs])
    one = measure.engine_throughput("mnist_logreg", 20, members=1, device=torch.device("cpu"))
    four = measure.engine_throughput("mnist_logreg", 20, members=4, device=torch.device("cpu"))
    assert one == 20 * problems.get("mnist_logreg").batch_size / 2.0
    assert four == 4 * one


def test_compute_counts_each_run_in_the_chapter_that_uses_it():
    from lrsweep.store import optim
    adam = optim.get("adam").defaults
    base = dict(problem="fmnist_mlp", optimizer="adam", lr=1e-3, seed=0, batch_size=128, hparams=dict(adam))
    assert costs.chapter_of(base) == "fmnist"  # the study's grid at the defaults
    assert costs.chapter_of({**base, "problem": "mnist_mlp"}) == "mnist"
    for other in ({"optimizer": "prodigy", "lr": 1.0, "hparams": optim.get("prodigy").defaults},
                  {"lr": 2.1e-3},  # the range test's pick
                  {"batch_size": 32},  # the batch-size sweep
                  {"hparams": {**adam, "beta1": 0.5}},  # a design point
                  {"schedule": "cosine:20"}):
        assert costs.chapter_of({**base, **other}) == "beyond", other

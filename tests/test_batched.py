"""Batched members must give the numbers of one-at-a-time training (torch.optim)."""
import pytest
import torch

from lrsweep import batched, data, train
from lrsweep.sweep import SweepSpec

from conftest import small_splits


@pytest.fixture
def twenty_steps(monkeypatch):
    """One epoch = 20 steps of batch 128 on real MNIST images."""
    cut = small_splits("mnist", n_train=20 * 128, n_eval=512)
    monkeypatch.setattr(data, "load", lambda name: cut)
    train.device_splits.cache_clear()
    yield
    train.device_splits.cache_clear()


def configs(optimizer, lrs_seeds, problem="mnist_mlp", **settings):
    out = []
    for lr, seed in lrs_seeds:
        out += SweepSpec([problem], [optimizer], [lr], [seed], 1, settings).configs()
    return out


def assert_close(a, b, rel=2e-5):
    assert a.status == b.status and a.curves["epoch"] == b.curves["epoch"]
    for k in ("train_loss", "valid_loss", "test_loss"):
        assert a.curves[k] == pytest.approx(b.curves[k], rel=rel, abs=1e-6), k
    for k in ("train_acc", "valid_acc", "test_acc"):  # an argmax may flip on one image
        assert a.curves[k] == pytest.approx(b.curves[k], abs=2 / 512), k


@pytest.mark.parametrize("optimizer, settings", [
    ("adam", {}), ("adamw", {}), ("adam", {"weight_decay": 1e-3}), ("sgd", {}),
    ("sgd_momentum", {}), ("sgd_momentum", {"nesterov": True, "weight_decay": 1e-4}),
])
def test_batched_members_equal_one_at_a_time(twenty_steps, optimizer, settings):
    cfgs = configs(optimizer, [(1e-3, 0), (1e-2, 0), (3e-3, 1), (1e-4, 2)], **settings)
    together = batched.train_group(cfgs, epochs=1)
    for cfg, res in zip(cfgs, together):
        assert_close(res, train.train_run(cfg, epochs=1))
    # and they really trained
    assert together[1].curves["train_loss"][1] < together[1].curves["train_loss"][0]


@pytest.mark.parametrize("problem, dataset", [("mnist_2c2d", "mnist"), ("cifar10_3c3d", "cifar10_jpeg")])
def test_batched_conv_nets_equal_one_at_a_time(monkeypatch, problem, dataset):
    """Convolutions (and, for 3c3d, L2 and augmentation). A stacked convolution runs another
    kernel, and Adam's normalisation amplifies the changed reduction order: plain training
    with 1 vs 2 threads already differs by ~3e-3 after these 20 steps. A wrong update, batch
    or augmentation order would differ by far more."""
    cut = small_splits(dataset, n_train=20 * 128, n_eval=512)
    monkeypatch.setattr(data, "load", lambda name: cut)
    train.device_splits.cache_clear()
    torch.set_num_threads(1)
    cfgs = configs("adam", [(1e-3, 0), (1e-4, 1)], problem=problem)
    for cfg, res in zip(cfgs, batched.train_group(cfgs, epochs=1)):
        assert_close(res, train.train_run(cfg, epochs=1), rel=2e-3)
    train.device_splits.cache_clear()


def test_divergent_member_is_dropped_and_the_others_go_on(twenty_steps):
    cfgs = configs("sgd_momentum", [(1e-2, 0), (1e4, 0), (3e-2, 1)])
    res = batched.train_group(cfgs, epochs=2)
    assert res[1].status == "diverged" and res[1].diverged_epoch == 1
    assert res[1].curves["epoch"] == [0]
    for i in (0, 2):
        assert res[i].status == "ok" and res[i].curves["epoch"] == [0, 1, 2]
        assert_close(res[i], train.train_run(cfgs[i], epochs=2))


def test_group_must_share_everything_but_lr_and_seed():
    cfgs = configs("adam", [(1e-3, 0)]) + configs("sgd", [(1e-3, 0)])
    with pytest.raises(ValueError, match="not one batchable group"):
        batched.train_group(cfgs, 1)
    assert not batched.supported(configs("prodigy", [(1.0, 0)])[0])


def test_gpu_groups_are_sized_to_the_free_memory():
    [cfg] = configs("adam", [(1e-3, 0)], problem="cifar10_3c3d")
    gpu = torch.device("cuda")
    assert batched.max_members(cfg, torch.device("cpu")) is None
    one = batched.max_members(cfg, gpu, free_bytes=10**9)
    assert 1 <= one and batched.max_members(cfg, gpu, free_bytes=10**11) >= 99 * one
    assert batched.max_members(cfg, gpu, free_bytes=1) == 1


def test_sweep_plan_on_a_gpu_batches_everything_in_memory_sized_shares(monkeypatch):
    """The GPU plan, without a GPU: every run batched, no share larger than memory allows."""
    from lrsweep import sweep
    cfgs = SweepSpec(["fmnist_2c2d"], ["adam", "sgd_momentum"], [1e-4, 1e-3, 1e-2, 1e-1],
                     [0, 1, 2], 1).configs()
    gpu, free = torch.device("cuda"), 3 * 10**9
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (free, 4 * free))
    cap = batched.max_members(cfgs[0], gpu, free_bytes=free)
    assert 1 < cap < 12  # this much memory holds some of one optimizer's 12 runs, not all
    work = sweep.tasks(cfgs, "auto", workers=1, device=gpu)
    assert sorted(c.run_id for share in work for c in share) == sorted(c.run_id for c in cfgs)
    assert all(1 < len(share) <= cap for share in work)
    assert all(len({batched.group_key(c) for c in share}) == 1 for share in work)
    # on a CPU the same conv runs are compute-bound: trained one at a time
    assert all(len(share) == 1 for share in sweep.tasks(cfgs, "auto", 2, torch.device("cpu")))


def test_problem_profile_counts_activations():
    from lrsweep import problems
    logreg = problems.get("mnist_logreg")
    # flatten (784) + linear (10)
    assert problems.activation_elements(logreg) == 784 + 10
    assert problems.forward_flops(logreg) == 2 * 784 * 10

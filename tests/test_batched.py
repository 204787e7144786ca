"""Batched members must give the numbers of one-at-a-time training (torch.optim)."""
import pytest
import torch

from lrsweep.engine import batched, data, train
from lrsweep.engine.sweep import SweepSpec

from conftest import small_splits


@pytest.fixture
def twenty_steps(monkeypatch):
    """One epoch = 20 steps of batch 128 on real MNIST images."""
    cut = small_splits("mnist", n_train=20 * 128, n_eval=512)
    monkeypatch.setattr(data, "load", lambda name: cut)
    train.device_splits.cache_clear()
    yield
    train.device_splits.cache_clear()


@pytest.fixture
def in_float64(monkeypatch):
    """Train in float64 on a cut of a real dataset: ``use(dataset, n_train, n_eval)``.

    Why float64: in float32 the two paths run different kernels, and Adam amplifies their
    rounding. After 20 MLP steps, Adam with L2 differed by rel 6e-7 on an AMD EPYC and by
    1.2e-3 on an Intel Xeon with AVX-512 (1 vs 2 threads of the reference alone: 8e-7 here).
    In float64 the paths agree to ~3e-16 on the EPYC: the update formulas, the L2 term and the
    batch and augmentation order are the same, and rounding has 2e4x amplification to go
    before it reaches the 1e-9 tolerance below, on any CPU. A real difference (L2 decoupled
    instead of added to the gradient; another batch) moves the loss by 1e-2 or more."""
    def use(dataset, n_train, n_eval):
        cut = small_splits(dataset, n_train=n_train, n_eval=n_eval)
        wide = lambda xy: (xy[0].double(), xy[1])  # noqa: E731
        monkeypatch.setattr(data, "load", lambda name: data.Splits(
            cut.dataset, cut.source, wide(cut.train), wide(cut.valid), wide(cut.test)))
        train.device_splits.cache_clear()
        torch.set_default_dtype(torch.float64)  # networks and optimizer state
    yield use
    torch.set_default_dtype(torch.float32)
    train.device_splits.cache_clear()


def configs(optimizer, lrs_seeds, problem="mnist_mlp", **settings):
    out = []
    for lr, seed in lrs_seeds:
        out += SweepSpec([problem], [optimizer], [lr], [seed], 1, settings).configs()
    return out


def assert_close(a, b, rel, acc_abs=0.0):
    assert a.status == b.status and a.curves["epoch"] == b.curves["epoch"]
    for k in ("train_loss", "valid_loss", "test_loss"):
        assert a.curves[k] == pytest.approx(b.curves[k], rel=rel, abs=0), k
    for k in ("train_acc", "valid_acc", "test_acc"):  # in float32 an argmax may flip
        assert a.curves[k] == pytest.approx(b.curves[k], abs=acc_abs), k


@pytest.mark.parametrize("optimizer, settings", [
    ("adam", {}), ("adamw", {}), ("adam", {"weight_decay": 1e-3}), ("sgd", {}),
    ("sgd_momentum", {}), ("sgd_momentum", {"nesterov": True, "weight_decay": 1e-4}),
])
def test_batched_members_equal_torch_optim_one_at_a_time(in_float64, optimizer, settings):
    """20 MLP steps (batch 32, to keep float64 cheap) per member, against torch.optim's own
    implementation."""
    in_float64("mnist", 20 * 32, 256)
    cfgs = configs(optimizer, [(1e-3, 0), (1e-2, 0), (3e-3, 1), (1e-4, 2)], batch_size=32, **settings)
    together = batched.train_group(cfgs, epochs=1)
    for cfg, res in zip(cfgs, together):
        assert_close(res, train.train_run(cfg, epochs=1), rel=1e-9)
    # and they really trained
    assert together[1].curves["train_loss"][1] < together[1].curves["train_loss"][0]


@pytest.mark.parametrize("problem, dataset", [("mnist_2c2d", "mnist"), ("cifar10_3c3d", "cifar10_jpeg")])
def test_batched_conv_nets_equal_one_at_a_time(in_float64, problem, dataset):
    """Convolutions and, for 3c3d, L2 and augmentation; 3 steps of batch 32 keep float64
    convolutions cheap."""
    in_float64(dataset, 3 * 32, 128)
    cfgs = configs("adam", [(1e-3, 0), (1e-4, 1)], problem=problem, batch_size=32)
    for cfg, res in zip(cfgs, batched.train_group(cfgs, epochs=1)):
        assert_close(res, train.train_run(cfg, epochs=1), rel=1e-9)


def test_divergent_member_is_dropped_and_the_others_go_on(twenty_steps):
    cfgs = configs("sgd_momentum", [(1e-2, 0), (1e4, 0), (3e-2, 1)])
    res = batched.train_group(cfgs, epochs=2)
    assert res[1].status == "diverged" and res[1].diverged_epoch == 1
    assert res[1].curves["epoch"] == [0]
    for i in (0, 2):
        assert res[i].status == "ok" and res[i].curves["epoch"] == [0, 1, 2]
        # float32: SGD does not amplify rounding (2e-5 held on the Intel Xeon too)
        assert_close(res[i], train.train_run(cfgs[i], epochs=2), rel=2e-5, acc_abs=2 / 512)


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
    from lrsweep.engine import executors
    cfgs = SweepSpec(["fmnist_2c2d"], ["adam", "sgd_momentum"], [1e-4, 1e-3, 1e-2, 1e-1],
                     [0, 1, 2], 1).configs()
    gpu, free = torch.device("cuda"), 3 * 10**9
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device=None: (free, 4 * free))
    cap = batched.max_members(cfgs[0], gpu, free_bytes=free)
    assert 1 < cap < 12  # this much memory holds some of one optimizer's 12 runs, not all
    work = executors.tasks(cfgs, "auto", workers=1, device=gpu)
    assert sorted(c.run_id for share in work for c in share) == sorted(c.run_id for c in cfgs)
    assert all(1 < len(share) <= cap for share in work)
    assert all(len({batched.group_key(c) for c in share}) == 1 for share in work)
    # on a CPU the same conv runs are compute-bound: trained one at a time
    assert all(len(share) == 1 for share in executors.tasks(cfgs, "auto", 2, torch.device("cpu")))


def test_problem_profile_counts_activations():
    from lrsweep.engine import problems
    logreg = problems.get("mnist_logreg")
    # flatten (784) + linear (10)
    assert problems.activation_elements(logreg) == 784 + 10
    assert problems.forward_flops(logreg) == 2 * 784 * 10

import inspect

import pytest
import torch
import torch.nn.functional as F

from lrsweep.engine import augment, optimizers, problems, train
from lrsweep.store import optim
from lrsweep.store import problems as store_problems
from lrsweep.engine.sweep import SweepSpec

# Parameter counts published with DeepOBS (Schneider et al. 2019), an independent reference.
DEEPOBS_PARAMS = {"logreg": 7_850, "mlp": 1_336_610, "2c2d": 3_274_634, "3c3d": 895_210}


@pytest.mark.parametrize("name", list(problems.PROBLEMS))
def test_problem_builds_and_trains_one_step(name):
    p = problems.get(name)
    assert problems.n_params(p) == DEEPOBS_PARAMS[name.split("_")[1]] == store_problems.get(name).params
    g = torch.Generator().manual_seed(0)
    model = p.build(g)
    x = torch.rand(8, *problems.input_shape(p))
    y = torch.arange(8) % 10
    logits = model(p.prepare(x, g))
    assert logits.shape == (8, 10)
    opt = optimizers.build("sgd", model.parameters(), 0.01, {})
    before = [q.detach().clone() for q in model.parameters()]
    (F.cross_entropy(logits, y) + p.regularizer(model)).backward()
    opt.step()
    changed = [not torch.equal(a, b) for a, b in zip(before, model.parameters())]
    assert all(changed)  # every layer gets a gradient


def test_deepobs_initialisation():
    g = lambda: torch.Generator().manual_seed(0)  # noqa: E731
    logreg = problems.get("mnist_logreg").build(g())
    assert all((q == 0).all() for q in logreg.parameters())
    mlp = problems.get("mnist_mlp").build(g())
    w = mlp[1].weight
    assert w.abs().max() <= 0.06 and abs(w.std().item() - 0.03) < 0.005  # truncated at 2 std
    conv = problems.get("fmnist_2c2d").build(g())
    assert (conv[0].bias == 0.05).all()
    assert problems.get("mnist_mlp").build(g())[1].weight.equal(w)  # same seed, same net


def test_l2_only_on_weights():
    p = problems.get("cifar10_3c3d")
    model = p.build(torch.Generator().manual_seed(0))
    expected = 0.002 * 0.5 * sum((m.weight ** 2).sum() for m in model.modules()
                                 if hasattr(m, "weight") and m.weight is not None)
    assert torch.isclose(p.regularizer(model), expected)
    assert problems.get("mnist_mlp").regularizer(model) == 0.0


def test_augmentation_is_seeded_and_standardisation_normalises():
    x = torch.rand(16, 3, 32, 32)
    a = augment.cifar_augment(x, torch.Generator().manual_seed(1))
    b = augment.cifar_augment(x, torch.Generator().manual_seed(1))
    c = augment.cifar_augment(x, torch.Generator().manual_seed(2))
    assert a.shape == x.shape and torch.equal(a, b) and not torch.equal(a, c)
    s = augment.per_image_standardize(a)
    assert torch.allclose(s.flatten(1).mean(1), torch.zeros(16), atol=1e-5)
    assert torch.allclose(s.flatten(1).std(1, unbiased=False), torch.ones(16), atol=1e-4)


def test_crop_is_a_window_of_the_padded_image_and_flip_mirrors():
    x = torch.rand(6, 3, 32, 32)
    out = augment.random_crop(x, torch.Generator().manual_seed(0), pad=2)
    padded = F.pad(x, (2, 2, 2, 2))
    offsets = set()
    for i in range(len(x)):
        hits = [(dy, dx) for dy in range(5) for dx in range(5)
                if torch.equal(out[i], padded[i, :, dy:dy + 32, dx:dx + 32])]
        assert len(hits) == 1
        offsets.add(hits[0])
    assert len(offsets) > 1  # offsets differ between images
    f = augment.random_flip(x, torch.Generator().manual_seed(0))
    for i in range(len(x)):
        assert torch.equal(f[i], x[i]) or torch.equal(f[i], x[i].flip(2))


@pytest.mark.parametrize("name", list(optim.OPTIMIZERS))
def test_every_optimizer_trains_at_its_default_lr(name, small_data):
    [cfg] = SweepSpec(["mnist_logreg"], [name], [optim.get(name).default_lr], [0], 1).configs()
    res = train.train_run(cfg, epochs=1)
    assert res.status == "ok", res.message
    assert res.curves["train_loss"][1] < res.curves["train_loss"][0]


def test_hyperparameters_reach_the_optimizer():
    model = torch.nn.Linear(2, 2)
    opt = optimizers.build("adam", model.parameters(), 0.1, {"beta2": 0.99, "eps": 1e-6})
    assert opt.param_groups[0]["betas"] == (0.9, 0.99) and opt.param_groups[0]["eps"] == 1e-6
    opt = optimizers.build("sgd_momentum", model.parameters(), 0.1, {})
    assert opt.param_groups[0]["momentum"] == 0.9
    assert optimizers.build("amsgrad", model.parameters(), 0.1, {}).param_groups[0]["amsgrad"] is True
    assert optimizers.build("adam", model.parameters(), 0.1, {}).param_groups[0]["amsgrad"] is False


@pytest.mark.parametrize("name", list(optim.OPTIMIZERS))
def test_default_lr_is_the_librarys_own(name):
    """'Not tuning' means the lr the optimizer's library picks when none is given."""
    model = torch.nn.Linear(2, 2)
    built = optimizers.build(name, model.parameters(), 0.5, {})
    library_default = inspect.signature(type(built)).parameters["lr"].default
    assert optim.get(name).default_lr == library_default


def test_conv_nets_train_in_channels_last_and_the_others_as_they_are():
    for name, layout in [("fmnist_2c2d", torch.channels_last), ("cifar10_3c3d", torch.channels_last),
                         ("mnist_mlp", torch.contiguous_format), ("mnist_logreg", torch.contiguous_format)]:
        model = problems.get(name).build(torch.Generator().manual_seed(0))
        assert train.memory_format(model) == layout, name

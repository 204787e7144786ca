import math
import subprocess
import sys

import pytest
import torch

from lrsweep.engine import train
from lrsweep.store.config import RunConfig
from lrsweep.engine.sweep import SweepSpec


def cfg(problem="mnist_mlp", optimizer="adam", lr=1e-3, seed=0, **settings):
    [c] = SweepSpec([problem], [optimizer], [lr], [seed], 1, settings).configs()
    return c


def test_training_lowers_the_loss(small_data):
    res = train.train_run(cfg(), epochs=2)
    c = res.curves
    assert res.status == "ok" and c["epoch"] == [0, 1, 2]
    assert c["train_loss"][2] < c["train_loss"][0] - 0.5
    assert c["valid_acc"][2] > c["valid_acc"][0] + 0.3


def test_same_config_gives_identical_numbers(small_data):
    a = train.train_run(cfg(lr=3e-3), epochs=1).curves
    b = train.train_run(cfg(lr=3e-3), epochs=1).curves
    assert a == b


def test_shorter_budget_is_a_prefix_of_longer(small_data):
    """Per-epoch random streams: a 1-epoch run is the first epoch of a 2-epoch run."""
    short = train.train_run(cfg(), epochs=1).curves
    long = train.train_run(cfg(), epochs=2).curves
    assert all(long[k][:2] == short[k] for k in short)


def test_seed_fixes_init_and_batch_order_across_lrs(small_data):
    """Common random numbers: at epoch 0 every lr of a seed is the same network."""
    a = train.train_run(cfg(lr=1e-4), epochs=1).curves
    b = train.train_run(cfg(lr=1e-2), epochs=1).curves
    c = train.train_run(cfg(lr=1e-4, seed=1), epochs=1).curves
    assert a["valid_loss"][0] == b["valid_loss"][0]
    assert a["valid_loss"][0] != c["valid_loss"][0]


def test_divergence_is_recorded_not_raised(small_data):
    res = train.train_run(cfg(optimizer="sgd_momentum", lr=1e4), epochs=3)
    assert res.status == "diverged" and res.diverged_epoch == 1
    assert res.curves["epoch"] == [0]
    assert res.message.startswith("minibatch loss ")


def test_logreg_starts_at_chance_loss(small_data):
    res = train.train_run(cfg(problem="mnist_logreg"), epochs=1)
    assert math.isclose(res.curves["train_loss"][0], math.log(10), rel_tol=1e-6)


def test_run_id_depends_on_every_setting_but_not_the_budget():
    base = cfg()
    assert cfg().run_id == base.run_id
    assert len({base.run_id, cfg(lr=2e-3).run_id, cfg(seed=1).run_id, cfg(beta2=0.99).run_id,
                cfg(batch_size=64).run_id, cfg(optimizer="sgd_momentum").run_id}) == 6
    assert RunConfig.from_dict(base.to_dict()) == base


ALLOC_PROBE = """
import resource, sys, torch
torch.set_num_threads(1)  # one malloc arena: what is measured is the allocator, not thread scheduling
from lrsweep.engine import allocator
if sys.argv[1] == "keep":
    assert allocator.keep_freed_memory()
w = torch.randn(784, 1000)  # mnist_mlp's largest weight
for _ in range(3):
    (w.abs().sqrt() / 2).sum()  # temporaries of its size, as in an Adam step
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    (w.abs().sqrt() / 2).sum()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc settings")
def test_allocator_setting_stops_per_step_page_faults():
    """Freed step-sized blocks are reused instead of being faulted in again every time."""
    def faults(mode):
        out = subprocess.run([sys.executable, "-c", ALLOC_PROBE, mode], check=True,
                             capture_output=True, text=True)
        return int(out.stdout)
    # glibc's dynamic mmap threshold makes the default vary from run to run (0 to 45,000
    # faults here): look for the faults a few times; with the setting there are none
    tries = [faults("default")]
    while max(tries) < 1000 and len(tries) < 4:
        tries.append(faults("default"))
    if max(tries) < 1000:
        pytest.skip(f"this allocator already reuses the blocks ({tries} faults)")
    # (the least of a few: the kernel's own reclaim, e.g. DAMON under load, can fault pages
    # back in now and then; an allocator that frees every step faults every time)
    assert min(faults("keep") for _ in range(3)) < max(tries) / 20


def test_training_is_full_fp32_on_every_device(small_data):
    """CUDA's default would run convolutions in TF32; records must stay comparable."""
    import torch
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = True
    train.train_run(cfg(problem="mnist_logreg"), epochs=1)
    assert not torch.backends.cudnn.allow_tf32 and not torch.backends.cuda.matmul.allow_tf32


def test_cosine_schedule_is_its_own_config_and_anneals_the_lr(small_data, monkeypatch):
    """Adding the schedule kept every constant-lr run id (the published records still
    hash to their file names); a cosine run names its budget and decays to zero."""
    from lrsweep.store import paths, records
    for path in sorted(paths.PUBLISHED_RUNS.glob("*/*.json"))[:20]:
        assert records.read(path) is not None  # the config re-hashes to the file name
    constant, cosine = cfg(), cfg(schedule="cosine")
    assert constant.schedule == "constant" and "schedule" not in constant.to_dict()
    assert cosine.schedule == "cosine:1" and cosine.run_id != constant.run_id
    assert RunConfig.from_dict(cosine.to_dict()) == cosine
    assert "schedule=cosine:1" in cosine.hparams_label() and constant.hparams_label() == "beta1=0.9,beta2=0.999,eps=1e-08,weight_decay=0.0"
    assert [round(cosine.lr_factor(s, 4), 6) for s in (0, 2, 4)] == [1.0, 0.5, 0.0]
    seen = []
    real_step = torch.optim.Adam.step
    monkeypatch.setattr(torch.optim.Adam, "step", lambda self, *a, **k: (
        seen.append(self.param_groups[0]["lr"]), real_step(self, *a, **k))[1])
    res = train.train_run(cosine, epochs=1)
    assert res.status == "ok" and seen[0] == pytest.approx(1e-3) and seen[-1] < 1e-4
    assert all(a >= b for a, b in zip(seen, seen[1:]))  # monotone decay
    from lrsweep import UsageError
    with pytest.raises(UsageError, match="unknown schedule 'linear'"):
        cfg(schedule="linear")


def test_a_run_resumed_from_its_checkpoint_equals_one_trained_straight_through(small_data, tmp_path,
                                                                               monkeypatch):
    """Killed after epoch 2 of 3 (its checkpoint left behind), the run resumes there and ends
    bit for bit where an uninterrupted run ends, its predictions included; the record says
    it was resumed."""
    from lrsweep.engine import checkpoint, executors
    monkeypatch.setenv("LRSWEEP_DATA", str(tmp_path))
    c = cfg(problem="mnist_mlp", optimizer="adam", lr=1e-3)
    straight = train.train_run(c, 3)
    assert not checkpoint.path(c).exists()  # off unless asked for
    train.train_run(c, 2, checkpoints=True)
    assert checkpoint.path(c).exists()
    [rec] = executors.execute([c], 3)  # a sweep's run, with checkpoints
    assert rec["curves"] == straight.curves
    assert rec["predictions"]["test_correct"] == straight.test_correct
    assert rec["provenance"]["resumed_at_epochs"] == [2]
    # a checkpoint past the budget asked for, or of other data, is not used
    assert checkpoint.load(c, straight.data, 1) is None
    assert checkpoint.load(c, {**straight.data, "source": "elsewhere"}, 3) is None
    # the driver drops a checkpoint once the run's record is stored
    train.train_run(c, 1, checkpoints=True)
    from lrsweep.engine.sweep import run_sweep
    run_sweep(SweepSpec(["mnist_mlp"], ["adam"], [1e-3], [0], 2), tmp_path / "runs",
              executor="inprocess", batching="never", quiet=True)
    assert not checkpoint.path(c).exists()

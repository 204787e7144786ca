import json

import pytest

from lrsweep.engine import executors
from lrsweep.store import records
from lrsweep.store.config import RunConfig
from lrsweep.errors import UsageError
from lrsweep.engine.sweep import SweepSpec, run_sweep

SPEC = dict(problems=["mnist_logreg"], optimizers=["adam", "sgd_momentum"], lrs=[1e-3, 1e-1],
            seeds=[0], epochs=1)


@pytest.fixture
def count_training(monkeypatch):
    """Every config that gets trained, whether alone or as a batched member."""
    calls = []
    real = executors.execute

    def counting(cfgs, epochs, *args, **kw):
        calls.extend((cfg, epochs) for cfg in cfgs)
        return real(cfgs, epochs, *args, **kw)
    monkeypatch.setattr(executors, "execute", counting)
    return calls


def test_records_round_trip_and_second_sweep_trains_nothing(tmp_path, small_data, count_training):
    first = run_sweep(SweepSpec(**SPEC), tmp_path, executor="inprocess", quiet=True)
    assert len(count_training) == 4
    files = sorted(tmp_path.glob("*/*.json"))
    assert len(files) == 4 and not list(tmp_path.rglob("*.tmp"))
    rec = json.loads(files[0].read_text())
    assert rec["run_id"] == files[0].stem and rec["schema"] == records.SCHEMA
    assert {"git", "packages", "cpu", "threads", "device"} <= set(rec["provenance"])
    assert rec["data"]["checksums"] and rec["wall_time_s"] > 0
    assert rec["budget"] == 1 and rec["engine"]["lr_schedule"] == "constant"
    assert rec["engine"]["divergence"]["factor"] > 1 and rec["engine"]["version"] >= 1

    again = run_sweep(SweepSpec(**SPEC), tmp_path, executor="inprocess", quiet=True)
    assert len(count_training) == 4  # nothing retrained
    assert again.equals(first)
    loaded = records.tidy(records.load_all(tmp_path))
    assert loaded.equals(first)


def test_tidy_table_columns_and_epoch_zero(tmp_path, small_data):
    table = run_sweep(SweepSpec(**SPEC), tmp_path, executor="inprocess", quiet=True)
    for col in ["problem", "optimizer", "lr", "seed", "epoch", "status", "train_loss",
                "valid_loss", "valid_acc", "test_loss", "test_acc"]:
        assert col in table.columns
    assert sorted(table.epoch.unique()) == [0, 1] and len(table) == 8


def test_longer_record_serves_shorter_budget(tmp_path, small_data, count_training):
    run_sweep(SweepSpec(**{**SPEC, "epochs": 2}), tmp_path, executor="inprocess", quiet=True)
    assert len(count_training) == 4
    short = run_sweep(SweepSpec(**SPEC), tmp_path, executor="inprocess", quiet=True)
    assert len(count_training) == 4 and short.epoch.max() == 1
    # and a shorter record never replaces a longer one
    rec = records.load_all(tmp_path)[0]
    cut = {**rec, "epochs": 1, "curves": {k: v[:2] for k, v in rec["curves"].items()}}
    records.write(tmp_path, cut)
    assert records.read(records.path_for(tmp_path, RunConfig.from_dict(rec["config"])))["epochs"] == 2


def test_several_specs_run_as_one_sweep(tmp_path, small_data, count_training):
    """A grid over Adam's eps, with a shared lr grid: one sweep, each run trained once."""
    base = dict(problems=["mnist_logreg"], optimizers=["adam"], lrs=[1e-3, 1e-2], seeds=[0],
                epochs=1)
    specs = [SweepSpec(**base, settings={"eps": eps}) for eps in (1e-8, 1e-3)]
    table = run_sweep(specs + specs[:1], tmp_path, executor="inprocess", quiet=True)
    assert len(count_training) == 4
    assert table.groupby("hparams")["run_id"].nunique().tolist() == [2, 2]
    run_sweep(specs[1], tmp_path, executor="inprocess", quiet=True)
    assert len(count_training) == 4  # every run of the second spec is stored already
    with pytest.raises(UsageError, match="one epoch budget"):
        run_sweep([specs[0], SweepSpec(**{**base, "epochs": 2})], tmp_path, quiet=True)
    with pytest.raises(UsageError, match="non-empty list"):
        run_sweep([], tmp_path, quiet=True)


def test_failed_runs_are_retried(tmp_path, small_data):
    [cfg] = SweepSpec(["mnist_logreg"], ["adam"], [1e-3], [0], 1).configs()
    outcome = records.Outcome()
    outcome.fail(RuntimeError("boom"))
    rec = records.make(cfg, outcome, budget=1, engine={}, provenance={})
    records.write(tmp_path, rec)
    assert records.lookup(tmp_path, cfg, 1) is None
    run_sweep(SweepSpec(["mnist_logreg"], ["adam"], [1e-3], [0], 1), tmp_path, quiet=True)
    assert records.lookup(tmp_path, cfg, 1)["status"] == "ok"


def test_a_damaged_record_is_an_error_that_names_the_file(tmp_path, small_data, count_training):
    """Cut, foreign or renamed files are reported with a way to recover, never dropped
    from a table or silently retrained."""
    run_sweep(SweepSpec(**SPEC), tmp_path, executor="inprocess", quiet=True)
    [path, *_] = sorted(tmp_path.glob("*/*.json"))
    whole = path.read_text()
    damages = {"not readable as JSON": whole[:300], "schema 999": json.dumps({"schema": 999}),
               "hashes to": whole.replace('"seed": 0', '"seed": 7')}
    for why, text in damages.items():
        path.write_text(text)
        for attempt in (lambda: records.load_all(tmp_path),
                        lambda: run_sweep(SweepSpec(**SPEC), tmp_path, quiet=True)):
            with pytest.raises(records.DamagedRecord, match=why) as err:
                attempt()
            assert str(path) in str(err.value) and "git checkout" in str(err.value)
    assert len(count_training) == 4  # nothing was retrained
    assert path.read_text() == damages["hashes to"]  # nor rewritten


def test_provenance_names_the_commit_of_this_checkout_or_of_a_copy(tmp_path, monkeypatch):
    from lrsweep.store import paths
    from lrsweep.engine import provenance
    here = provenance.git_state()
    assert len(here["commit"]) == 40 and isinstance(here["src_dirty"], bool)
    # a copy without .git (a cluster node, a rented GPU): unknown unless told
    monkeypatch.setattr(paths, "ROOT", tmp_path)
    monkeypatch.delenv("LRSWEEP_COMMIT", raising=False)
    assert provenance.git_state() == {"commit": None, "src_dirty": None}
    monkeypatch.setenv("LRSWEEP_COMMIT", here["commit"])
    assert provenance.git_state() == {"commit": here["commit"], "src_dirty": None}


def test_reading_only_refuses_to_train_what_is_missing(tmp_path, small_data, count_training):
    """The published book reads its records (train_missing=False): a missing run is an
    error that says how to recover, and nothing is trained or written."""
    run_sweep(SweepSpec(**SPEC), tmp_path, executor="inprocess", quiet=True)
    gone = SweepSpec(**{**SPEC, "optimizers": ["adam"], "lrs": [1e-1]}).configs()[0]
    path = records.path_for(tmp_path, gone)
    path.unlink()
    with pytest.raises(UsageError, match=r"1 run\(s\) of this study are not stored") as err:
        run_sweep(SweepSpec(**SPEC), tmp_path, train_missing=False, quiet=True)
    assert "git checkout" in str(err.value) and len(count_training) == 4
    assert not path.exists()
    stored = run_sweep(SweepSpec(**{**SPEC, "lrs": [1e-3]}), tmp_path, train_missing=False, quiet=True)
    assert len(stored) == 2 * 2  # what is stored still reads: 2 runs x epochs 0 and 1


def test_the_published_book_never_trains_and_a_variant_may():
    from lrsweep.book import build
    from lrsweep.store import paths
    mnist = paths.ROOT / "chapters" / "mnist.ipynb"
    published = build.book_parameters(mnist, paths.ROOT / "fig", variant=False)
    assert published == {"figures_dir": str(paths.ROOT / "fig"), "train_missing": False}
    assert build.book_parameters(mnist, paths.ROOT / "fig", variant=True)["train_missing"] is True


def test_the_study_adds_seeds_at_the_default_the_best_lrs_and_the_tuned_lrs_neighbours(tmp_path, small_data):
    """Stage 1: the grid with one seed; stage 2: more seeds at the library default and at
    the best lrs by stage-1 validation accuracy; stage 3: the same seeds at the grid
    neighbours of the lr tuned after stage 2."""
    from dataclasses import replace

    from lrsweep.stats import analysis
    from lrsweep.study import lr_study
    grid = [1e-4, 1e-3, 1e-2, 0.1, 10.0]
    study = replace(lr_study.PUBLISHED, stage2_top=1, neighbours=("small",)).varied(
        optimizers=["adam"], lrs=grid, epochs=1)
    assert study.progress("mnist_logreg", tmp_path)[:4] == (0, 5, 1, 3)
    assert replace(study, neighbours=()).progress("mnist_logreg", tmp_path).stages == 2
    table = study.run("mnist_logreg", tmp_path, executor="inprocess", quiet=True)
    final = analysis.final_epoch(table)  # a diverged run counts at chance
    seeds = final.groupby("lr")["seed"].nunique().to_dict()
    best = final[final.seed == 0].set_index("lr")["valid_acc"].idxmax()
    stage2 = {1e-3, best}
    tuned = analysis.tuned_lr(final[final.lr.isin(stage2)])  # as stage 3 found it
    i = grid.index(tuned)
    five = stage2 | set(grid[max(i - 1, 0):i + 2])
    assert {lr for lr, n in seeds.items() if n == 5} == five
    assert all(n == 1 for lr, n in seeds.items() if lr not in five)
    with pytest.raises(UsageError, match="not in the published study"):
        lr_study.PUBLISHED.budget("cifar10_3c3d_official")
    n = table["run_id"].nunique()
    assert n == 5 + 4 * len(five) and study.progress("mnist_logreg", tmp_path).complete

    # the published book reads a study still running as progress, and trains nothing
    stage2_run = final[(final.seed == 3) & (final.lr == 1e-3)]["run_id"].iloc[0]
    (tmp_path / "mnist_logreg" / f"{stage2_run}.json").unlink()
    k = 5 + 4 * len(stage2)  # stage 3 is planned again once stage 2 is whole
    assert study.progress("mnist_logreg", tmp_path)[:4] == (k - 1, k, 2, 3)
    stored, running = study.stored(["mnist_logreg"], tmp_path, train_missing=False)
    assert stored is None and running == {"mnist_logreg": study.progress("mnist_logreg", tmp_path)}
    assert not running["mnist_logreg"].complete
    assert len(list(tmp_path.glob("mnist_logreg/*.json"))) == n - 1


def test_writers_racing_on_one_file_both_finish_and_leave_it_whole(tmp_path):
    # two workers decoding the same dataset at once: both inside the write before either moves it
    import threading

    from lrsweep.store.paths import atomic_file
    target, both_open, errors = tmp_path / "cache" / "decoded.npz", threading.Barrier(2), []

    def write(byte):
        try:
            with atomic_file(target, "wb") as fh:
                fh.write(byte * 1000)
                both_open.wait(timeout=10)
        except Exception as e:  # noqa: BLE001 - the test reports it below
            errors.append(e)
    threads = [threading.Thread(target=write, args=(b,)) for b in (b"a", b"b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert target.read_bytes() in (b"a" * 1000, b"b" * 1000)
    assert [p.name for p in target.parent.iterdir()] == [target.name]  # no temporary left

    with pytest.raises(RuntimeError), atomic_file(target, "wb") as fh:  # a failed write changes nothing
        fh.write(b"half")
        raise RuntimeError("interrupted")
    assert target.read_bytes() in (b"a" * 1000, b"b" * 1000)
    assert [p.name for p in target.parent.iterdir()] == [target.name]


def test_records_carry_each_test_examples_correctness_for_every_epoch(tmp_path, small_data):
    """Schema 3: the packed bits say, per evaluated epoch, which test examples the run got
    right; they agree with its test accuracy and are read back without torch."""
    run_sweep(SweepSpec(**{**SPEC, "epochs": 2}), tmp_path, executor="inprocess", quiet=True)
    for rec in records.load_all(tmp_path):
        assert records.has_predictions(rec)
        for epoch, acc in zip(rec["curves"]["epoch"], rec["curves"]["test_acc"]):
            correct = records.test_correct(rec, epoch)
            assert correct.shape == (rec["data"]["split"]["n_test"],)
            assert correct.mean() == pytest.approx(acc, abs=1e-12)


def test_packed_correctness_round_trips_and_refuses_a_wrong_length():
    rng = __import__("numpy").random.default_rng(0)
    for n in (1, 7, 8, 9, 10_000):
        bits = rng.random(n) < 0.7
        assert (records.unpack_correct(records.pack_correct(bits), n) == bits).all()
    with pytest.raises(ValueError, match="exactly 5"):
        records.unpack_correct(records.pack_correct([True] * 9), 5)


def test_a_schema_2_record_still_reads_and_is_replaced_by_one_with_predictions(tmp_path, small_data):
    run_sweep(SweepSpec(**SPEC), tmp_path, executor="inprocess", quiet=True)
    path = sorted(tmp_path.glob("*/*.json"))[0]
    new = json.loads(path.read_text())
    old = {k: v for k, v in new.items() if k != "predictions"} | {"schema": 2}
    path.write_text(json.dumps(old))
    assert records.read(path) == old and not records.has_predictions(old)
    with pytest.raises(KeyError, match="no per-example"):
        records.test_correct(old, 1)
    assert records.covers(new, old) and not records.covers(old, new)
    run_sweep(SweepSpec(**SPEC), tmp_path, executor="inprocess", quiet=True)
    assert not records.has_predictions(records.read(path))  # reading keeps what is stored
    calls = []
    real = executors.execute
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(executors, "execute", lambda cfgs, *a, **k: calls.extend(cfgs) or real(cfgs, *a, **k))
        run_sweep(SweepSpec(**SPEC), tmp_path, executor="inprocess", need_predictions=True, quiet=True)
    assert [c.run_id for c in calls] == [path.stem]  # exactly the run without predictions
    assert records.has_predictions(records.read(path))

"""Bad input: a one-line error naming what is allowed, exit 2, no traceback, nothing written.
The CLI runs in the test process (``cli.main``); one test runs it as ``python -m lrsweep``."""
import subprocess
import sys
from types import SimpleNamespace

import pytest

from lrsweep import UsageError
from lrsweep.cli import main
from lrsweep.engine.sweep import SweepSpec

GOOD = ["--problem", "mnist_logreg", "--optimizer", "adam", "--lr", "0.001", "--epochs", "1"]


@pytest.fixture
def cli(capsys):
    """``lrsweep ARGS`` in this process: exit status and what it printed."""
    def run(*args):
        try:
            code = main([str(a) for a in args])
        except SystemExit as e:  # argparse's own errors
            code = e.code
        out = capsys.readouterr()
        return SimpleNamespace(returncode=code, stdout=out.out, stderr=out.err)
    return run


def test_the_module_entry_point_reports_bad_input_in_one_line(tmp_path):
    r = subprocess.run([sys.executable, "-m", "lrsweep", "sweep", *replace("--lr", "0"),
                        "--results", str(tmp_path / "runs")], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines() == ["lrsweep: error: every lr must be a finite number > 0, got 0.0"]


def replace(flag, *values):
    i = GOOD.index(flag)
    return GOOD[:i + 1] + list(values) + GOOD[i + 2:]


@pytest.mark.parametrize("args, message", [
    (replace("--problem", "mnist_resnet"), "unknown problem 'mnist_resnet'; allowed: mnist_logreg"),
    (replace("--optimizer", "adamax"), "unknown optimizer 'adamax'; allowed: adam, amsgrad, adamw"),
    (replace("--lr", "0"), "every lr must be a finite number > 0, got 0.0"),
    (replace("--lr", "-0.1"), "every lr must be a finite number > 0"),
    (replace("--lr", "nan"), "every lr must be a finite number > 0"),
    (replace("--epochs", "0"), "epochs must be an integer >= 1, got 0"),
    (GOOD + ["--set", "gamma=3"], "unknown setting 'gamma'; allowed: batch_size, schedule, beta1"),
    (GOOD + ["--set", "batch_size=-5"], "batch_size must be an integer >= 1"),
])
def test_sweep_refuses_bad_input(cli, tmp_path, args, message):
    r = cli("sweep", *args, "--results", str(tmp_path / "runs"), "--quiet")
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [f"lrsweep: error: {r.stderr.split('error: ', 1)[1].strip()}"]
    assert message in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("args", [replace("--epochs", "1.5"), replace("--lr", "fast"),
                                  ["--problem", "mnist_logreg", "--epochs", "1"]])
def test_argparse_errors_are_clean(cli, tmp_path, args):
    r = cli("sweep", *args, "--results", str(tmp_path / "runs"))
    assert r.returncode == 2 and "Traceback" not in r.stderr and "error:" in r.stderr


@pytest.mark.parametrize("kwargs, message", [
    (dict(lrs="[0.001, 0.01]"), "lrs must be a list"),       # papermill -p gives a string
    (dict(lrs=[]), "lrs is empty"),
    (dict(problems="mnist_mlp"), "problems must be a list"),
    (dict(seeds=[0.5]), "every seed must be an integer"),
    (dict(seeds=[True]), "every seed must be an integer"),
    (dict(epochs=2.0), "epochs must be an integer"),
    (dict(lrs=[True]), "every lr must be a finite number"),
    (dict(settings={"sgd_momentum.momentum": 0.5}), "names optimizer 'sgd_momentum', which is not"),
    (dict(settings={"adam.beta2": "high"}), "adam beta2 must be float"),
])
def test_spec_validates_types(kwargs, message):
    base = dict(problems=["mnist_logreg"], optimizers=["adam"], lrs=[1e-3], seeds=[0], epochs=1)
    with pytest.raises(UsageError, match=message):
        SweepSpec(**{**base, **kwargs})


def test_data_verify_cli_lists_each_dataset(cli):
    r = cli("data", "verify", "mnist", "fashion_mnist")
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.strip().splitlines()
    assert [l.split()[0] for l in lines] == ["mnist", "fashion_mnist"]
    assert all(" ok " in l for l in lines)


def test_data_verify_cli_fails_on_missing(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("LRSWEEP_DATA", str(tmp_path))
    monkeypatch.setenv("LRSWEEP_MIRROR", str(tmp_path / "none"))
    r = cli("data", "verify", "mnist")
    assert r.returncode == 1 and "MISSING" in r.stdout and "Traceback" not in r.stderr


def test_results_cli_prints_csv(cli, tmp_path):
    r = cli("sweep", *GOOD, "--results", str(tmp_path), "--quiet", "--executor", "inprocess")
    assert r.returncode == 0, r.stderr
    out = cli("results", str(tmp_path), "--format", "csv")
    header, *rows = out.stdout.strip().splitlines()
    assert header.startswith("problem,optimizer,lr,seed,epoch,status,train_loss")
    assert len(rows) == 2 and rows[0].split(",")[4] == "0"


@pytest.mark.parametrize("params, message", [
    ({"mnsit": {"epochs": 1}}, "unknown chapter(s) mnsit; allowed: beyond, budget, cifar10, cite, compute, deepobs, fmnist, intro, method, mnist, synthesis"),
    ({"mnist": {"epoch": 1}}, "chapter mnist has no parameter(s) epoch; allowed: problems"),
    (["mnist"], "expected a mapping of chapter name to parameters"),
])
def test_book_refuses_bad_parameter_files(cli, tmp_path, params, message):
    import yaml
    f = tmp_path / "p.yaml"
    f.write_text(yaml.safe_dump(params))
    r = cli("book", "--params", str(f), "--out", str(tmp_path / "build"))
    assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "build").exists()


def test_unreachable_dask_scheduler_is_a_clean_error(cli, tmp_path, monkeypatch):
    from lrsweep.engine import executors
    monkeypatch.setattr(executors, "DASK_CONNECT_TIMEOUT_S", 1)
    r = cli("sweep", *GOOD, "--scheduler", "tcp://127.0.0.1:9", "--results", str(tmp_path / "runs"),
            "--quiet")
    assert r.returncode == 2 and "cannot reach dask scheduler tcp://127.0.0.1:9" in r.stderr
    assert "Traceback" not in r.stderr and not (tmp_path / "runs").exists()


def test_results_cli_names_a_damaged_record(cli, tmp_path):
    assert cli("sweep", *GOOD, "--results", tmp_path, "--quiet", "--executor", "inprocess").returncode == 0
    [record] = tmp_path.glob("*/*.json")
    record.write_text(record.read_text()[:300])
    r = cli("results", tmp_path)
    assert r.returncode == 2 and not r.stdout
    assert f"damaged run record {record}" in r.stderr and "git checkout" in r.stderr


def test_sweep_cli_counts_diverged_runs(cli, tmp_path):
    """Diverged runs stop early, so they have no row at the last epoch; they still count."""
    r = cli("sweep", *replace("--lr", "0.001", "10000"), "--optimizer", "sgd_momentum",
            "--results", tmp_path, "--executor", "inprocess")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().endswith("2 runs in " + str(tmp_path) + "; 1 diverged, 0 failed")

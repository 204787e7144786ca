"""The published records are reproducible: retraining one gives its numbers again."""
import pytest
import torch

from lrsweep import executors, paths, provenance, records
from lrsweep.config import RunConfig


def test_a_published_record_is_reproduced(tmp_path):
    published = [r for r in records.load_all(paths.PUBLISHED_RUNS)
                 if r["config"]["problem"] == "mnist_logreg" and r["status"] == "ok"
                 and r["provenance"].get("members", 1) == 1]
    assert published, "the published study should hold mnist_logreg records"
    old = published[0]
    cfg = RunConfig.from_dict(old["config"])
    [new] = executors.execute([cfg], old["epochs"], threads=old["provenance"]["threads"])
    same_machine = (old["provenance"]["cpu"] == provenance.cpu_model()
                    and old["provenance"]["packages"]["torch"] == torch.__version__)
    if same_machine:  # the promise: same config, seed, machine and threads -> same numbers
        assert new["curves"] == old["curves"]
    else:  # another CPU may round differently
        for k, v in old["curves"].items():
            assert new["curves"][k] == pytest.approx(v, rel=1e-3), k

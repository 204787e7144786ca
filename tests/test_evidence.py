"""A page's evidence: each problem's study read once however many sections ask for it, and
read again only to train what a read found missing."""
from dataclasses import dataclass, field, fields

from lrsweep.book import beyond_summary
from lrsweep.book.evidence import Evidence
from lrsweep.study import lr_study, registry


@dataclass(frozen=True)
class CountingStudy(lr_study.LrStudy):
    """The published study, counting its reads per problem in a shared dict (not those of
    the variants the alternatives vary from it: they are other studies, read once each)."""
    reads: dict | None = field(default=None, repr=False, compare=False)

    def stored(self, problems_, results_dir=None, *, train_missing=True):
        if self.optimizers == lr_study.PUBLISHED.optimizers and not self.settings:
            for p in problems_:
                self.reads[p] = self.reads.get(p, 0) + 1
        return super().stored(problems_, results_dir, train_missing=train_missing)


def test_each_problem_is_read_once_per_page():
    reads = {}
    study = CountingStudy(**{f.name: getattr(lr_study.PUBLISHED, f.name) for f in fields(lr_study.PUBLISHED)},
                          reads=reads)
    evidence = Evidence(study=study, problems=["mnist_logreg", "fmnist_logreg"],
                        designs=registry.PUBLISHED.around(study))
    table, running = evidence.studied()
    assert not running and set(table["problem"]) == {"mnist_logreg", "fmnist_logreg"}
    again, _ = evidence.studied(problems=["fmnist_logreg"])
    beyond_summary.rows(evidence, train_missing=False)  # the alternatives' section reads the same study
    assert reads == {"mnist_logreg": 1, "fmnist_logreg": 1}
    assert again.equals(table[table["problem"] == "fmnist_logreg"].reset_index(drop=True))
    # another page reads for itself
    Evidence(study=study, problems=["mnist_logreg"]).studied()
    assert reads["mnist_logreg"] == 2


def test_a_study_still_running_is_read_again_only_to_train_it(tmp_path):
    evidence = Evidence(tmp_path, problems=["mnist_logreg"])
    table, running = evidence.studied()
    assert table is None and running["mnist_logreg"].done == 0 and not running["mnist_logreg"].complete
    assert evidence.studied()[1] == running  # read-only again: the progress already read

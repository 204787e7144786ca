from lrsweep.book.evidence import Evidence
from lrsweep.book import citation
from lrsweep.store import paths, records
from lrsweep.engine.sweep import SweepSpec


def test_citation_cff_is_complete():
    cff = citation.read_cff()
    assert {"cff-version", "message", "title", "authors", "version", "date-released"} <= set(cff)
    with open(paths.ROOT / "pyproject.toml") as fh:  # one version for the package and the report
        assert f'version = "{cff["version"]}"' in fh.read()


def test_bibtex_names_people_organisations_and_the_commit():
    cff = {"title": "T", "version": "1.2", "date-released": "2030-01-02",
           "authors": [{"family-names": "Ba", "given-names": "Jimmy"}, {"name": "Team X"}]}
    entry = citation.bibtex(cff, "abc123")
    assert entry.startswith("@misc{lrsweep2030,")
    assert "author = {Ba, Jimmy and {Team X}}" in entry and "note = {commit abc123}" in entry
    assert "note" not in citation.bibtex(cff) and "url" not in entry
    assert "url = {https://example.org/r}" in citation.bibtex(cff, url="https://example.org/r")


def test_the_repository_url_is_configured_in_one_place(tmp_path):
    """_config.yml holds it; CITATION.cff agrees with it (both without one until it is set)."""
    assert citation.read_cff().get("repository-code") == citation.repository_url()
    config = tmp_path / "_config.yml"
    config.write_text("title: T\nrepository:\n  url: https://example.org/r\n")
    assert citation.repository_url(config) == "https://example.org/r"
    config.write_text("title: T\n")
    assert citation.repository_url(config) is None


def test_how_to_cite_says_whether_the_commits_behind_the_records_differ():
    one = {"record_commits": {"a": 3, "b": 2}, "record_engines": {"1": 5}, "record_torch": {"2.5.1": 5}}
    assert "does not change its numbers" in citation.commits_note(one)
    two = {**one, "record_engines": {"1": 4, "2": 1}}
    assert "can differ" in citation.commits_note(two) and "1, 2" in citation.commits_note(two)


def test_build_provenance_counts_commits_and_lists_datasets(tmp_path):
    cfgs = SweepSpec(["mnist_logreg"], ["adam"], [1e-3, 1e-2], [0], 1).configs()
    data = {"dataset": "mnist", "label": "MNIST", "checksums": {"a.gz": "sha256:00"}}
    for cfg, commit in zip(cfgs, ["c1", None]):
        prov = {"git": {"commit": commit}, "packages": {"torch": "9.9"}}
        outcome = records.Outcome(data=data)
        records.write(tmp_path, records.make(cfg, outcome, budget=1, engine={}, provenance=prov))
    prov = citation.build_provenance(Evidence(tmp_path))
    assert prov["n_records"] == 2 and prov["record_commits"] == {"c1": 1, "unknown": 1}
    assert prov["record_torch"] == {"9.9": 2}
    assert prov["datasets"] == {"mnist": {"label": "MNIST", "checksums": {"a.gz": "sha256:00"}}}
    shown = citation.book_numbers(prov)
    assert shown["n_records"] == "2" and "sha256:00" in shown["datasets_table"].to_myst()


def test_every_run_as_one_csv_for_readers(tmp_path, small_data):
    import pandas as pd

    from lrsweep.store import records
    from lrsweep.engine.sweep import run_sweep
    runs = tmp_path / "runs"
    table = run_sweep(SweepSpec(["mnist_logreg"], ["adam"], [1e-3, 1e-2], [0], 1), runs, quiet=True)
    first = citation.write_runs_csv(tmp_path / "a", Evidence(runs))
    again = citation.write_runs_csv(tmp_path / "b", Evidence(runs))
    assert first.read_bytes() == again.read_bytes()  # byte-identical across builds
    back = pd.read_csv(first)
    assert list(back.columns) == records.COLUMNS and len(back) == len(table) == 4
    assert back["test_acc"].tolist() == table["test_acc"].tolist()

"""How to cite the report: BibTeX from CITATION.cff (its one source), and what produced the
book: the commit it was built from, the commits that trained its records, the datasets."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import pandas as pd
import yaml

from ..store import paths, records
from ..engine import provenance
from . import report
from .evidence import Evidence

CFF = paths.ROOT / "CITATION.cff"
CONFIG = paths.ROOT / "_config.yml"


def repository_url(config: Path = CONFIG) -> str | None:
    """The report's public repository, configured in one place (``repository.url`` in
    _config.yml); None while it has none. CITATION.cff's ``repository-code`` must match it."""
    with open(config) as fh:
        return (yaml.safe_load(fh).get("repository") or {}).get("url") or None


def read_cff(path: Path = CFF) -> dict:
    with open(path) as fh:
        return yaml.safe_load(fh)


def _author(a: dict) -> str:
    # an organisation's name is braced so BibTeX does not split it into first and last names
    return f"{a['family-names']}, {a['given-names']}" if "family-names" in a else "{" + a["name"] + "}"


def bibtex(cff: dict, commit: str | None = None, key: str = "lrsweep", url: str | None = None) -> str:
    """A ``@misc`` entry; the commit goes into the note, so a citation pins the exact code,
    and the repository's ``url`` where there is one."""
    year = str(cff["date-released"])[:4]
    fields = {"title": "{" + cff["title"] + "}",
              "author": " and ".join(_author(a) for a in cff["authors"]),
              "year": year, "version": cff["version"]}
    if url:
        fields["url"] = url
    if commit:
        fields["note"] = f"commit {commit}"
    body = ",\n".join(f"  {k} = {{{v}}}" for k, v in fields.items())
    return f"@misc{{{key}{year},\n{body}\n}}"


def build_provenance(evidence: Evidence) -> dict:
    """The commit this build ran from, the commits and packages that trained the records,
    and the checksums of the datasets they trained on."""
    recs = evidence.records()
    commits = Counter(r["provenance"]["git"]["commit"] or "unknown" for r in recs)
    torch_versions = Counter(r["provenance"]["packages"].get("torch", "unknown") for r in recs)
    engines = Counter(str((r.get("engine") or {}).get("version", "unknown")) for r in recs)
    datasets = {}
    for r in recs:
        d = r.get("data") or {}
        if d.get("dataset"):
            datasets[d["dataset"]] = {"label": d["label"], "checksums": d["checksums"]}
    return {"build": provenance.git_state(), "n_records": len(recs),
            "runs_dir": paths.shown(evidence.store),
            "record_commits": dict(commits.most_common()),
            "record_torch": dict(torch_versions.most_common()),
            "record_engines": dict(engines.most_common()), "datasets": datasets}


RUNS_CSV = "lrsweep-runs.csv.gz"


def write_runs_csv(directory: str | Path, evidence: Evidence) -> Path:
    """Every run of the store as one tidy table (a row per run and epoch), gzipped and
    byte-identical across builds, for readers who re-analyse it."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    table = records.tidy(evidence.records())
    table.to_csv(out / RUNS_CSV, index=False, compression={"method": "gzip", "mtime": 0})
    return out / RUNS_CSV


BUILD_STATE = {True: "with src/ modified after it", False: "unmodified", None: "state unknown"}


def commits_note(prov: dict) -> str:
    """Whether the results can differ across the commits behind the records: they cannot
    through the engine when every record has the same engine version (raised whenever a
    change to the code could change what a run computes) and the same PyTorch."""
    n = len(prov["record_commits"])
    engines, torches = list(prov.get("record_engines", {})), list(prov["record_torch"])
    if len(engines) == 1 and len(torches) == 1:
        return (f"All {'records' if n > 1 else 'of them'} share engine version {engines[0]} and PyTorch "
                f"{torches[0]}: the {'commits differ' if n > 1 else 'commit differs from the build'} "
                "only in code that does not change what a run computes (the engine version is "
                "raised with any change that could), so which commit trained a record does not change "
                "its numbers, up to the last bits that differ between machines.")
    return (f"The records span engine versions {', '.join(engines)} and PyTorch {', '.join(torches)}: "
            "results of records trained under different versions can differ, and each record "
            "names its own.")


def book_numbers(prov: dict) -> dict:
    """What the "How to cite" page glues: the build's commit, the records' commits and the
    datasets' checksums, as text and tables."""
    commits = pd.DataFrame(prov["record_commits"].items(), columns=["commit", "records"])
    files = pd.DataFrame([(d["label"], f, c)
                          for d in prov["datasets"].values() for f, c in d["checksums"].items()],
                         columns=["dataset", "file", "checksum"])
    return {
        "build_commit": prov["build"]["commit"] or "unknown",
        "build_state": BUILD_STATE[prov["build"]["src_dirty"]],
        "n_records": f"{prov['n_records']:,}",
        "runs_dir": prov["runs_dir"],
        "torch_versions": ", ".join(prov["record_torch"]),
        "commits_note": commits_note(prov),
        "commits_table": report.table(commits, {"commit": ("commit", "{}"),
                                                "records": ("records", "{:,}")}),
        "datasets_table": report.table(files, {"dataset": ("dataset", "{}"), "file": ("file", "{}"),
                                               "checksum": ("checksum", "{}")}),
    }

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

CFF = paths.ROOT / "CITATION.cff"


def read_cff(path: Path = CFF) -> dict:
    with open(path) as fh:
        return yaml.safe_load(fh)


def _author(a: dict) -> str:
    # an organisation's name is braced so BibTeX does not split it into first and last names
    return f"{a['family-names']}, {a['given-names']}" if "family-names" in a else "{" + a["name"] + "}"


def bibtex(cff: dict, commit: str | None = None, key: str = "lrsweep") -> str:
    """A ``@misc`` entry; the commit goes into the note, so a citation pins the exact code."""
    year = str(cff["date-released"])[:4]
    fields = {"title": "{" + cff["title"] + "}",
              "author": " and ".join(_author(a) for a in cff["authors"]),
              "year": year, "version": cff["version"]}
    if cff.get("repository-code"):
        fields["url"] = cff["repository-code"]
    if commit:
        fields["note"] = f"commit {commit}"
    body = ",\n".join(f"  {k} = {{{v}}}" for k, v in fields.items())
    return f"@misc{{{key}{year},\n{body}\n}}"


def build_provenance(results_dir: str | Path | None = None) -> dict:
    """The commit this build ran from, the commits and packages that trained the records,
    and the checksums of the datasets they trained on."""
    recs = records.load_all(paths.runs_dir(results_dir))
    commits = Counter(r["provenance"]["git"]["commit"] or "unknown" for r in recs)
    torch_versions = Counter(r["provenance"]["packages"].get("torch", "unknown") for r in recs)
    datasets = {}
    for r in recs:
        d = r.get("data") or {}
        if d.get("dataset"):
            datasets[d["dataset"]] = {"label": d["label"], "checksums": d["checksums"]}
    return {"build": provenance.git_state(), "n_records": len(recs),
            "runs_dir": paths.shown(paths.runs_dir(results_dir)),
            "record_commits": dict(commits.most_common()),
            "record_torch": dict(torch_versions.most_common()), "datasets": datasets}


RUNS_CSV = "lrsweep-runs.csv.gz"


def write_runs_csv(directory: str | Path, results_dir: str | Path | None = None) -> Path:
    """Every run of the store as one tidy table (a row per run and epoch), gzipped and
    byte-identical across builds, for readers who re-analyse it."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    table = records.tidy(records.load_all(paths.runs_dir(results_dir)))
    table.to_csv(out / RUNS_CSV, index=False, compression={"method": "gzip", "mtime": 0})
    return out / RUNS_CSV


BUILD_STATE = {True: "with src/ modified after it", False: "unmodified", None: "state unknown"}


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
        "commits_table": report.table(commits, {"commit": ("commit", "{}"),
                                                "records": ("records", "{:,}")}),
        "datasets_table": report.table(files, {"dataset": ("dataset", "{}"), "file": ("file", "{}"),
                                               "checksum": ("checksum", "{}")}
                                       ).set_table_attributes('class="checksums"'),
    }

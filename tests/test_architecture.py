"""The wings' arrows (ARCHITECTURE.md): the import-linter contracts in pyproject.toml hold."""
import subprocess
import sys
import tomllib
from pathlib import Path

from lrsweep.store import paths


def test_the_wings_keep_their_import_contracts():
    contracts = tomllib.loads((paths.ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint), "--no-cache"], cwd=paths.ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Contracts: {len(contracts)} kept, 0 broken." in done.stdout


def test_every_module_is_in_a_wing_and_named_in_the_architecture():
    """A module added outside the wings, or left out of ARCHITECTURE.md, fails here."""
    src = paths.ROOT / "src" / "lrsweep"
    top = {p.stem for p in src.glob("*.py")}
    assert top == {"__init__", "__main__", "cli", "errors"}, top - {"__init__", "__main__", "cli", "errors"}
    text = (paths.ROOT / "ARCHITECTURE.md").read_text()
    missing = [f"{p.parent.name}/{p.name}" for p in src.glob("*/*.py")
               if p.name != "__init__.py" and f"`{p.parent.name}/{p.name}`" not in text]
    assert not missing, f"not in ARCHITECTURE.md: {missing}"


READ_ONLY = """
import sys

BLOCKED = ("lrsweep.engine.executors", "lrsweep.engine.train", "lrsweep.engine.problems",
           "lrsweep.engine.batched", "lrsweep.engine.checkpoint")


class Blocked:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "torch" or name in BLOCKED:
            raise ImportError(f"the published pages imported {name}")


sys.meta_path.insert(0, Blocked())
from lrsweep.book import (answer, beyond_page, beyond_summary, budget_page, chapter, citation,
                          compute_page, deepobs_page, method_page, synthesis)
from lrsweep.study import budget, lr_study
table, running = lr_study.PUBLISHED.stored(list(lr_study.PUBLISHED.problems), None, train_missing=False)
assert table is not None and not running, running
for problem in budget.PUBLISHED.runs:
    budget.PUBLISHED.progress(problem), budget.PUBLISHED.stored(problem)
from lrsweep.book.evidence import Evidence
evidence = Evidence()
beyond_summary.read_designs(evidence)
beyond_summary.rows(evidence, train_missing=False)
beyond_summary.batch_caveat(evidence)
citation.build_provenance(evidence)
assert "torch" not in sys.modules
"""


def test_the_published_pages_read_their_records_without_torch_or_the_executors():
    """The published build only reads: with torch and the training side of the engine made
    unimportable, every page module imports and the records every page reads are read (the
    study, the long runs, the designs, the alternatives, the batch sizes, the provenance)."""
    done = subprocess.run([sys.executable, "-c", READ_ONLY], cwd=paths.ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]


def _executed(folder: Path, values: dict) -> Path:
    """An executed notebook as papermill writes glued values, under ``folder``."""
    import json
    outputs = [{"output_type": "display_data", "metadata": {"scrapbook": {"name": k, "mime_prefix": ""}},
                "data": {f"application/papermill.record/{mime}": v for mime, v in data.items()}}
               for k, data in values.items()]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "intro.ipynb").write_text(json.dumps({"cells": [{"cell_type": "code", "outputs": outputs}]}))
    return folder


def test_glued_values_are_compared_text_by_text_and_image_by_digest(tmp_path):
    from lrsweep.book import glued
    table = '<table id="T_{}">\n<th id="T_{}_level0_col0">lr</th></table>'
    a = glued.values(_executed(tmp_path / "a", {
        "n": {"text/plain": "'3'"}, "t": {"text/html": table.format("5fb7b", "5fb7b")},
        "fig": {"image/png": "iVBOR1", "application/pdf": "JVBER-created-at-noon"}}))
    b = glued.values(_executed(tmp_path / "b", {
        "n": {"text/plain": "'4'"}, "t": {"text/html": table.format("0d61b", "0d61b")},
        "fig": {"image/png": "iVBOR2", "application/pdf": "JVBER-created-at-one"}}))
    diff = glued.differences(a, b)
    # the number and the picture differ; pandas' random table ids and the PDF's date do not count
    assert [line.split(":")[0] for line in diff] == ["intro.ipynb fig (image/png)", "intro.ipynb n (text/plain)"]
    assert glued.differences(a, a) == []

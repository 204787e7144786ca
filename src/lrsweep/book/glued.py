"""Every value an executed book glued, read back from its notebooks: what a change that must
not move a published number (a refactor) is checked against. ``python -m lrsweep glued
BOOK_DIR`` prints them as JSON; ``--against OTHER_DIR`` lists the values that differ."""
from __future__ import annotations

import ast
import hashlib
import json
import re
from pathlib import Path

from ..errors import UsageError

# papermill stores a glued value under "application/papermill.record/<mime type>". Text is
# compared as text, images by their bytes' digest; the PDF rendering of a figure is left out,
# as matplotlib writes the time of day into it (the PNG beside it carries the same picture).
RECORD = "application/papermill.record/"
# Books built before tables had content-derived ids carry pandas' random ones ("T_5fb7b").
TABLE_ID = re.compile(r"\bT_[0-9a-f]{5}(?![0-9a-f])")
LEFT_OUT = ("application/pdf",)


def values(book_dir: str | Path) -> dict[str, dict[str, str]]:
    """``{page: {glue name: value}}`` of the executed notebooks under ``book_dir`` (the
    ``_build/book`` that ``lrsweep book`` writes)."""
    book_dir = Path(book_dir)
    pages = sorted(book_dir.glob("*.ipynb")) + sorted((book_dir / "chapters").glob("*.ipynb"))
    if not pages:
        raise UsageError(f"{book_dir}: no executed notebooks there (`lrsweep book` writes them to _build/book)")
    out: dict[str, dict[str, str]] = {}
    for page in pages:
        glued = {}
        for name, mime, value in _records(page):
            if mime in LEFT_OUT:
                continue
            if mime == "text/html":
                value = TABLE_ID.sub("T_id", value)
            if not mime.startswith("text/"):
                value = "sha256:" + hashlib.sha256(value.encode()).hexdigest()
            glued[f"{name} ({mime})"] = value
        out[str(page.relative_to(book_dir))] = glued
    return out


def _records(notebook: Path):
    """(glue name, mime type, value) of every value an executed notebook glued."""
    for cell in json.loads(notebook.read_text())["cells"]:
        for o in cell.get("outputs", []):
            name = o.get("metadata", {}).get("scrapbook", {}).get("name")
            if name is not None:
                for mime, value in o.get("data", {}).items():
                    yield name, mime.removeprefix(RECORD), "".join(value) if isinstance(value, list) else value


def texts(notebook: Path) -> dict[str, str]:
    """The text values (glued Python strings) of one executed notebook, by glue name."""
    out = {}
    for name, mime, value in _records(notebook):
        if mime == "text/plain":
            try:
                text = ast.literal_eval(value)
            except (ValueError, SyntaxError):
                continue
            if isinstance(text, str):
                out[name] = text
    return out


def differences(a: dict, b: dict) -> list[str]:
    """The glued values present in only one of two books, or different, one line each."""
    lines = []
    for page in sorted(set(a) | set(b)):
        pa, pb = a.get(page, {}), b.get(page, {})
        for name in sorted(set(pa) | set(pb)):
            if pa.get(name) != pb.get(name):
                lines.append(f"{page} {name}: {pa.get(name, '(missing)')[:120]!r} -> "
                             f"{pb.get(name, '(missing)')[:120]!r}")
    return lines

"""Where things live: the project root, the data cache, the dataset mirror, the published runs.

Environment variables override the defaults so the same code works on a laptop, in CI
(with ``../shared/data`` beside the clone) and on a cluster with a shared filesystem.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path

# src/lrsweep/store/paths.py -> the repository root (the package is installed editable).
ROOT = Path(__file__).resolve().parents[3]
PUBLISHED_RUNS = ROOT / "data" / "runs"


def runs_dir(results_dir: str | Path | None = None) -> Path:
    """A record store: the one given, else the published runs (chapters default to None)."""
    return Path(results_dir) if results_dir else PUBLISHED_RUNS


def shown(path: Path) -> str:
    """A path as a page names it: relative to the repository when inside it."""
    path = Path(path).resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def data_dir() -> Path:
    """Directory for downloaded or user-supplied dataset files (``LRSWEEP_DATA``)."""
    return Path(os.environ.get("LRSWEEP_DATA") or ROOT / "data" / "cache")


def mirror_dir() -> Path | None:
    """Read-only local mirror of the datasets (``LRSWEEP_MIRROR``, else ``../shared/data``)."""
    env = os.environ.get("LRSWEEP_MIRROR")
    if env:
        return Path(env)
    default = ROOT.parent / "shared" / "data"
    return default if default.is_dir() else None


@contextlib.contextmanager
def atomic_file(target: str | Path, mode: str = "w"):
    """An open file beside ``target``, unique to this writer, moved onto ``target`` once the
    block has written it (deleted if the block fails): readers never see half a file, and
    writers racing on one target (two workers decoding the same dataset) never share one."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def cached_rows(path: str | Path, what: dict, compute) -> list[dict]:
    """``compute()`` (a list of JSON-able rows), read from the JSON at ``path`` when it was
    computed from exactly ``what`` (everything the rows depend on), else computed and
    written: slow, deterministic results (forests, simulations) a build need not redo."""
    path = Path(path)
    key = hashlib.sha256(json.dumps(what, sort_keys=True, default=str).encode()).hexdigest()
    if path.is_file():
        saved = json.loads(path.read_text())
        if saved.get("key") == key:
            return saved["rows"]
    rows = compute()
    with atomic_file(path) as fh:
        json.dump({"key": key, "rows": rows}, fh, indent=1)
        fh.write("\n")
    return rows

"""Build the book: stage the sources in _build/book, execute every chapter there with
papermill (parameters: the published defaults, or overrides from a YAML file), then let
Jupyter Book render it with execution off and Sphinx warnings as errors."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from . import paths
from .errors import UsageError

SOURCES = ["_config.yml", "_toc.yml", "intro.md", "references.md", "references.bib"]


def chapters() -> list[Path]:
    return sorted((paths.ROOT / "chapters").glob("*.ipynb"))


def read_params(params_file: str | None) -> dict[str, dict]:
    if params_file is None:
        return {}
    with open(params_file) as fh:
        params = yaml.safe_load(fh) or {}
    known = {c.stem for c in chapters()}
    if not isinstance(params, dict) or not all(isinstance(v, dict) for v in params.values()):
        raise UsageError(f"{params_file}: expected a mapping of chapter name to parameters")
    if unknown := set(params) - known:
        raise UsageError(f"{params_file}: unknown chapter(s) {', '.join(sorted(unknown))}; "
                         f"allowed: {', '.join(sorted(known))}")
    import papermill
    for name, values in params.items():
        allowed = papermill.inspect_notebook(str(paths.ROOT / "chapters" / f"{name}.ipynb"))
        if unknown := set(values) - set(allowed):
            raise UsageError(f"{params_file}: chapter {name} has no parameter(s) "
                             f"{', '.join(sorted(unknown))}; allowed: {', '.join(allowed)}")
    return params


BUILD_KEYS = ("figures_dir", "train_missing")  # parameters the build sets, not the reader


def book_parameters(notebook: Path, figures_dir: Path, variant: bool) -> dict:
    """What the build itself tells each chapter that declares it: where figure files go, and
    whether missing runs may be trained. The published book only reads the committed records;
    a variant book (``--params``) trains what its parameters add."""
    import papermill
    declared = papermill.inspect_notebook(str(notebook))
    given = {"figures_dir": str(figures_dir), "train_missing": variant}
    return {k: v for k, v in given.items() if k in declared}


def execute(notebook: Path, output: Path, parameters: dict, overridden: bool) -> None:
    """Run one chapter with papermill, from the repository root (so relative paths in
    parameters mean the same as on the command line). The page shows the study's
    parameters that were used: the defaults cell, or the reader's overrides in its place;
    never the build's own settings."""
    import nbformat
    import papermill
    papermill.execute_notebook(str(notebook), str(output), parameters=parameters,
                               cwd=str(paths.ROOT), kernel_name="python3", progress_bar=False,
                               log_output=True)
    nb = nbformat.read(output, as_version=4)
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        if "injected-parameters" in tags:
            kept = [line for line in cell.source.splitlines()
                    if line.split(" = ")[0] not in BUILD_KEYS]
            cell.source = "\n".join(kept)
            if not overridden:
                tags.append("remove-cell")
        elif "parameters" in tags and overridden:
            tags.append("remove-cell")
    nbformat.write(nb, output)


def stage(params: dict[str, dict], dest: Path) -> Path:
    if dest.exists():
        shutil.rmtree(dest)
    (dest / "chapters").mkdir(parents=True)
    for name in SOURCES:
        shutil.copy2(paths.ROOT / name, dest / name)
    for folder in ("_ext", "_static"):
        shutil.copytree(paths.ROOT / folder, dest / folder)
    for md in (paths.ROOT / "chapters").glob("*.md"):
        shutil.copy2(md, dest / "chapters" / md.name)
    for nb in chapters():
        print(f"executing {nb.relative_to(paths.ROOT)}", flush=True)
        mine = params.get(nb.stem, {})
        given = book_parameters(nb, dest / "figures", variant=bool(params))
        execute(nb, dest / "chapters" / nb.name, {**given, **mine}, overridden=bool(mine))
    return dest


def build(params_file: str | None = None, strict: bool = True, out: Path | None = None) -> int:
    """Stage, execute and render into ``out`` (default ``_build``): the pages land in
    ``out/html``, the executed sources in ``out/book``."""
    params = read_params(params_file)
    out = Path(out or paths.ROOT / "_build").resolve()
    src = stage(params, out / "book")
    jb = Path(sys.executable).with_name("jupyter-book")
    # jupyter-book writes to <path-output>/_build/html; keep everything under `out`
    cmd = [str(jb), "build", str(src), "--path-output", str(out / "jb"), "--keep-going"]
    if strict:
        cmd += ["-W", "-n"]
    rc = subprocess.run(cmd).returncode
    if rc == 0:
        html = out / "html"
        if html.exists():
            shutil.rmtree(html)
        shutil.move(out / "jb" / "_build" / "html", html)
        print(f"\nThe book is at {html / 'index.html'}")
    return rc

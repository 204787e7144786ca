"""Build the book: stage the sources in _build/book, execute every chapter there with
papermill (parameters: the published defaults, or overrides from a YAML file), then let
Jupyter Book render it with execution off and Sphinx warnings as errors."""
from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import yaml

from ..errors import UsageError
from ..store import paths
from ..engine import provenance
from . import glued

SOURCES = ["_config.yml", "_toc.yml", "references.md", "references.bib"]
STAMP = ".inputs"                # the inputs an executed book was staged from
PDF_NAME = "lrsweep-report.pdf"  # _ext/pdf_link.py links it where the HTML finds it


def chapters() -> list[Path]:
    """Every executed page: the first page (the answer) and the chapters."""
    return [paths.ROOT / "intro.ipynb", *sorted((paths.ROOT / "chapters").glob("*.ipynb"))]


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
        [page] = [c for c in chapters() if c.stem == name]
        allowed = papermill.inspect_notebook(str(page))
        if unknown := set(values) - set(allowed):
            raise UsageError(f"{params_file}: chapter {name} has no parameter(s) "
                             f"{', '.join(sorted(unknown))}; allowed: {', '.join(allowed)}")
    return params


BUILD_KEYS = ("figures_dir", "train_missing")  # parameters the build sets, not the reader
SHOWN_BUILD_KEYS = ("train_missing",)  # what the page says it ran with (figures_dir: a machine path)


def book_parameters(notebook: Path, figures_dir: Path, variant: bool) -> dict:
    """What the build itself tells each chapter that declares it: where figure files go, and
    whether missing runs may be trained. The published book only reads the committed records;
    in a variant book (``--params``) the pages it names train what their parameters add,
    the others read the committed records as the published book does."""
    import papermill
    declared = papermill.inspect_notebook(str(notebook))
    given = {"figures_dir": str(figures_dir), "train_missing": variant}
    return {k: v for k, v in given.items() if k in declared}


def shown_parameters(source: str, given: dict) -> str:
    """A parameters cell as the page shows it: each ``SHOWN_BUILD_KEYS`` line carries the
    value this build ran the page with, not the default a reader's own run gets."""
    for key in SHOWN_BUILD_KEYS:
        if key in given:
            source = re.sub(rf"^{key}(\s*)=\s*[^#\n]*?(\s*#[^\n]*)?$",
                            lambda m: f"{key}{m.group(1)}= {given[key]!r}" + (m.group(2) or ""),
                            source, flags=re.M)
    return source


def execute(notebook: Path, output: Path, parameters: dict, overridden: bool) -> None:
    """Run one chapter with papermill, from the repository root (so relative paths in
    parameters mean the same as on the command line). The page shows the parameters it was
    computed with, collapsed under a toggle: the defaults cell (with the build's own
    settings), or the reader's overrides in its place."""
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
            tags.append("hide-cell" if overridden else "remove-cell")
        elif "parameters" in tags:
            cell.source = shown_parameters(cell.source, parameters)
            tags.append("remove-cell" if overridden else "hide-cell")
        if "parameters" in tags or "injected-parameters" in tags:
            cell.metadata["mystnb"] = {"code_prompt_show": "The parameters this page ran with",
                                       "code_prompt_hide": "Hide the parameters"}
    nbformat.write(nb, output)


MAX_KERNELS = 4  # chapters executed at once (each kernel holds about 300 MB)


def _execute_one(job) -> str:
    notebook, output, parameters, overridden = job
    execute(notebook, output, parameters, overridden)
    return str(notebook.relative_to(paths.ROOT))


def inputs_digest(params: dict[str, dict]) -> str:
    """What an executed book depends on: its parameters, the sources, the library and the
    published data. The PDF reuses the executed chapters while this is unchanged."""
    h = hashlib.sha256(json.dumps(params, sort_keys=True).encode())
    files = [paths.ROOT / n for n in SOURCES] + [paths.ROOT / "intro.ipynb"]
    for folder in ("_ext", "_static", "chapters", "src/lrsweep", "data/runs", "data/range_tests", "data/importance", "data/simulations", "data/bench"):
        files += sorted(p for p in (paths.ROOT / folder).rglob("*") if p.is_file()
                        and "__pycache__" not in p.parts)
    for f in files:
        h.update(str(f.relative_to(paths.ROOT)).encode() + b"\0" + f.read_bytes())
    return h.hexdigest()


def stage(params: dict[str, dict], dest: Path) -> Path:
    """Copy the sources to ``dest`` and execute every chapter there."""
    digest = inputs_digest(params)
    if dest.exists():
        shutil.rmtree(dest)
    (dest / "chapters").mkdir(parents=True)
    for name in SOURCES:
        shutil.copy2(paths.ROOT / name, dest / name)
    for folder in ("_ext", "_static"):
        shutil.copytree(paths.ROOT / folder, dest / folder)
    for md in (paths.ROOT / "chapters").glob("*.md"):
        shutil.copy2(md, dest / "chapters" / md.name)
    # the chapters are independent (each writes its own files; shared caches are written
    # atomically), so they run side by side, a kernel per core, the first page (the longest) first
    jobs = [(nb, dest / nb.relative_to(paths.ROOT),
             {**book_parameters(nb, dest / "figures", variant=nb.stem in params), **params.get(nb.stem, {})},
             bool(params.get(nb.stem))) for nb in chapters()]
    workers = max(1, min(MAX_KERNELS, os.cpu_count() or 1))
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(_execute_one, job) for job in jobs]
        try:
            for future in futures:
                print(f"executed {future.result()}", flush=True)
        except BaseException:  # a chapter failed: the ones not started yet never start
            pool.shutdown(cancel_futures=True)
            raise
    # the commit the chapters' pages name (the cite page's BibTeX); the PDF names it too
    commit = provenance.git_state()["commit"] or "unknown"
    (dest / STAMP).write_text(json.dumps({"inputs": digest, "commit": commit}) + "\n")
    return dest


def _stamp(dest: Path) -> dict:
    """What ``stage`` recorded in ``dest``; empty when there is none (or an unreadable one)."""
    try:
        return json.loads((dest / STAMP).read_text())
    except (OSError, ValueError):
        return {}


def staged(params: dict[str, dict], dest: Path) -> Path:
    """The executed book in ``dest``: reused when it was executed from these very inputs."""
    if _stamp(dest).get("inputs") == inputs_digest(params):
        print(f"reusing the executed chapters in {dest}", flush=True)
        return dest
    return stage(params, dest)


def render(src: Path, out: Path, builder: str = "html", strict: bool = True) -> Path | None:
    """Jupyter Book renders the executed sources (it never executes); returns its output
    folder, or None when the build failed."""
    jb = Path(sys.executable).with_name("jupyter-book")
    # jupyter-book writes to <path-output>/_build/<builder>; keep everything under `out`
    # --all: a fresh Sphinx environment, so labels of pages changed since the last build
    # (a figure moved to another chapter) cannot linger as duplicates
    cmd = [str(jb), "build", str(src), "--path-output", str(out / "jb"), "--keep-going",
           "--builder", builder, "--all"]
    if strict:
        cmd += ["-W", "-n"]
    if subprocess.run(cmd).returncode != 0:
        return None
    return out / "jb" / "_build" / ("latex" if builder == "pdflatex" else builder)


def publish_html(built: Path, out: Path) -> None:
    html = out / "html"
    if html.exists():
        shutil.rmtree(html)
    shutil.move(built, html)
    print(f"\nThe book is at {html / 'index.html'}")


def build(params_file: str | None = None, strict: bool = True, out: Path | None = None) -> int:
    """Stage, execute and render into ``out`` (default ``_build``): the pages land in
    ``out/html``, the executed sources in ``out/book``."""
    params = read_params(params_file)
    out = Path(out or paths.ROOT / "_build").resolve()
    built = render(stage(params, out / "book"), out, strict=strict)
    if built is None:
        return 1
    publish_html(built, out)
    return 0


PDF_SUBJECT = ("Learning-rate sweeps of Adam and SGD with momentum on image recognition: "
               "can Adam's default learning rate be left untuned?")
PDF_KEYWORDS = "Adam, learning rate, hyperparameter tuning, SGD with momentum, DeepOBS"
# The first page's answer, in the order the answer box says it: the PDF's abstract
ABSTRACT_KEYS = ("verdict_short", "budget_short", "influence_short", "todo_short", "scope")
PARAMETER_TAGS = {"parameters", "injected-parameters"}


def _tex(text: str) -> str:
    """Plain text for pdflatex, escaped as Sphinx escapes the body text."""
    from sphinx.util import texescape
    texescape.init()  # Sphinx fills its tables when a LaTeX builder starts
    return texescape.escape(text, "pdflatex")


def abstract(src: Path) -> str:
    """The PDF's abstract: the answer box of the executed first page, as plain text."""
    values = glued.texts(src / "intro.ipynb")
    if values.get("scope"):
        values["scope"] = "Scope: " + values["scope"]
    return " ".join(values[k] for k in ABSTRACT_KEYS if values.get(k))


def latex_elements(title: str, author: str, commit: str, abstract_text: str = "") -> dict:
    """The PDF as a paper: a title block (title, author, date, the commit) with the
    abstract under it, no table of contents, numbered sections (the article-like "howto"
    class), and the PDF's own title, author, subject and keywords (hyperref, once loaded)."""
    metadata = (f"\\AtBeginDocument{{\\hypersetup{{pdftitle={{{_tex(title)}}}, pdfauthor={{{_tex(author)}}}, "
                f"pdfsubject={{{_tex(PDF_SUBJECT)} (commit {commit})}}, pdfkeywords={{{PDF_KEYWORDS}}}}}}}\n")
    return {
        "papersize": "a4paper",
        "preamble": metadata + "\\setcounter{secnumdepth}{2}\n",
        "tableofcontents": "",
        "maketitle": ("\\begin{center}"
                      f"{{\\LARGE\\bfseries {_tex(title)}\\par}}\\vspace{{1em}}"
                      f"{{\\large {_tex(author)}\\par}}\\vspace{{0.5em}}"
                      f"{{\\small \\today{{}} --- built from commit \\texttt{{{_tex(commit)}}}\\par}}"
                      "\\end{center}"
                      + (f"\\begin{{abstract}}\\noindent {_tex(abstract_text)}\\end{{abstract}}"
                         if abstract_text else "")),
    }


def pdf_sources(src: Path, dest: Path) -> Path:
    """A copy of the executed book for LaTeX: no parameters cells (the web pages keep them,
    collapsed), and the bibliography at the end of the last chapter, so the paper has one
    reference list ("References") instead of an empty References chapter and a
    Bibliography after it."""
    import nbformat
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(src, dest)
    for path in [dest / "intro.ipynb", *sorted((dest / "chapters").glob("*.ipynb"))]:
        nb = nbformat.read(path, as_version=4)
        nb.cells = [c for c in nb.cells if not PARAMETER_TAGS & set(c.metadata.get("tags", []))]
        nbformat.write(nb, path)
    toc = yaml.safe_load((dest / "_toc.yml").read_text())
    toc["chapters"] = [c for c in toc["chapters"] if c.get("file") != "references"]
    (dest / "_toc.yml").write_text(yaml.safe_dump(toc, sort_keys=False))
    last = dest / f"{toc['chapters'][-1]['file']}.ipynb"
    nb = nbformat.read(last, as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell("```{bibliography}\n```"))
    nbformat.write(nb, last)
    (dest / "references.md").unlink()
    return dest


def pdf(params_file: str | None = None, strict: bool = True, out: Path | None = None) -> int:
    """The report as one PDF, from the chapters ``build`` executed (executing them only if
    they are missing or their inputs changed), laid out as a paper (``latex_elements``,
    ``pdf_sources``), the figures as the PDFs they were glued with. Then the HTML is
    rendered again, linking the PDF. Writes ``out/PDF_NAME`` and says where it is."""
    params = read_params(params_file)
    out = Path(out or paths.ROOT / "_build").resolve()
    src = staged(params, out / "book")
    (src / "_static" / PDF_NAME).unlink(missing_ok=True)
    paper = pdf_sources(src, out / "paper")
    config = yaml.safe_load((paper / "_config.yml").read_text())
    config["sphinx"]["config"]["numfig_secnum_depth"] = 0  # Fig. 1, 2, ... through the book, as in the HTML
    config["sphinx"]["config"]["latex_elements"] = latex_elements(
        config["title"], config["author"], _stamp(src)["commit"], abstract(src))
    config["latex"]["latex_documents"]["theme"] = "howto"  # sections, not a chapter a page
    (paper / "_config.yml").write_text(yaml.safe_dump(config))
    latex = render(paper, out, "pdflatex", strict)
    if latex is None or not (latex / "book.pdf").is_file():
        print("lrsweep: error: the LaTeX build failed; see its log above", file=sys.stderr)
        return 1
    target = out / PDF_NAME
    shutil.copy2(latex / "book.pdf", target)
    shutil.copy2(target, src / "_static" / PDF_NAME)  # the HTML links it from here
    built = render(src, out, strict=strict)
    if built is None:
        return 1
    publish_html(built, out)
    print(f"The PDF is at {target}")
    return 0

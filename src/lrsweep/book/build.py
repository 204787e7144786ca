"""Build the book: stage the sources in _build/book, execute every chapter there with
papermill (parameters: the published defaults, or overrides from a YAML file), then let
Jupyter Book render it with execution off and Sphinx warnings as errors."""
from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from ..errors import UsageError
from ..store import paths
from ..engine import provenance

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
    for nb in chapters():
        print(f"executing {nb.relative_to(paths.ROOT)}", flush=True)
        mine = params.get(nb.stem, {})
        given = book_parameters(nb, dest / "figures", variant=nb.stem in params)
        execute(nb, dest / nb.relative_to(paths.ROOT), {**given, **mine}, overridden=bool(mine))
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


def render(src: Path, out: Path, builder: str = "html", strict: bool = True,
           config: Path | None = None) -> Path | None:
    """Jupyter Book renders the executed sources (it never executes); returns its output
    folder, or None when the build failed."""
    jb = Path(sys.executable).with_name("jupyter-book")
    # jupyter-book writes to <path-output>/_build/<builder>; keep everything under `out`
    # --all: a fresh Sphinx environment, so labels of pages changed since the last build
    # (a figure moved to another chapter) cannot linger as duplicates
    cmd = [str(jb), "build", str(src), "--path-output", str(out / "jb"), "--keep-going",
           "--builder", builder, "--all"]
    if config is not None:
        cmd += ["--config", str(config)]
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


def latex_elements(title: str, author: str, commit: str) -> dict:
    """The PDF's LaTeX: a title page naming the commit, the PDF's own title, author,
    subject and keywords (hyperref, once it is loaded), no blank pages, tables shrunk to the
    line width."""
    tex = lambda text: text.replace("_", "\\_").replace("&", "\\&").replace("%", "\\%")  # noqa: E731
    metadata = (f"\\AtBeginDocument{{\\hypersetup{{pdftitle={{{tex(title)}}}, pdfauthor={{{tex(author)}}}, "
                f"pdfsubject={{{tex(PDF_SUBJECT)} (commit {commit})}}, pdfkeywords={{{PDF_KEYWORDS}}}}}}}\n")
    return {
        "extraclassoptions": "openany,oneside",
        "preamble": "\\usepackage{adjustbox}\n" + metadata,
        "maketitle": ("\\begin{titlepage}\\centering\\vspace*{6em}"
                      f"{{\\Huge\\bfseries {tex(title)}\\par}}\\vspace{{3em}}"
                      f"{{\\Large {tex(author)}\\par}}\\vspace{{2em}}"
                      f"{{\\small Built from commit\\\\\\texttt{{{commit}}}\\par}}\\vspace{{1em}}"
                      "{\\small \\today\\par}\\end{titlepage}"),
    }


def pdf(params_file: str | None = None, strict: bool = True, out: Path | None = None) -> int:
    """The report as one PDF, from the chapters ``build`` executed (executing them only if
    they are missing or their inputs changed): LaTeX with a title page naming the commit,
    the figures as the PDFs they were glued with. Then the HTML is rendered again, linking
    the PDF. Writes ``out/PDF_NAME`` and says where it is."""
    params = read_params(params_file)
    out = Path(out or paths.ROOT / "_build").resolve()
    src = staged(params, out / "book")
    (src / "_static" / PDF_NAME).unlink(missing_ok=True)
    config = yaml.safe_load((src / "_config.yml").read_text())
    config["sphinx"]["config"]["numfig_secnum_depth"] = 0  # Fig. 1, 2, ... through the book, as in the HTML
    config["sphinx"]["config"]["latex_elements"] = latex_elements(
        config["title"], config["author"], _stamp(src)["commit"])
    pdf_config = src / "_config.pdf.yml"  # beside the sources: local extensions resolve from it
    pdf_config.write_text(yaml.safe_dump(config))
    latex = render(src, out, "pdflatex", strict, pdf_config)
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

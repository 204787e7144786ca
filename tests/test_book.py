"""End to end: the chapter through papermill with tiny parameters, the book built from
that execution with Sphinx warnings as errors, and the pages checked in a real browser."""
import html as html_mod
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from lrsweep.stats import analysis
from lrsweep.book import report
from lrsweep.store import paths, records
from lrsweep.engine import provenance
from lrsweep.book import verdicts

pytestmark = pytest.mark.slow
TINY = {"problems": ["mnist_logreg"], "optimizers": ["adam", "sgd_momentum"],
        "lrs": [0.001, 0.1], "stage2_seeds": [0, 1], "epochs": 1}
BIN = Path(sys.executable).parent
COVERAGE_REPS = 8  # the Method's simulations, cut down: the page is what is tested here


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("book")


@pytest.fixture(scope="module")
def built(workdir):
    """The book built by the CLI with the tiny parameters (a variant book)."""
    runs = workdir / "runs"
    params = workdir / "tiny.yaml"
    tiny = {**TINY, "results_dir": str(runs)}  # the first page answers from the tiny study
    params.write_text(yaml.safe_dump({"mnist": tiny, "intro": tiny, "method": {"coverage_reps": COVERAGE_REPS}}))
    r = subprocess.run([sys.executable, "-m", "lrsweep", "book", "--params", str(params),
                        "--out", str(workdir / "build")], capture_output=True, text=True,
                       timeout=900)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]
    return workdir / "build" / "html", runs


def test_chapter_executed_by_papermill_glues_its_numbers_and_saves_its_figures(built, workdir):
    """The build ran the chapter through papermill with the tiny parameters (as a user's
    ``papermill chapters/mnist.ipynb ...`` would); its executed copy and figure files."""
    _, runs = built
    nb = json.loads((workdir / "build" / "book" / "chapters" / "mnist.ipynb").read_text())
    glued = {o.get("metadata", {}).get("scrapbook", {}).get("name")
             for c in nb["cells"] for o in c.get("outputs", [])}
    assert {"mnist_logreg__adam_best_lr", "mnist_logreg__adam_acc_default", "fig-mnist-logreg-lr",
            "mnist_logreg__summary_table", "design"} <= glued
    # stage 1: 2 lrs x seed 0; stage 2: the default and the best (here both) x seeds 0, 1
    assert len(list((runs / "mnist_logreg").glob("*.json"))) == 2 * 2 * 2
    # the parameters a page ran with, collapsed: the reader's overrides on the variant page,
    # the defaults with the build's own train_missing on a page the build did not vary
    shown = [c for c in nb["cells"] if "hide-cell" in c["metadata"].get("tags", [])]
    assert len(shown) == 1 and "injected-parameters" in shown[0]["metadata"]["tags"]
    source = "".join(shown[0]["source"])
    assert "mnist_logreg" in source and "train_missing" not in source
    fmnist = json.loads((workdir / "build" / "book" / "chapters" / "fmnist.ipynb").read_text())
    [params] = [c for c in fmnist["cells"] if "parameters" in c["metadata"].get("tags", [])]
    assert "hide-cell" in params["metadata"]["tags"] and "train_missing = False" in "".join(params["source"])
    figures = workdir / "build" / "book" / "figures"  # the build's figures_dir, not the checkout's
    for name in ("fig-mnist-logreg-lr", "fig-mnist-logreg-epochs"):
        assert len(list(figures.glob(f"{name}.*"))) == 3, name


def test_bad_parameter_type_fails_with_a_clear_message(tmp_path):
    cmd = [str(BIN / "papermill"), "chapters/mnist.ipynb", str(tmp_path / "o.ipynb"),
           "-p", "lrs", "[0.001, 0.01]", "-p", "results_dir", str(tmp_path / "runs")]
    r = subprocess.run(cmd, cwd=paths.ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode != 0
    assert "UsageError: lrs must be a list" in r.stderr
    assert not (tmp_path / "runs").exists()


def test_book_pages_hold_figure_and_numbers_from_the_records(built):
    html, runs = built
    page = (html / "chapters" / "mnist.html").read_text()
    intro = (html / "intro.html").read_text()
    # the glued numbers are the ones the records give
    final = analysis.final_epoch(records.tidy(records.load_all(runs)))
    numbers = report.headline_numbers(analysis.summary(final), "mnist_logreg")
    for key in ("adam_best_lr", "adam_acc_default", "adam_acc_tuned", "sgd_momentum_best_lr"):
        assert numbers[key] in page, key
    assert numbers["adam_regret"] in intro
    # the first page answers from the same study: its plain answer, its overview figure
    intro_text = " ".join(html_mod.unescape(re.sub(r"<[^>]+>", "", intro)).replace("\u2019", "'").split())
    assert verdicts.plain_answer(analysis.summary(final), analysis.fixed_lr_table(final)) in intro_text
    assert 'id="fig-headline"' in intro and "of 1 problem (MNIST (logistic regression))" in intro_text
    # tables are numbered, with their captions
    assert re.search(r"Table \d+\s*The verdict on each optimizer's default learning rate", intro_text)
    # a numbered, labelled, captioned figure with an embedded image
    assert 'id="fig-mnist-logreg-lr"' in page
    assert re.search(r"Fig(ure|\.) \d", page) and "triangles: runs that ended at chance" in " ".join(page.split())
    assert re.search(r'<img[^>]+src="[^"]+\.png"', page)
    # ... and the same figure as files to download
    for ext in ("svg", "pdf", "png"):
        [link] = re.findall(rf'href="\.\./(_downloads/[^"]+/fig-mnist-logreg-lr\.{ext})"', page)
        assert (html / link).stat().st_size > 1000, link
    # the compute appendix sums the published records and shows the committed benchmark
    compute_page = html_mod.unescape(re.sub(r"<[^>]+>", "", (html / "chapters" / "compute.html").read_text()))
    published = records.load_all(paths.PUBLISHED_RUNS)
    assert f"hold {len(published):,} runs" in compute_page
    assert f"{sum(r['wall_time_s'] for r in published) / 3600:.2f}" in compute_page
    assert "MNIST (logistic regression)" in compute_page and "MFU" in compute_page and "training hours" in compute_page
    assert len(list((html / "_downloads").rglob("lrsweep-runs.csv.gz"))) == 1
    # the cite page: BibTeX naming the commit the book was built from, and the records' data
    cite = html_mod.unescape(re.sub(r"<[^>]+>", "", (html / "chapters" / "cite.html").read_text()))
    commit = provenance.git_state()["commit"]
    assert "@misc{lrsweep" in cite and f"note = {{commit {commit}}}" in cite
    assert f"built from commit {commit}" in cite
    assert "sha256:ba891046e6505d7a" in cite  # MNIST training images, as the records hold it
    # the method page: the design from the registries, the rules, the simulated coverage
    method = html_mod.unescape(re.sub(r"<[^>]+>", "", (html / "chapters" / "method.html").read_text()))
    assert f"coverage ({COVERAGE_REPS} studies)" in method and "beta1 = 0.9, beta2 = 0.999" in method
    assert "Fashion-MNIST (2c2d CNN)" in method and "1 point" in method
    assert not re.search(r"\b(f?mnist|cifar10)_(2c2d|3c3d|mlp|logreg)\b", method)  # readable names only
    # the reference list renders the cited paper
    assert "adam: a method for stochastic optimization" in (html / "references.html").read_text().lower()
    # the parameters that were used are shown, the defaults they replaced are not
    text = html_mod.unescape(re.sub(r"<[^>]+>", "", page))
    assert "lrs = [0.001, 0.1]" in text and "3.16e-05" not in text
    assert "figures_dir" not in text and "train_missing = " not in text  # the build's own
    # prose that states the design reads true for this one-seed, one-epoch variant
    assert "get 2 seeds" in text and "Trained for 1 epoch." in text
    # no page shows markdown unrendered (glued text is inserted as it is, links included)
    for f in html.rglob("*.html"):
        shown = re.sub(r"<(script|style|pre)\b.*?</\1>", "", f.read_text(), flags=re.S)
        shown = html_mod.unescape(re.sub(r"<[^>]+>", "", shown))
        assert not re.search(r"\]\([^)\s]+\)|\{glue:|\{cite:", shown), f.relative_to(html)


def table_font_sizes(pdf: Path, header: str) -> list[float]:
    """The font sizes (points) of the words ``header`` in a table's header row (a table is
    set in one size, so a table shrunk to fit shrinks its header too), each from the height
    poppler gives its box over the height of the font's box at 1 pt (Times: 0.93 em)."""
    out = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True,
                         check=True).stdout
    boxes = [(float(y0), float(y1), html_mod.unescape(w)) for y0, y1, w in re.findall(
        r'<word xMin="[\d.]+" yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">([^<]*)</word>', out)]
    words = header.split()
    for i in range(len(boxes) - len(words) + 1):
        if [b[2] for b in boxes[i:i + len(words)]] == words:
            return [(y1 - y0) / 0.93 for y0, y1, _ in boxes[i:i + len(words)]]
    raise AssertionError(f"no table with {header!r} in the PDF")


def test_pdf_from_the_same_execution(built, workdir):
    """make pdf: LaTeX from the chapters the book build executed (never executed again),
    every figure caption, the intro's glued numbers and the references in its text, and
    the HTML linking it."""
    missing = [t for t in ("latexmk", "pdflatex", "pdftotext", "pdfinfo") if shutil.which(t) is None]
    if missing:
        pytest.skip(f"TeX Live is not installed ({', '.join(missing)} missing; make tex installs it)")
    html, runs = built
    r = subprocess.run([sys.executable, "-m", "lrsweep", "pdf", "--params", str(workdir / "tiny.yaml"),
                        "--out", str(workdir / "build")], capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]
    assert "reusing the executed chapters" in r.stdout and "executing chapters" not in r.stdout
    pdf = workdir / "build" / "lrsweep-report.pdf"
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    meta = dict(line.split(":", 1) for line in info.splitlines() if ":" in line)
    cfg = yaml.safe_load((paths.ROOT / "_config.yml").read_text())
    assert meta["Title"].strip() == cfg["title"] and meta["Author"].strip() == cfg["author"]
    assert "Adam" in meta["Subject"] and provenance.git_state()["commit"][:12] in meta["Subject"]
    text = " ".join(subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True,
                                   text=True, check=True).stdout.split())
    numbers = report.headline_numbers(analysis.summary(analysis.final_epoch(
        records.tidy(records.load_all(runs)))), "mnist_logreg")
    for key in ("adam_regret", "adam_regret_ci", "adam_best_lr"):
        assert numbers[key] in text, key
    # every figure caption, numbered as in the HTML
    numbers = []
    for start in ("Test accuracy against the learning rate after each problem", "The regret of Adam's default (points of test accuracy lost",
                  "MNIST (logistic regression): test accuracy (left)",
                  "MNIST (logistic regression): test accuracy over the epochs",
                  "Test accuracy of Adam over the epochs, ours"):  # intro x 2, mnist x 2, ..., deepobs
        [n] = re.findall(rf"Fig\. (\d+): {re.escape(start).replace(chr(39), '.')}", text)  # ' or ’
        numbers.append(int(n))
    # numbered through the book, in page order, as in the HTML (the chapters between mnist
    # and deepobs read the published records, whose figures depend on the study's progress)
    assert numbers[:4] == [1, 2, 3, 4] and numbers[4] > 4
    assert "built from commit " + provenance.git_state()["commit"] in text
    assert "Adam: a method for stochastic optimization" in text and "DeepOBS" in text
    # a paper: the first page's answer as its abstract, sections instead of a chapter a page,
    # one reference list, no links to download what the PDF already shows, no parameters
    head = text[:text.index("How to read and rerun it")]
    assert "Abstract" in head and "What to do" in head and "Scope:" in head
    assert "CHAPTER" not in text and "Download" not in text and "Contents" not in head
    assert len(re.findall(r"\bReferences\b", text)) == 1 and "Bibliography" not in text
    assert "# Parameters" not in text and "figures_dir" not in text and "train_missing" not in text
    # figures carry their fonts as outlines (no Type 3), and no table is set below 8 pt
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "Type 3" not in fonts and "DejaVuSans" in fonts
    assert min(table_font_sizes(pdf, "verdict on the default")) >= 8.0
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    # the whole book and no runaway layout; it grows with the published study (41 pages
    # with its six problems, the designs, the alternatives and the long runs)
    assert 8 <= int(re.search(r"Pages:\s+(\d+)", info).group(1)) <= 80
    for page in ("intro.html", "chapters/cite.html"):
        assert "lrsweep-report.pdf" in (html / page).read_text(), page
    # and every page's download menu offers it
    for page in ("intro.html", "chapters/method.html", "chapters/mnist.html"):
        assert re.search(r'href="[./]*_static/lrsweep-report\.pdf"[^>]*\s+class="[^"]*download-report-pdf-button',
                         (html / page).read_text()), page
    assert (html / "_static" / "lrsweep-report.pdf").read_bytes() == pdf.read_bytes()


def test_pages_render_in_a_real_browser(built, tmp_path):
    html, _ = built
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    assert os.path.exists(chromium), "install Debian's chromium (make browser)"
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update"])
        page = browser.new_page()
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto((html / "index.html").as_uri())
        page.wait_for_url("**/intro.html")  # index.html redirects to the root page
        assert "0.001" in page.title()
        page.get_by_role("link", name="MNIST chapter").first.click()
        page.wait_for_load_state()
        assert page.url.endswith("chapters/mnist.html")
        fig = page.locator("#fig-mnist-logreg-lr img")
        fig.scroll_into_view_if_needed()
        assert fig.evaluate("img => img.complete && img.naturalWidth > 300")
        assert page.locator("#fig-mnist-logreg-lr figcaption").inner_text().startswith("Fig")
        page.screenshot(path=str(tmp_path / "chapter.png"), full_page=True)
        # every page of the book: images load, figures are numbered, internal links resolve
        pages = sorted(html.glob("*.html")) + sorted((html / "chapters").glob("*.html"))
        pages = [q for q in pages if q.name not in ("index.html", "search.html", "genindex.html")]
        assert len(pages) >= 6, pages
        checked = {"images": 0, "captions": 0, "links": 0}
        for path in pages:
            page.goto(path.as_uri())
            page.wait_for_load_state()
            name = path.relative_to(html)
            for img in page.locator("article img").all():
                img.scroll_into_view_if_needed()
                assert img.evaluate("i => i.complete && i.naturalWidth > 0"), (name, img.get_attribute("src"))
                checked["images"] += 1
            # no table needs scrolling sideways in the desktop column (the default viewport)
            for w, room in page.locator("article table").evaluate_all(
                    "ts => ts.map(t => [t.scrollWidth, t.parentElement.clientWidth])"):
                assert w <= room + 1, (name, w, room)
            # every numbered figure has its three download links under it
            n_figures = page.locator("article figure[id^='fig-']").count()
            assert page.locator("article p.figure-downloads").count() == n_figures, name
            assert page.locator("article p.figure-downloads a[download]").count() == 3 * n_figures, name
            for caption in page.locator("article figure figcaption").all_inner_texts():
                assert re.match(r"Fig\. \d+", caption), (name, caption[:60])
                checked["captions"] += 1
            for href in page.locator("article a[href]").evaluate_all("as => as.map(a => a.href)"):
                if href.startswith("file://"):
                    target, _, anchor = href[len("file://"):].partition("#")
                    assert Path(target).is_file(), (name, href)
                    checked["links"] += 1
                    if anchor and target.endswith(".html"):
                        assert f'id="{anchor}"' in Path(target).read_text(), (name, href)
        browser.close()
    assert not errors, errors
    # the tiny book has 2 figures, their downloads and the pages' cross-links
    assert checked["images"] >= 2 and checked["captions"] >= 2 and checked["links"] >= 20, checked


SCREENS = {"desktop": (1280, 800), "phone": (390, 844)}


@pytest.mark.parametrize("screen", SCREENS)
def test_the_answer_is_on_the_first_screen_and_tables_fit_their_column(built, screen):
    """The reader gets the answer without scrolling, on a desktop and on a phone, and no
    table of the first page needs scrolling sideways."""
    html, _ = built
    width, height = SCREENS[screen]
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium", args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update"])
        page = browser.new_page(viewport={"width": width, "height": height})
        page.goto((html / "intro.html").as_uri())
        page.wait_for_load_state()
        box = page.locator("div.admonition.answer")
        assert box.count() == 1
        bb = box.bounding_box()
        assert bb["y"] >= 0 and bb["y"] + bb["height"] <= height, (screen, bb)
        assert "Scope" in box.inner_text() and "What to do" in box.inner_text()
        widths = page.locator("article table").evaluate_all(
            "ts => ts.map(t => [t.scrollWidth, t.parentElement.clientWidth])")
        assert widths, "the first page shows its tables"
        if screen == "desktop":  # a phone may scroll a table sideways; a desktop column may not
            assert all(w <= room + 1 for w, room in widths), widths
        # the headline figure comes right under the answer, as wide as the screen allows
        shown = page.locator("#fig-headline img").bounding_box()
        assert shown["y"] > bb["y"] + bb["height"] - 1 and shown["width"] >= min(0.85 * width, 600), shown
        browser.close()


def test_chapters_are_committed_without_outputs_and_with_a_parameters_cell():
    """Outputs belong to the build, not to the source (papermill executes into _build)."""
    for nb_path in (paths.ROOT / "chapters").glob("*.ipynb"):
        nb = json.loads(nb_path.read_text())
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        assert all(not c.get("outputs") and c.get("execution_count") is None for c in code), nb_path
        tagged = [c for c in code if "parameters" in c.get("metadata", {}).get("tags", [])]
        assert len(tagged) == 1, nb_path

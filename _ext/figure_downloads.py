"""Sphinx extension: every numbered figure gets its download links under it (SVG, PDF and
PNG, from the files the chapters saved into the staged book's ``figures`` folder), in the
web book only. A page places a figure with its anchor typed once, in its ``:name:``."""
from pathlib import Path

from docutils import nodes
from sphinx import addnodes

FORMATS = ("svg", "pdf", "png")  # lrsweep.book.figures.FORMATS


def _links(app, doctree):
    """Before Sphinx collects the page's downloads (its collector runs at priority 500)."""
    folder = Path(app.srcdir) / "figures"
    for figure in list(doctree.findall(nodes.figure)):
        name = next((i for i in figure["ids"] if i.startswith("fig-")), None)
        if name is None or not all((folder / f"{name}.{ext}").is_file() for ext in FORMATS):
            continue
        line = nodes.paragraph("", "", nodes.Text("Download this figure: "), classes=["figure-downloads"])
        for k, ext in enumerate(FORMATS):
            ref = addnodes.download_reference("", "", refdoc=app.env.docname, refdomain="",
                                              reftype="download", refexplicit=True, refwarn=False,
                                              reftarget=f"/figures/{name}.{ext}")
            ref += nodes.literal("", ext.upper(), classes=["xref", "download"])
            line += [ref, nodes.Text(", " if k < len(FORMATS) - 1 else ".")]
        only = addnodes.only(expr="html")
        only += line
        figure.parent.insert(figure.parent.index(figure) + 1, only)


def setup(app):
    app.connect("doctree-read", _links, priority=400)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

"""Sphinx extension: every numbered figure gets its download links under it (SVG, PDF and
PNG, from the files the chapters saved into the staged book's ``figures`` folder), in the
web book only. A glued figure is named after its glue key (``{glue:figure} fig-basin`` is
``{numref}`fig-basin```, its files fig-basin.svg, ...), so a page types its anchor once:
``lrsweep.book.figures.placed`` glues and saves under the same name."""
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


def _anchored_glue_figure():
    from myst_nb.ext.glue.directives import PasteFigureDirective

    class AnchoredGlueFigure(PasteFigureDirective):
        """MyST-NB's ``glue:figure``, its anchor the glue key unless a ``:name:`` says otherwise."""
        def run(self):
            self.options.setdefault("name", self.arguments[0])
            return super().run()
    return AnchoredGlueFigure


def setup(app):
    app.setup_extension("myst_nb")  # its glue domain first, then this figure in its place
    app.add_directive_to_domain("glue", "figure", _anchored_glue_figure(), override=True)
    app.connect("doctree-read", _links, priority=400)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

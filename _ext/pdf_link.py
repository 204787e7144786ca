"""Sphinx extension: tag the build "pdf" when the report's PDF sits in ``_static``.

``make pdf`` builds the PDF from the executed chapters, copies it to
``_static/lrsweep-report.pdf`` in the staged book and renders the HTML again; pages then
show their ``{only} pdf`` blocks, which link it. A plain ``make book`` stages afresh, with
no PDF and so no link to a stale one.
"""
from pathlib import Path

PDF = "lrsweep-report.pdf"


def _tag(app):
    if (Path(app.srcdir) / "_static" / PDF).is_file():
        app.tags.add("pdf")


def setup(app):
    app.connect("builder-inited", _tag)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

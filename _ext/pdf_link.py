"""Sphinx extension: link the report's PDF when it sits in ``_static``.

``make pdf`` builds the PDF from the executed chapters, copies it to
``_static/lrsweep-report.pdf`` in the staged book and renders the HTML again; pages then
show their ``{only} pdf`` blocks, which link it, and every page's download menu offers it
("The report as PDF") beside the page's own files. A plain ``make book`` stages afresh,
with no PDF and so no link to a stale one.
"""
from pathlib import Path

PDF = "lrsweep-report.pdf"


def _has_pdf(app) -> bool:
    return (Path(app.srcdir) / "_static" / PDF).is_file()


def _tag(app):
    if _has_pdf(app):
        app.tags.add("pdf")


def _menu(app, pagename, templatename, context, doctree):
    """After the theme has filled the download menu (its handlers run at priority 501)."""
    if not _has_pdf(app):
        return
    for group in context.get("header_buttons", []):
        if group.get("label") == "download-buttons":
            group["buttons"].insert(0, {
                "type": "link", "url": context["pathto"](f"_static/{PDF}", 1),
                "text": "The report as PDF", "tooltip": "The whole report as one PDF",
                "icon": "fas fa-file-pdf", "label": "download-report-pdf-button"})


def setup(app):
    app.connect("builder-inited", _tag)
    app.connect("html-page-context", _menu, priority=600)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

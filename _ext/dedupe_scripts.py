"""Sphinx extension: emit each <script> once per page.

sphinx-thebe 0.3.1 registers its inline configuration script on every
``env-before-read-docs`` event, which Jupyter Book 1 fires twice, so every page declared
``const THEBE_JS_URL`` twice and the browser reported a SyntaxError.
"""


def _dedupe(app, pagename, templatename, context, doctree):
    seen, unique = set(), []
    for js in context.get("script_files", []):
        # the copies differ only in filename None vs '' (body-only scripts)
        attrs = getattr(js, "attributes", {})
        key = (getattr(js, "filename", str(js)) or "", tuple(sorted((k, str(v)) for k, v in attrs.items())))
        if key not in seen:
            seen.add(key)
            unique.append(js)
    context["script_files"] = unique


def setup(app):
    app.connect("html-page-context", _dedupe, priority=999)  # after every other handler
    return {"parallel_read_safe": True, "parallel_write_safe": True}

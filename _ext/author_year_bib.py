"""Sphinx extension: the reference list labelled author-year ("Kingma and Ba, 2015"),
matching the author-year citations in the text (``bibtex_reference_style``), and sorted
by author, year and title. Registers the pybtex style ``authoryear``."""
from pybtex.plugin import register_plugin
from pybtex.richtext import Text
from pybtex.style.formatting.unsrt import Style as UnsrtStyle
from pybtex.style.labels import BaseLabelStyle


def _surname(person) -> str:
    return Text.from_latex(" ".join(person.prelast_names + person.last_names)).render_as("text")


class AuthorYearLabels(BaseLabelStyle):
    def format_labels(self, sorted_entries):
        for entry in sorted_entries:
            names = [_surname(p) for p in entry.persons.get("author", [])]
            who = (f"{names[0]} et al." if len(names) > 2 else " and ".join(names)) or entry.key
            yield f"{who}, {entry.fields.get('year', 'n.d.')}"


class AuthorYearStyle(UnsrtStyle):
    default_label_style = AuthorYearLabels
    default_sorting_style = "author_year_title"


def setup(app):
    register_plugin("pybtex.style.formatting", "authoryear", AuthorYearStyle)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

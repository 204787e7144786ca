"""The book: every page's numbers, prose, tables and figures, and its build."""

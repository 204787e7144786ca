# The two commands (see README): `make book` and `make test`. Both set up .venv first.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export PATH := $(abspath $(VENV))/bin:$(PATH)
# CI and fresh clones find the dataset mirror beside the project.
export LRSWEEP_MIRROR ?= $(if $(wildcard ../shared/data),$(abspath ../shared/data),)
# Datasets the published chapters read.
BOOK_DATA := mnist

.PHONY: book test pdf setup data browser tex freeze clean

book: setup data
	$(PY) -m lrsweep book

test: setup browser
	-@$(MAKE) --no-print-directory tex  # the PDF test skips, saying why, where TeX Live cannot be installed
	$(PY) -m pytest -q -n auto --dist loadfile --durations=15  # a worker per core; a test file stays on one worker (the book's tests share one build)

# Optional: the report as one PDF, from the chapters `make book` executed.
pdf: setup data tex
	$(PY) -m lrsweep pdf

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .
	touch $@

data: setup
	$(PY) -m lrsweep data fetch $(BOOK_DATA)

# The browser test drives Debian's Chromium (a downloaded browser cannot run here).
browser:
	@command -v chromium >/dev/null || { \
	  echo "installing Debian chromium for the browser test"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# LaTeX for `make pdf` (and its test), from Debian's TeX Live; pdftotext/pdftoppm for checks.
TEX_PACKAGES := latexmk texlive-latex-recommended texlive-latex-extra texlive-fonts-recommended \
	texlive-xetex tex-gyre fonts-freefont-otf lmodern poppler-utils
tex:
	@command -v latexmk >/dev/null && command -v pdftotext >/dev/null || { \
	  echo "installing Debian's TeX Live for the PDF"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(TEX_PACKAGES) >/dev/null; }

freeze: setup
	{ echo "# Exact pins for the whole environment (pip freeze of a working .venv; torch is the CPU build)."; \
	  echo "# Regenerate: make freeze"; \
	  $(PY) -m pip freeze --exclude-editable | sed 's/^torch==\(.*\)+cpu/torch==\1/'; } > requirements.txt

clean:
	rm -rf _build scratch

# Tâches du cours. Deux commandes suffisent sur une machine neuve (voir README.md) :
#   make course   installe tout, régénère les notebooks étudiants, exécute les solutions, construit le site
#   make test     lance toute la suite de tests
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export NO_MKDOCS_2_WARNING := 1
export TF_CPP_MIN_LOG_LEVEL := 3

.PHONY: course test install release release-check execute site clean

course: install
	$(BIN)/python -m labkit.course all

test: install
	$(BIN)/python -m pytest

install: $(STAMP)

# Les versions testées (environment.yml) servent de contraintes : l'installation est reproductible.
$(STAMP): pyproject.toml environment.yml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 10), "Python 3.10 ou plus récent est requis"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	sed -n 's/^ *- *\([A-Za-z0-9_.-]*==[^ ]*\) *$$/\1/p' environment.yml > $(VENV)/constraints.txt
	$(BIN)/python -m pip install --quiet -c $(VENV)/constraints.txt -e ".[torch,optimize,tf,course,dev]"
	touch $(STAMP)

release: install
	$(BIN)/python -m labkit.course release

release-check: install
	$(BIN)/python -m labkit.course release --check

execute: install
	$(BIN)/python -m labkit.course execute

site: install
	$(BIN)/python -m labkit.course site

clean:
	rm -rf site build $(VENV)

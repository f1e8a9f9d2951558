# Tâches du cours. Deux commandes suffisent sur une machine neuve (voir README.md) :
#   make course   installe tout, régénère la version étudiante, construit la publication (site, notebooks, paquet)
#   make test     lance toute la suite de tests (linter compris)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
EXTRAS := torch,optimize,tf,tracking,config,serve,report,teach,site,dev
export NO_MKDOCS_2_WARNING := 1
export TF_CPP_MIN_LOG_LEVEL := 3

.PHONY: course test install browser release release-check execute figures site publish clean

course: install
	$(BIN)/labkit-course all

test: install browser
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

install: $(STAMP)

# Les versions testées (environment.yml) servent de contraintes : l'installation est reproductible.
$(STAMP): pyproject.toml environment.yml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 ou plus récent est requis"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	sed -n 's/^ *- *\([A-Za-z0-9_.-]*==[^ ]*\) *$$/\1/p' environment.yml > $(VENV)/constraints.txt
	$(BIN)/python -m pip install --quiet -c $(VENV)/constraints.txt -e ".[$(EXTRAS)]"
	touch $(STAMP)

# Les tests du navigateur pilotent le Chromium de Debian (Playwright ne peut pas télécharger le sien ici).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium fonts-noto-color-emoji >/dev/null; \
	  elif command -v sudo >/dev/null 2>&1; then sudo apt-get update -qq && sudo apt-get install -y -qq chromium fonts-noto-color-emoji >/dev/null; \
	  else echo "Chromium absent et installation impossible sans droits : les tests du navigateur seront sautés."; fi; }

release: install
	$(BIN)/labkit-course release

release-check: install
	$(BIN)/labkit-course release --check

execute: install
	$(BIN)/labkit-course execute

figures: install
	$(BIN)/labkit-course execute --refresh-figures --record
	$(BIN)/labkit-course figures

site: install
	$(BIN)/labkit-course site

publish: install
	$(BIN)/labkit-course publish

# grading/ (notes, rendus, retours) n'est jamais effacé.
clean:
	rm -rf site build $(VENV)

# The two commands of the README. Both create the virtual environment and install the pinned set once (idempotent).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.paddle-edge-installed

.PHONY: demo test install
demo: $(STAMP)
	$(BIN)/paddle-edge demo --out build/demo

test: $(STAMP)
	$(BIN)/python -m pytest tests

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip==25.3"
	$(BIN)/python -m pip install --quiet -e ".[train,test]"
	touch $(STAMP)

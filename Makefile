# The two commands a learner needs:  `make lab` (open the course)  and  `make test` (check it).
# Both create .venv and install the pinned stack on first use; later runs reuse it.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
KERNEL := mnist_from_scratch
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: lab test test-slow install export clean-nbs readme bench mutate browser-test

lab: $(STAMP)  ## start JupyterLab on nbs/ with the course's kernel (adds --allow-root only when run as root)
	$(BIN)/python tools/lab.py $(LAB_ARGS)

test: $(STAMP)  ## export/clean/readme checks, every notebook under nbdev_test, closing "N passed, N failed"
	$(BIN)/python tools/run_tests.py $(TEST_ARGS)

test-slow: $(STAMP)  ## the cells flagged slow too (resnet18: 2-3 min on a 2-core CPU), in the notebooks that have them
	$(BIN)/python tools/run_tests.py --slow --skip-pytest $(TEST_ARGS)

install: $(STAMP)

$(STAMP): setup.py settings.ini constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check -q -c constraints.txt -e ".[dev]"
	$(BIN)/python -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "mnist_from_scratch (Python 3)"
	@touch $(STAMP)

export: $(STAMP)  ## notebooks -> mnist_from_scratch/
	$(BIN)/nbdev_export

clean-nbs: $(STAMP)  ## strip outputs and noise from the notebooks
	$(BIN)/nbdev_clean

readme: $(STAMP)  ## README.md from nbs/index.ipynb (nbdev_readme needs Quarto)
	$(BIN)/python tools/make_readme.py

bench: $(STAMP)  ## training-speed benchmark against the book's and PyTorch's loaders
	$(BIN)/python tools/bench.py $(BENCH_ARGS)

browser-test: $(STAMP)  ## only the end-to-end browser test (JupyterLab + headless Chromium); screenshot in .test-artifacts/browser/
	$(BIN)/python -m pytest -q -rs tests/test_browser.py

mutate: $(STAMP)  ## mutation check: every planted mistake must make nbdev_test fail
	$(BIN)/python tools/mutate.py $(MUTATE_ARGS)

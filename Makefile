# cnnreport: `make book` builds the book (quick profile), `make test` runs the tests.
# Both create .venv and the data folder on first use.

PYTHON  ?= python3
VENV    ?= .venv
PY      := $(VENV)/bin/python
PROFILE ?= quick
export CNNREPORT_DATA ?= $(CURDIR)/data
# Sleeping (not spinning) OpenMP threads: much faster CPU training when the cores are shared.
export OMP_WAIT_POLICY ?= PASSIVE
SHARED_DATA := $(wildcard ../shared/data/materialize.py)

.PHONY: book test data venv chapter clean-book

venv: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -e ".[dev]"
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $@

# The three datasets as <name>.npz under $CNNREPORT_DATA: from the project's shared
# copies when they are beside the checkout, else downloaded with torchvision.
data: venv $(CNNREPORT_DATA)/.complete
$(CNNREPORT_DATA)/.complete:
	mkdir -p $(CNNREPORT_DATA)
ifneq ($(SHARED_DATA),)
	$(PY) $(SHARED_DATA) $(CNNREPORT_DATA)
else
	$(PY) -m cnnreport.data download cifar10 mnist fashion_mnist --root $(CNNREPORT_DATA)
endif
	$(PY) -m cnnreport.data check --root $(CNNREPORT_DATA)
	touch $@

test: venv data
	$(PY) -m pytest -q

book: venv data
	$(PY) -m cnnreport.book --profile $(PROFILE)

# One chapter with one parameter file: make chapter CHAPTER=architectures PROFILE=full
chapter: venv data
	$(PY) -m cnnreport.run book/$(CHAPTER).md -f params/$(PROFILE)/$(CHAPTER).yaml

clean-book:
	rm -rf _build book/chapters

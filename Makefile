# cnnreport: `make book` builds the book (the full profile, from the stored results: it trains
# nothing on a machine without a GPU), `make book PROFILE=quick` re-runs the shortened runs,
# `make test` runs the tests.
# Both create .venv and the data folder on first use.

PYTHON  ?= python3
VENV    ?= .venv
PY      := $(VENV)/bin/python
PROFILE ?= full
export CNNREPORT_DATA ?= $(CURDIR)/data
# Sleeping (not spinning) OpenMP threads: much faster CPU training when the cores are shared.
export OMP_WAIT_POLICY ?= PASSIVE
SHARED_DATA := $(wildcard ../shared/data/materialize.py)

.PHONY: book test data venv chapter clean-book widgets-js

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
	$(PY) -m cnnreport data download cifar10 mnist fashion_mnist --root $(CNNREPORT_DATA)
endif
	$(PY) -m cnnreport data check --root $(CNNREPORT_DATA)
	touch $@

# The widget JavaScript of the static pages (explore page, figure switchers), served from the
# book's own static files so that they work with no network: the non-AMD bundle of
# @jupyter-widgets/html-manager (no require.js needed) with its fonts and licenses, from the
# npm registry, checked against pinned sha256 sums. Not committed (see .gitignore). They go to
# book/_extra/_static/widgets/, which html_extra_path copies to _build/html/_static/widgets/:
# Jupyter Book would put every .js file under book/_static/ on every page.
HTML_MANAGER := 1.0.15
WIDGETS_NPM  := @jupyter-widgets/html-manager@$(HTML_MANAGER) \
                @jupyter-widgets/schema@0.5.6 @fortawesome/fontawesome-free@5.15.4
WIDGETS_SUMS := 2b9d65cb7913e1c7d671757a10008b32c9c2448d4429513371e55c07d6107638  jupyter-widgets-html-manager-$(HTML_MANAGER).tgz \
                4ce88882229af6f49a9feb37fb0624a2a7f1c1bae7b55ecf795e96dc687f385f  jupyter-widgets-schema-0.5.6.tgz \
                6d890608585d48f50f6434a90ed3f581e76d360edb26800dba2f782ef3e77e11  fortawesome-fontawesome-free-5.15.4.tgz
WIDGETS_DIR  := book/_extra/_static/widgets
WIDGETS_TMP  := $(WIDGETS_DIR).tmp

widgets-js: $(WIDGETS_DIR)/.html-manager-$(HTML_MANAGER)
$(WIDGETS_DIR)/.html-manager-$(HTML_MANAGER):
	rm -rf $(WIDGETS_DIR) $(WIDGETS_TMP)
	mkdir -p $(WIDGETS_TMP)/out
	cd $(WIDGETS_TMP) && npm pack --silent $(WIDGETS_NPM) >/dev/null
	cd $(WIDGETS_TMP) && printf '%s  %s\n' $(WIDGETS_SUMS) | sha256sum --check --strict --quiet
	tar -xzf $(WIDGETS_TMP)/jupyter-widgets-html-manager-$(HTML_MANAGER).tgz -C $(WIDGETS_TMP)/out \
	    --strip-components=2 --exclude='*amd*' --exclude='*.map' package/dist
	tar -xzOf $(WIDGETS_TMP)/jupyter-widgets-html-manager-$(HTML_MANAGER).tgz package/package.json \
	    > $(WIDGETS_TMP)/out/package.json
	tar -xzOf $(WIDGETS_TMP)/jupyter-widgets-schema-0.5.6.tgz package/LICENSE > $(WIDGETS_TMP)/out/LICENSE
	tar -xzOf $(WIDGETS_TMP)/fortawesome-fontawesome-free-5.15.4.tgz package/LICENSE.txt \
	    > $(WIDGETS_TMP)/out/LICENSE.fontawesome.txt
	printf '%s\n' $(WIDGETS_NPM) > $(WIDGETS_TMP)/out/SOURCES.txt
	mv $(WIDGETS_TMP)/out $(WIDGETS_DIR)
	rm -rf $(WIDGETS_TMP)
	touch $@

test: venv data widgets-js
	$(PY) -m pytest -q

book: venv data widgets-js
	$(PY) -m cnnreport book --profile $(PROFILE)

# One chapter with one parameter file: make chapter CHAPTER=architectures PROFILE=full
chapter: venv data
	$(PY) -m cnnreport run book/$(CHAPTER).md -f params/$(PROFILE)/$(CHAPTER).yaml

clean-book:
	rm -rf _build book/chapters

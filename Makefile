# TerraSense: `make demo` and `make test` do all set-up on a fresh machine (Python >= 3.10 and make needed).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.terrasense-installed
PYTEST_ARGS ?=
comma := ,

.PHONY: setup demo test test-fast lint bench gallery clean

setup: $(STAMP)

# constraints.txt pins the whole tree that was verified together (llamafactory 0.9.5, transformers 5.6.0,
# torch 2.14.1, deepspeed 0.16.9 ...). deepspeed needs torch at build time, hence --no-build-isolation after the rest.
$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=24"
	$(PY) -m pip install --quiet -c constraints.txt -e ".[train,dev,share]"
	$(PY) -m pip install --quiet -c constraints.txt --no-build-isolation "deepspeed==0.16.9"
	touch $(STAMP)

demo: setup
	PATH="$(abspath $(VENV))/bin:$$PATH" $(VENV)/bin/terrasense demo

# the whole suite (slow training and ZeRO-3 runs included), then lint: CI runs exactly this
test: setup
	PATH="$(abspath $(VENV))/bin:$$PATH" $(PY) -m pytest $(PYTEST_ARGS)
	$(MAKE) --no-print-directory lint

test-fast: setup
	PATH="$(abspath $(VENV))/bin:$$PATH" $(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

bench: setup
	$(PY) benchmarks/run_all.py

# docs/gallery.png: previews of demo records (synthetic data), the first train record of each dataset and task below
GALLERY_DATASETS ?= dior_r inria_aerial rsvg rsvqa_hr second
GALLERY_TASKS ?= detect_all seg_polygons ground vqa change_semantic
gallery: setup
	$(VENV)/bin/terrasense demo --workdir runs/gallery --only $(subst $(eval) ,$(comma),$(GALLERY_DATASETS)) --no-train
	$(VENV)/bin/terrasense preview runs/gallery/converted --split train --per-task 1 \
		$(addprefix --dataset ,$(GALLERY_DATASETS)) $(addprefix --task ,$(GALLERY_TASKS)) \
		--cell 200 --columns 6 --rows 1 --out runs/gallery/preview
	mkdir -p docs && cp runs/gallery/preview/sheet-000.png docs/gallery.png

clean:
	rm -rf runs .pytest_cache .mypy_cache .ruff_cache

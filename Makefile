# The two commands a newcomer runs on a fresh machine:
#   make demo   set up .venv and run the whole pipeline on the embedded (synthetic) sample
#   make test   set up .venv and run the test suite
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
CLI := $(VENV)/bin/anime-gnn
STAMP := $(VENV)/.installed

.PHONY: setup demo test test-all web clean

setup: $(STAMP)

# torch is installed first, pinned, so that nothing pulls an unpinned CUDA build.
$(STAMP): setup.cfg pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -c constraints.txt torch
	$(PIP) install -q -c constraints.txt -e '.[test]'
	touch $(STAMP)

# The embedded sample is synthetic (see data/sample/README.md). A few minutes on 2 CPU cores.
DEMO_EPOCHS ?= 15
demo: setup
	$(CLI) preprocess --input-dir data/sample --output-dir data/processed --min-ratings 5
	$(CLI) train --data-dir data/processed --output-dir data/model/baseline --model baseline \
		--epochs $(DEMO_EPOCHS) --batch-size 512 --quiet
	$(CLI) train --data-dir data/processed --output-dir data/model/pytorch --model gnn --quiet  # its own defaults
	$(CLI) export --model-dir data/model/pytorch --output-dir public/model/anime_recommender
	# A new user known only by three ratings of synthetic sample anime:
	$(CLI) recommend --model-dir public/model/anime_recommender --ratings "1869:10,3799:9,652:3" --top-k 10

test: setup web
	$(PY) -m pytest -q

# The web page's only dependency, onnxruntime-web (exact version in package-lock.json), copied
# next to it: the wasm-only ES module build plus the threaded wasm runtime it loads.
ORT_DIST := node_modules/onnxruntime-web/dist
web:
	npm ci --ignore-scripts --no-audit --no-fund
	mkdir -p public/vendor
	cp $(ORT_DIST)/ort.wasm.min.mjs $(ORT_DIST)/ort-wasm-simd-threaded.mjs \
		$(ORT_DIST)/ort-wasm-simd-threaded.wasm public/vendor/

clean:
	rm -rf data/processed data/model

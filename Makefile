# The two commands of the README: `make run` and `make test`. Both create .venv on first use.
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check
export HF_HUB_OFFLINE := 1
export GRADIO_ANALYTICS_ENABLED := False

.PHONY: run test install index bench clean

# torch is pinned and installed first: that pin is the CPU wheel; an unpinned torch pulls CUDA.
# The model's ONNX export (questions are embedded with it, without torch) is made here, locally,
# into the user's cache (CAREQA_CACHE_DIR); if it fails, the first index build or question makes it.
$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -e .
	$(PY) -m careqa.onnx_export || echo "note: the ONNX export will be made at the first index build"
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PIP) install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed

index: install
	$(VENV)/bin/careqa index status >/dev/null 2>&1 || $(VENV)/bin/careqa index build

run: install
	$(VENV)/bin/careqa serve

test: $(VENV)/.installed-test
	$(PY) -m pytest -q

bench: index
	$(PY) benchmarks/latency.py
	$(PY) benchmarks/embed.py
	$(PY) benchmarks/update.py
	$(PY) benchmarks/ui_latency.py

clean:
	rm -rf $(VENV) index/default

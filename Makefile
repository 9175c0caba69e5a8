# Two commands do all set-up on a fresh machine:
#   make run    create .venv, install, start the app on http://localhost:8501
#   make test   the same plus dev needs (and Chromium on Debian), then every test
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8501
# test processes (pytest-xdist, whole files per process: a file's module fixtures stay
# together); most tests wait on a server, a browser or a worker, so two overlap well
# even on two cores. TEST_PROCS=0 runs them in this one process.
TEST_PROCS ?= 2

.PHONY: run test test-fast test-ray lint bench system-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.app: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt $(VENV)/.app
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	touch $@

run: $(VENV)/.app
	$(BIN)/python -m streamlit run streamlit_app.py --server.port $(PORT) --server.address localhost \
		--server.headless true --browser.gatherUsageStats false

# Debian's Chromium for the browser tests and the Fashion-MNIST package for the
# real-data checks, a CJK font for the 中文 pages in screenshots; only attempted as root with apt-get
# (tests say why they skip).
system-deps:
	@if [ ! -x /usr/bin/chromium ] || [ ! -d /usr/share/datasets/fashion-mnist ] || [ ! -d /usr/share/fonts/truetype/wqy ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium dataset-fashion-mnist fonts-wqy-microhei >/dev/null \
			|| echo "system-deps: apt-get install failed; browser or real-data tests will say why they skip"; \
		else echo "system-deps: not root or no apt-get: install chromium, dataset-fashion-mnist and fonts-wqy-microhei yourself"; fi; \
	fi

test: $(VENV)/.dev system-deps
	$(BIN)/python -m ruff check .
	$(MAKE) --no-print-directory test-ray
	$(BIN)/python -m pytest -n $(TEST_PROCS) --dist loadfile --durations=25

test-fast: $(VENV)/.dev
	$(BIN)/python -m pytest -m "not browser"

# Ray, for the Ray executor (requirements-ray.txt, in the same venv: the app never
# imports it unless PLAYGROUND_RAY_ADDRESS is set), tested against a real two-node
# cluster started in a loopback-only network namespace on this machine (root for
# ip netns; about 2 minutes). Elsewhere the Ray tests say loudly why they skip,
# and under CI that is a failure.
$(VENV)/.ray: requirements-ray.txt $(VENV)/.app
	$(BIN)/python -m pip install -q -r requirements-ray.txt
	touch $@

test-ray: $(VENV)/.dev $(VENV)/.ray
	@if [ "$$(id -u)" = 0 ] && command -v ip >/dev/null; then \
		RAY_PYTHON=$(abspath $(BIN))/python bash tests/ray_cluster.sh; \
	elif [ -n "$$CI" ]; then echo "RAY TESTS CANNOT RUN under CI: need root and ip (iproute2)"; exit 1; \
	else echo "RAY TESTS SKIPPED: need root and ip (iproute2) for the network namespace"; fi

lint: $(VENV)/.dev
	$(BIN)/python -m ruff check .

bench: $(VENV)/.app
	$(BIN)/python benchmarks/engine_vs_loop.py

clean:
	rm -rf $(VENV) test-artifacts .pytest_cache

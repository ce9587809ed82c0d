# A thin wrapper: CMakeLists.txt is the build. `make run` and `make test`
# install what is missing from Debian's packages, build into build/, then
# serve the HTTP API with demo keys (examples/run.sh) or run the test suite.
# `make run` builds the redress command only (`make server`: the library
# and the CLI, not the tests, bench or fuzz programs); `make test` and
# `make build` build everything.

BUILD     ?= build
DATA      ?= ./redress-data
LISTEN    ?= 127.0.0.1:8080
DEB_DEPS  := cmake make gcc clang pkg-config libsqlite3-dev libpq-dev libjansson-dev nettle-dev zlib1g-dev libgit2-dev libmagic-dev libarchive-dev libmicrohttpd-dev libcurl4-openssl-dev libicu-dev git sqlite3 jq curl
# the test suite's own PostgreSQL server (tests/support/pg.sh), the load
# balancer in front of several nodes (tests/e2e/lb.bash), and openssl, which
# signs requests by hand in tests/e2e/webhook_receiver.sh
TEST_DEPS := postgresql haproxy openssl
SUDO      := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
JOBS      := $(shell nproc 2>/dev/null || echo 2)

.PHONY: all deps configure server build run test clean lint-api ui-test lint fuzz bench

all: build

deps:
	@missing=""; \
	for pkg in $(DEB_DEPS); do \
	  dpkg-query -W -f='$${Status}' $$pkg 2>/dev/null | grep -q 'install ok installed' \
	    || missing="$$missing $$pkg"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends $$missing; \
	fi

configure: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo

server: configure
	cmake --build $(BUILD) -j$(JOBS) --target redress-cli

build: configure
	cmake --build $(BUILD) -j$(JOBS)

# Node.js and npm for the webhook tests' receiver (tests/e2e/webhook.bash;
# ctest's fixture webhook_receiver runs npm ci): NODE_DEPS, looked for as
# commands as for lint-api below.
test: DEB_DEPS += $(TEST_DEPS)
test: build
	@{ command -v node && command -v npm; } >/dev/null 2>&1 || \
	  $(MAKE) --no-print-directory deps DEB_DEPS="$(NODE_DEPS)"
	ctest --test-dir $(BUILD) --output-on-failure -j$(JOBS)

run: server
	@DATA=$(DATA) LISTEN=$(LISTEN) REDRESS=$(BUILD)/redress sh examples/run.sh

clean:
	rm -rf $(BUILD)

# `make lint-api` lints docs/openapi.yaml (rules in redocly.yaml) with a
# pinned Redocly CLI from npm. Node.js is needed by this target only, so it
# is not in DEB_DEPS. It is looked for as a command, not as a package:
# NodeSource's nodejs package carries npm and conflicts with Debian's npm.
NODE_DEPS   := nodejs npm
REDOCLY_CLI := @redocly/cli@2.77.0

lint-api:
	@command -v npx >/dev/null 2>&1 || $(MAKE) --no-print-directory deps DEB_DEPS="$(NODE_DEPS)"
	npx --yes $(REDOCLY_CLI) lint docs/openapi.yaml

# `make ui-test`: the web console in Debian's headless Chromium, driven by
# playwright-core (tests/ui/run.sh installs what is missing).
ui-test: build
	@REDRESS=$(BUILD)/redress sh tests/ui/run.sh

# `make lint`: clang-tidy and cppcheck over src/ and tests/, zero findings
# (scripts/lint.sh; configuration in .clang-tidy, tests/.clang-tidy and
# scripts/lint/; docs/lint.md). The analysers are installed if missing.
LINT_DEPS := cppcheck clang-tidy

lint: deps
	@$(MAKE) --no-print-directory deps DEB_DEPS="$(LINT_DEPS)"
	JOBS=$(JOBS) scripts/lint.sh $(BUILD)-lint

# `make fuzz` builds the libFuzzer targets of tests/fuzz/ with clang under
# ASan+UBSan in build-fuzz/ and runs each for FUZZ_SECONDS (default 60);
# the script installs clang's fuzzer runtime if missing. See
# docs/reliability.md, "Fuzzing".
fuzz: deps
	bash tests/fuzz/run.sh

# `make crashtest` kills the real server with SIGKILL under a mixed write
# load KILLS times (default 50) of CLIENTS clients (default 64, each on a
# connection of its own), restarting it each time, and checks that
# nothing acknowledged was lost and nothing was done twice; see
# tests/crash/crashtest.sh and docs/reliability.md.
KILLS ?= 50
CLIENTS ?= 64

.PHONY: crashtest
crashtest: build
	KILLS=$(KILLS) CLIENTS=$(CLIENTS) REDRESS=$(BUILD)/redress RD_CRASHLOAD=$(BUILD)/tests/rd-crashload \
	  bash tests/crash/crashtest.sh

# `make crashtest-nodes`: the same on PostgreSQL with NODES servers (2),
# a random one killed each time, NODE_KILLS times (20), the mirror's
# writer among them (tests/crash/crashtest_nodes.sh).
NODE_KILLS ?= 20
NODES ?= 2

.PHONY: crashtest-nodes
crashtest-nodes: build
	@$(MAKE) --no-print-directory deps DEB_DEPS="$(TEST_DEPS)"
	KILLS=$(NODE_KILLS) NODES=$(NODES) REDRESS=$(BUILD)/redress RD_CRASHLOAD=$(BUILD)/tests/rd-crashload \
	  bash tests/crash/crashtest_nodes.sh

# `make bench` measures redress against ceilings taken in the same run
# (bench/run.sh builds with -O2 into build-bench/ and prints one table;
# BENCH_SCALE=quick for a run of a few minutes; docs/performance.md).
# wrk drives the load; strace counts the fsync calls of a write.
BENCH_DEPS := wrk strace postgresql

bench: deps
	@$(MAKE) --no-print-directory deps DEB_DEPS="$(BENCH_DEPS)"
	bash bench/run.sh

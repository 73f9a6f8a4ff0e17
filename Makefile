# Sluice's build. Everything a fresh machine lacks beyond Go, gcc, git, node
# and npm is fetched here, once, into $(CACHE) outside the clone.
SHELL := /bin/bash
CACHE ?= $(HOME)/.cache/sluice
ORT_VERSION ?= 1.30.0
ORT_LIB := $(CACHE)/onnxruntime-node-$(ORT_VERSION)/libonnxruntime.so.1
BIN := bin/sluice
GO ?= go

export SLUICE_CACHE := $(CACHE)
export SLUICE_ORT_LIB ?= $(ORT_LIB)
export ORT_NPM_VERSION := $(ORT_VERSION)

.PHONY: all build run apply-example test test-short bench bench-deps ort fmt vet clean reliability fuzz-short

all: build

build: $(BIN)

$(BIN): $(shell find cmd engine runtime schema internal -name '*.go' -o -name '*.cue' 2>/dev/null) go.mod go.sum
	$(GO) build -o $(BIN) ./cmd/sluice

ort: $(ORT_LIB)

$(ORT_LIB): scripts/fetch-ort.sh
	scripts/fetch-ort.sh >/dev/null

# run is Sluice's main job: the daemon keeps .sluice/state.db equal to
# examples/repo on this clone's checked-out branch, applies each commit as
# it lands, and serves the endpoints and its operator API on $(ADDR), until ^C.
ADDR ?= 127.0.0.1:8080
run: build ort
	@# Two malloc arenas keep hot swaps from fragmenting eight per core
	@# (BENCHMARKS.md, Daemon).
	MALLOC_ARENA_MAX=2 $(BIN) daemon --repo . --path examples/repo --listen $(ADDR) --open-reads

# apply-example applies the example once, without a daemon, and reads one
# entity's online features.
apply-example: build ort
	$(BIN) validate --repo . --path examples/repo
	$(BIN) plan --repo . --path examples/repo
	$(BIN) apply --repo . --path examples/repo --auto-approve
	$(BIN) status
	@# The example's data ends on 2026-11-20; read it as of the day after so
	@# its TTLs still hold whenever this runs.
	$(BIN) features get user_stats --entity user_id=1001 --at 2026-11-21T00:00:00Z

fmt:
	@out=$$(gofmt -l cmd engine runtime schema internal examples reliability 2>/dev/null); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

test: ort fmt vet
	$(GO) test -race -count=1 ./...
	$(MAKE) fuzz-short

# fuzz-short runs each fuzz target for FUZZTIME; a crash it finds is saved
# under the package's testdata/fuzz and becomes a regression test.
FUZZTIME ?= 3s
FUZZ_TARGETS := schema:FuzzLoad engine/daemon:FuzzVerifyHook runtime/serving:FuzzDecoders runtime/training:FuzzParseFilter
fuzz-short:
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "fuzz $${t#*:} in ./$${t%%:*} for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$${t#*:}$$" -fuzztime $(FUZZTIME) ./$${t%%:*}; \
	done

# reliability runs the whole reliability suite in full mode (200 crash
# trials, longer load and fault runs) against bin/sluice; `make test` runs
# its short mode. RELIABILITY.md lists what each test proves.
reliability: build ort
	SLUICE_RELIABILITY=full SLUICE_BIN=$(abspath $(BIN)) $(GO) test -count=1 -timeout 60m -v ./reliability

bench-deps:
	scripts/bench-deps.sh

bench: build ort bench-deps
	bench/run.sh

clean:
	rm -rf bin .sluice

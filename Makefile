# Slipway — developer targets. `make demo` and `make test` are the README's two commands.
GO       ?= go
BIN      := bin/slipway
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X github.com/slipway-ci/slipway/internal/cli.version=$(VERSION)
FUZZTIME ?= 3s
# cgroup v1 limits are required where the v1 hierarchy is writable (root on
# these machines); elsewhere their tests skip.
CGROUP_V1 := $(shell [ -w /sys/fs/cgroup/memory ] && [ -w /sys/fs/cgroup/cpu ] && echo ,cgroup-v1)

.PHONY: build demo test test-deps unit e2e fuzz fuzz-short bench lint clean

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/slipway

# The main job on embedded defaults: run the example service's pipeline,
# which publishes it, deploys it to staging and canaries it into production
# under `slipway up` (left running in the background); then say where each
# environment is served and how to stop it.
demo: build
	$(BIN) run -C examples/hello
	$(BIN) up --detach

# Everything CI runs (.ci/run): dependencies, vet, unit + integration + e2e
# tests, the example's tests, and a short fuzz of every parser.
test: test-deps lint
	SLIPWAY_E2E=1 SLIPWAY_TEST_REQUIRE=bwrap,git,cosign,crane,oras,node,conformance,prometheus$(CGROUP_V1) $(GO) test -count=1 -timeout 20m ./...
	cd examples/hello && $(GO) test -count=1 ./...
	$(MAKE) fuzz-short

test-deps:
	scripts/test-deps.sh

unit:
	$(GO) test ./...

e2e: test-deps
	SLIPWAY_E2E=1 SLIPWAY_TEST_REQUIRE=bwrap,git $(GO) test -count=1 -run 'E2E' ./cmd/slipway/

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "not gofmt'ed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

fuzz-short:
	FUZZTIME=$(FUZZTIME) scripts/fuzz.sh

fuzz:
	FUZZTIME=60s scripts/fuzz.sh

bench: build test-deps
	scripts/bench.sh

clean:
	rm -rf bin

# kabiforge — see README.md. `make demo` runs the main job, `make test` the tests.
GO      ?= go
BIN     := bin
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
# Stripped (-s -w), as distributions ship Go binaries: a third smaller and
# ~5 ms quicker to start (testutil.BuildKabiforge builds tests' copy so too).
LDFLAGS := -s -w -X main.version=$(VERSION)
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
# The embedded Temporal server is a module of its own, so the main module's
# dependencies stay free of go.temporal.io/server; its go.mod replaces the
# main module with this tree. GOWORK=off: the same build with or without a
# local go.work (make workspace).
DEVSERVER := cmd/kabiforge-devserver
DEVGO     := GOWORK=off $(GO) -C $(DEVSERVER)

.PHONY: all build tools demo test test-demo test-secureboot test-short test-topology bench fuzz clean workspace

all: build

tools:
	@bash scripts/ensure-tools.sh

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN)/kabiforge ./cmd/kabiforge
	$(DEVGO) build -ldflags '$(LDFLAGS)' -o $(CURDIR)/$(BIN)/kabiforge-devserver .

# A go.work over both modules for local development (gopls, `go build ./...`
# across both); not committed, so builds and `go list -m all` stay per module.
workspace:
	$(GO) work init . ./$(DEVSERVER)

# The main job on the embedded default: dev server + UI, worker, repo server,
# demo kernels and kmods seeded upstream. Stop it with Ctrl-C.
demo: tools build
	$(BIN)/kabiforge dev --demo

test: tools
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...
	$(DEVGO) vet ./...
	$(DEVGO) test -count=1 -timeout 10m ./...
	$(GO) test -count=1 -timeout 60m ./...

# `make demo` on the real kernel family, end to end (three kernel package
# builds and six kmod compiles: ~20 min on 2 cores, so not in `make test`,
# whose TestRealKernelsEndToEnd runs the same family through the pipeline).
test-demo: tools
	$(GO) test -tags realdemo -count=1 -timeout 60m -run TestDevDemoRealFamily -v ./cmd/kabiforge

# The boot gate with module.sig_enforce=1 on a kernel that trusts the
# repository's key: Debian's linux-source-6.1 compiled through the pipeline's
# kernel build (build tag sourcekernel). The compile is cached in
# ~/.cache/kabiforge after the first run, but a cold one does not fit
# `make test`'s CI budget (see README, Secure Boot). One package at a time:
# the second reuses the first's cached kernel instead of compiling it again.
test-secureboot: tools
	$(GO) test -tags sourcekernel -p 1 -count=1 -timeout 240m -run 'TestSourceKernel' -v ./internal/demo ./workflows

# The scale-out test (internal/topology, build tag topology): PostgreSQL, a full
# Temporal server with mTLS, versitygw, build hosts in network namespaces; root.
test-topology: tools
	$(GO) test -tags topology -count=1 -timeout 60m -v ./internal/topology

test-short:
	$(GO) test -short ./...
	$(DEVGO) test -short ./...

bench: tools
	$(GO) test -run '^$$' -bench . -benchtime 1x ./...

# Every fuzz target for FUZZTIME each (default 30s); see scripts/fuzz.sh.
fuzz:
	bash scripts/fuzz.sh

clean:
	rm -rf $(BIN) kabiforge-data

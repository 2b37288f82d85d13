# kabiforge — see README.md. `make demo` runs the main job, `make test` the tests.
GO      ?= go
BIN     := bin
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

.PHONY: all build tools demo test test-short bench fuzz clean

all: build

tools:
	@bash scripts/ensure-tools.sh

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN)/kabiforge ./cmd/kabiforge
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN)/kabiforge-devserver ./cmd/kabiforge-devserver

# The main job on the embedded default: dev server + UI, worker, repo server,
# demo kernels and kmods seeded upstream. Stop it with Ctrl-C.
demo: tools build
	$(BIN)/kabiforge dev --demo

test: tools
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 60m ./...

test-short:
	$(GO) test -short ./...

bench: tools
	$(GO) test -run '^$$' -bench . -benchtime 1x ./...

clean:
	rm -rf $(BIN) kabiforge-data

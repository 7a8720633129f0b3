# Skiff: a single-binary, Kubernetes-compatible container orchestrator.
#
#   make run    build and start a single-node cluster (data in $(DATA_DIR))
#   make test   unit, integration and end-to-end tests (the workload
#               scenarios twice: with `skiff simulate` and with kwok)
#   make bench  benchmarks (results in bench/results/)

GO        ?= go
BIN       := bin/skiff
DATA_DIR  ?= /var/lib/skiff
PKG       := github.com/skiff-io/skiff
LDFLAGS   := -X $(PKG)/internal/version.GitCommit=$(shell git rev-parse --short HEAD 2>/dev/null)

.PHONY: all build run test unit e2e e2e-kwok install-kwok bench deps vet clean

all: build

build:
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/skiff

# deps installs what a fresh machine lacks. The API server needs nothing
# beyond Go; kubectl is used by the end-to-end tests.
deps:
	@./hack/install-deps.sh

run: deps build
	@echo "Starting skiff server; kubeconfig: $(DATA_DIR)/admin.kubeconfig"
	$(BIN) server --data-dir $(DATA_DIR)

vet:
	$(GO) vet ./...

# The workload end-to-end scenarios (scheduler, controllers, node
# lifecycle) with kwok playing the nodes instead of `skiff simulate`.
E2E_KWOK := SKIFF_E2E_NODES=kwok $(GO) test -count=1 -timeout 15m -run 'TestWorkloads|TestNodes' ./test/e2e/

# The whole suite: unit tests, in-process integration tests and end-to-end
# tests that drive the real kubectl against `skiff server` processes; then
# the workload scenarios again with kwok as the node simulator.
test: deps vet install-kwok
	$(GO) test -count=1 -timeout 25m ./...
	$(E2E_KWOK)

unit:
	$(GO) test -count=1 -timeout 10m $$($(GO) list ./... | grep -v /test/)

e2e:
	$(GO) test -count=1 -timeout 15m ./test/e2e/...

# kwok (sigs.k8s.io/kwok, pinned in the script) into $(go env GOPATH)/bin.
install-kwok:
	@./hack/install-kwok.sh

e2e-kwok: install-kwok
	$(E2E_KWOK)

bench: build
	./bench/run-apiserver.sh
	./bench/run-scheduler.sh

clean:
	rm -rf bin

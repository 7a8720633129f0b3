# Skiff: a single-binary, Kubernetes-compatible container orchestrator.
#
#   make run    build and start a single-node cluster (data in $(DATA_DIR))
#   make test   unit, integration and end-to-end tests (the workload
#               scenarios twice: with `skiff simulate` and with kwok)
#   make bench  benchmarks (results in bench/results/; the node agent's
#               needs root, like make run)

GO        ?= go
BIN       := bin/skiff
DATA_DIR  ?= /var/lib/skiff
PKG       := github.com/skiff-io/skiff
LDFLAGS   := -X $(PKG)/internal/version.GitCommit=$(shell git rev-parse --short HEAD 2>/dev/null)

.PHONY: all build run test unit e2e e2e-kwok install-kwok bench deps vet clean images

all: build

build:
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/skiff

# deps installs what a fresh machine lacks: containerd, runc, the CNI
# plugins and busybox-static from Debian (the node agent and its images).
deps:
	@./hack/install-deps.sh

run: deps build images
	@mkdir -p $(DATA_DIR)/agent/images && cp bin/images/*.tar $(DATA_DIR)/agent/images/
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
test: deps vet install-kwok images
	SKIFF_E2E_REQUIRE_NODE=1 $(GO) test -count=1 -timeout 25m ./...
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

# Skiff's own container images (pause, busybox, echo, and kubectl when the
# host has one) as OCI archives that the node agent imports into containerd;
# needs Debian's busybox-static.
images:
	$(GO) run ./hack/mkimages -out bin/images -kubectl "$(shell command -v kubectl)"

bench: build
	./bench/run-apiserver.sh
	./bench/run-auth.sh
	./bench/run-scheduler.sh
	./bench/run-agent.sh
	./bench/run-dns.sh
	./bench/run-ingress.sh
	./bench/run-proxy.sh

clean:
	rm -rf bin

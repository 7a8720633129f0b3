#!/usr/bin/env bash
# Installs kwok (sigs.k8s.io/kwok), the node simulator that `make e2e-kwok`
# (and `make test`) runs the workload end-to-end scenarios with, into
# $(go env GOPATH)/bin when it is not there. The version is pinned; set
# KWOK_VERSION to install another. The tests find kwok through $KWOK, then
# PATH, then $(go env GOPATH)/bin, and read the default stages of the
# version they find from the Go module cache (where `go install` puts them).
set -euo pipefail

KWOK_VERSION="${KWOK_VERSION:-v0.8.0}"

command -v go >/dev/null 2>&1 || { echo "missing: go (https://go.dev/dl/)" >&2; exit 1; }
gopath="$(go env GOPATH)"
bindir="${gopath%%:*}/bin"
kwok="$bindir/kwok"

if [[ -x "$kwok" ]]; then
	have="$("$kwok" --version 2>/dev/null | awk '{print $3}')"
	if [[ "$have" != "$KWOK_VERSION" ]]; then
		echo "note: $kwok is kwok ${have:-of unknown version}, not $KWOK_VERSION; leaving it (remove it to install $KWOK_VERSION)" >&2
	fi
	exit 0
fi

echo "installing kwok $KWOK_VERSION into $bindir" >&2
GOBIN="$bindir" go install "sigs.k8s.io/kwok/cmd/kwok@${KWOK_VERSION}"
"$kwok" --version

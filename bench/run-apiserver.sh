#!/usr/bin/env bash
# Benchmarks `skiff server` as a process: start-up time to /readyz, idle RSS,
# pod creates/s with 64 concurrent clients and LIST latency of 10,000 pods,
# next to a raw etcd reference measured in the same run. Writes
# bench/results/apiserver-<date>.txt and bench/results/apiserver-latest.txt.
# Extra arguments go to the benchmark program, e.g. `--pods 2000 --starts 2`
# for a quick run (see `go run ./bench/apiserver -h`).
set -euo pipefail

cd "$(dirname "$0")/.."
tmp="$(mktemp -d "${TMPDIR:-/tmp}/skiff-bench-bin-XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

echo "building skiff and the benchmark..." >&2
go build -o "$tmp/skiff" ./cmd/skiff
go build -o "$tmp/apiserver-bench" ./bench/apiserver

# The API server alone: what creates and lists cost, with nothing else
# reacting to the pods.
"$tmp/apiserver-bench" --skiff "$tmp/skiff" --out-dir bench/results "$@"
# The whole control plane (scheduler and controllers on): start-up time and
# idle memory compare with Kubernetes' apiserver, etcd, scheduler and
# controller manager together.
"$tmp/apiserver-bench" --skiff "$tmp/skiff" --out-dir bench/results --name control-plane \
	--server-args "--disable-agent" "$@"

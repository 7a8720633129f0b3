#!/usr/bin/env bash
# Benchmarks the scheduler: `skiff server --disable-scheduler` as a process,
# 1,000 fake Ready nodes, 10,000 pods with small requests, the scheduler as
# its own process, time until every pod is bound; next to the scheduling
# algorithm alone and the raw pod create rate of the same run. Writes
# bench/results/scheduler-<date>.txt and bench/results/scheduler-latest.txt.
# Extra arguments go to the benchmark program, e.g. `--pods 2000` for a
# quick run (see `go run ./bench/scheduler -h`).
set -euo pipefail

cd "$(dirname "$0")/.."
tmp="$(mktemp -d "${TMPDIR:-/tmp}/skiff-bench-bin-XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

echo "building skiff and the benchmark..." >&2
go build -o "$tmp/skiff" ./cmd/skiff
go build -o "$tmp/scheduler-bench" ./bench/scheduler

"$tmp/scheduler-bench" --skiff "$tmp/skiff" --out-dir bench/results "$@"

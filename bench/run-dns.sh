#!/usr/bin/env bash
# Benchmarks the cluster DNS: queries/s for a Service A record over UDP from
# 8 concurrent clients on 127.0.0.1 against internal/dns started in-process
# over a fake API with 1,000 Services, next to a trivial miekg/dns server
# answering one fixed record in the same run. Writes
# bench/results/dns-<date>.txt and bench/results/dns-latest.txt. Extra
# arguments go to the benchmark program (see `go run ./bench/dns -h`).
set -euo pipefail

cd "$(dirname "$0")/.."
tmp="$(mktemp -d "${TMPDIR:-/tmp}/skiff-bench-bin-XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

echo "building the benchmark..." >&2
go build -o "$tmp/dns-bench" ./bench/dns

"$tmp/dns-bench" --out-dir bench/results "$@"

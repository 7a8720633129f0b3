#!/usr/bin/env bash
# Benchmarks what authentication, authorization and audit cost `skiff
# server`: GET of a ConfigMap, LIST of 100 pods and ConfigMap CREATEs from
# 16 concurrent clients as the admin client certificate (system:masters,
# the reference), a ServiceAccount token bound by RoleBinding to view/edit
# (JWT + RBAC), a plain user's client certificate with the same bindings
# (RBAC without JWT), a node client certificate (Node authorizer), and
# admin again on a second server with --audit-log-path none. Reports req/s,
# p50/p99, server CPU per request and ratios to admin. Writes
# bench/results/auth-<date>.txt and bench/results/auth-latest.txt; about a
# minute and a half with the build. Extra arguments go to the benchmark
# program, e.g. `--rounds 1 --slice 500ms` for a quick run (see
# `go run ./bench/auth -h`).
set -euo pipefail

cd "$(dirname "$0")/.."
tmp="$(mktemp -d "${TMPDIR:-/tmp}/skiff-bench-bin-XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

echo "building skiff and the benchmark..." >&2
go build -o "$tmp/skiff" ./cmd/skiff
go build -o "$tmp/auth-bench" ./bench/auth

"$tmp/auth-bench" --skiff "$tmp/skiff" --out-dir bench/results "$@"

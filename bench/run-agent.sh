#!/usr/bin/env bash
# Benchmarks the node agent with real containers: `skiff server` with its
# agent and containerd, 100 busybox pods started one at a time and in a
# burst (create → Running and Ready), deleted again, and the memory of the
# server, containerd and the shims; next to the same containerd driven
# directly over CRI in the same run. Needs root, containerd, runc and the
# CNI plugins (`make deps`). Writes bench/results/agent-<date>.txt and
# bench/results/agent-latest.txt. Extra arguments go to the benchmark
# program, e.g. `--pods 20` for a quick run (see `go run ./bench/agent -h`).
set -euo pipefail

cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
	echo "bench/run-agent.sh: must run as root (the node agent starts containerd and containers)" >&2
	exit 1
fi
tmp="$(mktemp -d "${TMPDIR:-/tmp}/skiff-bench-bin-XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

echo "building skiff, the images and the benchmark..." >&2
go build -o "$tmp/skiff" ./cmd/skiff
go run ./hack/mkimages -out "$tmp/images"
go build -o "$tmp/agent-bench" ./bench/agent

"$tmp/agent-bench" --skiff "$tmp/skiff" --images "$tmp/images" --out-dir bench/results "$@"

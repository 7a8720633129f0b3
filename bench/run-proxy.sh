#!/usr/bin/env bash
# Benchmarks the service proxy backends against a real kernel: 10,000
# Services with 5 endpoints each built from API objects, the first full
# sync of the iptables and nftables Syncers and single-endpoint changes,
# each backend in fresh network namespaces of its own (the host's rules are
# never touched), next to iptables-restore / nft -f loading the same text
# alone. Needs root, ip, iptables (iptables-restore, iptables-save) and
# nft. Writes bench/results/proxy-<date>.txt and
# bench/results/proxy-latest.txt. Extra arguments go to the benchmark
# program, e.g. `--services 2000` for a quick run or
# `--iptables-services 5000` to keep the iptables part short (see
# `go run ./bench/proxy -h`).
set -euo pipefail

cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
	echo "bench/run-proxy.sh: must run as root (it creates network namespaces)" >&2
	exit 1
fi
tmp="$(mktemp -d "${TMPDIR:-/tmp}/skiff-bench-bin-XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

echo "building the benchmark..." >&2
go build -o "$tmp/proxy-bench" ./bench/proxy
mkdir -p bench/results
"$tmp/proxy-bench" --out-dir bench/results "$@"

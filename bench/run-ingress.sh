#!/usr/bin/env bash
# Benchmarks the ingress proxy: requests/s and p50/p99 latency through
# Skiff's ingress proxy to a local Go backend, next to nginx (Debian's
# package, installed here if missing) as a keep-alive reverse proxy to the
# same backend and to the backend alone, with the same load generator in
# the same run. Everything listens on 127.0.0.1 only. Writes
# bench/results/ingress-<date>.txt and bench/results/ingress-latest.txt.
# Extra arguments go to the benchmark program, e.g. `--duration 3s
# --rounds 1` for a quick run (see `go run ./bench/ingress -h`).
set -euo pipefail

cd "$(dirname "$0")/.."
if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
	echo "installing nginx (Debian package)..." >&2
	# policy-rc.d keeps the package from starting a system nginx on :80.
	DEBIAN_FRONTEND=noninteractive apt-get install -y nginx >&2
fi
nginx_bin="$(command -v nginx || echo /usr/sbin/nginx)"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/skiff-bench-bin-XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
echo "building the benchmark..." >&2
go build -o "$tmp/ingress-bench" ./bench/ingress

"$tmp/ingress-bench" --nginx "$nginx_bin" --out-dir bench/results "$@"

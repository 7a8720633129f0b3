#!/usr/bin/env bash
# Installs what `make run` and `make test` need on a fresh Debian machine.
# Today that is only checked: Go builds everything else; the end-to-end
# tests need kubectl.
set -euo pipefail

missing=()
command -v go >/dev/null 2>&1 || missing+=("go (https://go.dev/dl/)")
if ((${#missing[@]})); then
	echo "missing: ${missing[*]}" >&2
	exit 1
fi
if ! command -v kubectl >/dev/null 2>&1; then
	echo "note: kubectl is not on PATH; the end-to-end tests will be skipped" >&2
fi

#!/usr/bin/env bash
# Installs what `make run` and `make test` need on a fresh Debian machine:
# containerd, runc and the CNI plugins for the node agent, busybox-static
# for the busybox test image, iptables, nftables and iproute2 for pod
# networking and the Service proxy.
# kubectl is used by the end-to-end tests.
set -euo pipefail

missing=()
command -v go >/dev/null 2>&1 || missing+=("go (https://go.dev/dl/)")
if ((${#missing[@]})); then
	echo "missing: ${missing[*]}" >&2
	exit 1
fi

need=()
command -v containerd >/dev/null 2>&1 || need+=(containerd)
command -v runc >/dev/null 2>&1 || need+=(runc)
[[ -x /usr/lib/cni/bridge && -x /usr/lib/cni/host-local && -x /usr/lib/cni/portmap && -x /usr/lib/cni/loopback ]] || need+=(containernetworking-plugins)
[[ -x /bin/busybox ]] && /bin/busybox --list >/dev/null 2>&1 || need+=(busybox-static)
command -v iptables >/dev/null 2>&1 || need+=(iptables)
command -v nft >/dev/null 2>&1 || need+=(nftables)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
if ((${#need[@]})); then
	if [[ $(id -u) -ne 0 ]]; then
		echo "missing Debian packages (run as root to install): ${need[*]}" >&2
		exit 1
	fi
	echo "installing: ${need[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
if ! command -v kubectl >/dev/null 2>&1; then
	echo "note: kubectl is not on PATH; the end-to-end tests will be skipped" >&2
fi

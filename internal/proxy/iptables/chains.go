// Package iptables is the proxy's iptables backend: it turns the proxy
// state into NAT and filter rules laid out like kube-proxy's iptables
// mode, under Skiff's own SKIFF- chain prefix, and applies them with
// iptables-restore, rewriting only the chains that changed.
package iptables

import (
	"crypto/sha256"
	"encoding/base32"
	"strconv"

	"github.com/skiff-io/skiff/internal/proxy/state"
)

// The tables Skiff writes.
const (
	TableNAT    = "nat"
	TableFilter = "filter"
)

// The fixed chains, the counterparts of kube-proxy's KUBE-* chains.
const (
	ChainServices         = "SKIFF-SERVICES"
	ChainExternalServices = "SKIFF-EXTERNAL-SERVICES"
	ChainNodePorts        = "SKIFF-NODEPORTS"
	ChainPostrouting      = "SKIFF-POSTROUTING"
	ChainMarkMasq         = "SKIFF-MARK-MASQ"
	ChainForward          = "SKIFF-FORWARD"
)

// Prefix starts the name of every chain Skiff owns.
const Prefix = "SKIFF-"

// Per-service chain prefixes: a Service port's cluster-policy chain, its
// local-policy chain, its external-traffic chain, and an endpoint's chain.
const (
	prefixSVC = "SKIFF-SVC-"
	prefixSVL = "SKIFF-SVL-"
	prefixEXT = "SKIFF-EXT-"
	prefixSEP = "SKIFF-SEP-"
)

// hashName is a stable 16-character name for s, short enough that every
// chain name stays within iptables' 28-character limit.
func hashName(s string) string {
	sum := sha256.Sum256([]byte(s))
	return base32.StdEncoding.EncodeToString(sum[:])[:16]
}

func portKey(sp *state.ServicePort) string { return sp.Key() }

func svcChain(sp *state.ServicePort) string { return prefixSVC + hashName(portKey(sp)) }
func svlChain(sp *state.ServicePort) string { return prefixSVL + hashName(portKey(sp)) }
func extChain(sp *state.ServicePort) string { return prefixEXT + hashName(portKey(sp)) }
func sepChain(sp *state.ServicePort, e state.Endpoint) string {
	return prefixSEP + hashName(portKey(sp)+"/"+e.Addr())
}

func itoa(i int32) string { return strconv.Itoa(int(i)) }

// Package state is the proxy's view of the cluster: the Service ports it
// must program and the endpoints behind each, derived by pure functions
// from Services and EndpointSlices so that every backend (iptables,
// nftables) programs exactly the same decisions.
package state

import (
	"net/netip"
)

// Protocol is a Service port's transport protocol, as Kubernetes spells
// it ("TCP", "UDP", "SCTP").
type Protocol string

// The protocols a Service port may use.
const (
	TCP  Protocol = "TCP"
	UDP  Protocol = "UDP"
	SCTP Protocol = "SCTP"
)

// Endpoint is one backend address of a Service port.
type Endpoint struct {
	IP   string
	Port int32
	// NodeName is the node the endpoint runs on ("" if unknown).
	NodeName string
	// Ready, Serving and Terminating are the EndpointSlice conditions,
	// with Kubernetes' defaults already applied (nil ready and serving
	// mean true, nil terminating means false).
	Ready, Serving, Terminating bool
}

// Addr is the endpoint's "ip:port".
func (e Endpoint) Addr() string {
	a, err := netip.ParseAddr(e.IP)
	if err != nil {
		return e.IP
	}
	return netip.AddrPortFrom(a, uint16(e.Port)).String()
}

// ServicePort is one port of one Service: the unit a proxy programs.
type ServicePort struct {
	Namespace, Name string
	// PortName is the Service port's name ("" for an unnamed port).
	PortName string
	Protocol Protocol
	// ClusterIP is the Service's IPv4 cluster IP.
	ClusterIP string
	Port      int32
	// NodePort is 0 when the Service has none.
	NodePort int32
	// ExternalIPs are spec.externalIPs; LoadBalancerIPs are the IPs in
	// status.loadBalancer.ingress (those not in "Proxy" IP mode).
	ExternalIPs     []string
	LoadBalancerIPs []string
	// ExternalPolicyLocal is externalTrafficPolicy: Local, which only
	// matters for Services reachable from outside (NodePort, external or
	// load-balancer IPs).
	ExternalPolicyLocal bool
	// InternalPolicyLocal is internalTrafficPolicy: Local.
	InternalPolicyLocal bool
	// AffinitySeconds is the ClientIP session affinity timeout; 0 means
	// no session affinity.
	AffinitySeconds int32
	// Endpoints are every endpoint of this port, sorted, without
	// duplicates, whatever their conditions.
	Endpoints []Endpoint
}

// String is "namespace/name:port", the name kube-proxy uses in comments.
func (sp *ServicePort) String() string {
	s := sp.Namespace + "/" + sp.Name
	if sp.PortName != "" {
		s += ":" + sp.PortName
	}
	return s
}

// External reports whether the port is reachable from outside the
// cluster network: by NodePort, external IP or load-balancer IP.
func (sp *ServicePort) External() bool {
	return sp.NodePort != 0 || len(sp.ExternalIPs) > 0 || len(sp.LoadBalancerIPs) > 0
}

// State is everything one sync programs.
type State struct {
	// NodeName is the node the proxy runs on; endpoints on it are local.
	NodeName string
	// ClusterCIDR is the pod network; traffic to a ClusterIP from outside
	// it is masqueraded. Empty masquerades all ClusterIP traffic.
	ClusterCIDR string
	// NodePortIPs restricts NodePorts to these addresses; empty means
	// every local address of the node (except loopback).
	NodePortIPs []string
	// Services are sorted by String() then protocol.
	Services []ServicePort
}

package apiserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// defaultAgentPort is the node agent's port when a node does not report
// one in status.daemonEndpoints.kubeletEndpoint (the kubelet's default).
const defaultAgentPort = 10250

// agentAddressTypes is the order in which node addresses are tried for
// reaching the node's agent.
var agentAddressTypes = []corev1.NodeAddressType{
	corev1.NodeInternalIP, corev1.NodeHostName, corev1.NodeInternalDNS, corev1.NodeExternalIP, corev1.NodeExternalDNS,
}

// agentAddress returns the host and port the API server dials to reach a
// node's agent: the first address of the most preferred type (InternalIP
// first) and the port the node reports, defaultAgentPort if none.
func agentAddress(node *corev1.Node) (host string, port int, err error) {
	port = int(node.Status.DaemonEndpoints.KubeletEndpoint.Port)
	if port <= 0 {
		port = defaultAgentPort
	}
	for _, t := range agentAddressTypes {
		for _, a := range node.Status.Addresses {
			if a.Type == t && a.Address != "" {
				return a.Address, port, nil
			}
		}
	}
	return "", 0, fmt.Errorf("no preferred addresses found; known addresses: %v", node.Status.Addresses)
}

// agentURL is the https URL of path (already escaped) with query q on the
// agent at host:port.
func agentURL(host string, port int, path string, q url.Values) (*url.URL, error) {
	raw := "https://" + net.JoinHostPort(host, strconv.Itoa(port)) + path
	if len(q) > 0 {
		raw += "?" + q.Encode()
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("building node agent URL: %w", err)
	}
	return u, nil
}

// defaultContainer returns the container a log, exec or attach request is
// for, as Kubernetes chooses it: the named one, which must be one of the
// pod's (init, regular or ephemeral) containers, or, when none is named,
// the pod's only container.
func defaultContainer(pod *corev1.Pod, name string) (string, error) {
	if name != "" {
		for _, n := range containerNames(pod) {
			if n == name {
				return name, nil
			}
		}
		return "", apierrors.NewBadRequest(fmt.Sprintf("container %s is not valid for pod %s", name, pod.Name))
	}
	switch len(pod.Spec.Containers) {
	case 1:
		return pod.Spec.Containers[0].Name, nil
	case 0:
		return "", apierrors.NewBadRequest(fmt.Sprintf("a container name must be specified for pod %s", pod.Name))
	}
	return "", apierrors.NewBadRequest(fmt.Sprintf("a container name must be specified for pod %s, choose one of: %s", pod.Name, containerNames(pod)))
}

// containerNames lists a pod's init, regular and ephemeral containers.
func containerNames(pod *corev1.Pod) []string {
	var names []string
	for _, c := range pod.Spec.InitContainers {
		names = append(names, c.Name)
	}
	for _, c := range pod.Spec.Containers {
		names = append(names, c.Name)
	}
	for _, c := range pod.Spec.EphemeralContainers {
		names = append(names, c.Name)
	}
	return names
}

// noHost is Kubernetes' answer to exec, attach and port-forward for a pod
// not yet scheduled.
func noHost(pod string) error {
	return apierrors.NewBadRequest(fmt.Sprintf("pod %s does not have a host assigned", pod))
}

// proxyTarget is where a pods/proxy or nodes/proxy request goes.
type proxyTarget struct {
	Scheme, Host string
	Port         string // empty: let the scheme decide
}

// podProxyTarget resolves a pods/proxy name ("name", "name:port" or
// "scheme:name:port") against the pod, as Kubernetes does: without a port
// the first declared container port is used; the pod's (first) IP must be
// a global unicast address.
func podProxyTarget(pod *corev1.Pod, scheme, port string) (proxyTarget, error) {
	for _, c := range pod.Spec.Containers {
		if port != "" {
			break
		}
		if len(c.Ports) > 0 {
			port = strconv.Itoa(int(c.Ports[0].ContainerPort))
		}
	}
	ip := pod.Status.PodIP
	if len(pod.Status.PodIPs) > 0 {
		ip = pod.Status.PodIPs[0].IP
	}
	addr, err := netip.ParseAddr(ip)
	if err != nil || !addr.IsGlobalUnicast() {
		return proxyTarget{}, apierrors.NewBadRequest(errAddressNotAllowed.Error())
	}
	if scheme == "" {
		scheme = "http"
	}
	return proxyTarget{Scheme: scheme, Host: ip, Port: port}, nil
}

// errAddressNotAllowed refuses proxying to loopback and link-local
// addresses, which would reach the API server's own host.
var errAddressNotAllowed = errors.New("address not allowed")

// proxyableHost reports whether host (an IP or a name) may be proxied to
// on a port other than the agent's. A name is resolved with lookup and
// refused if it cannot be, or if any of its addresses is not allowed, as
// Kubernetes does: otherwise a node address like "localhost" would open
// the API server's own host to nodes/proxy.
func proxyableHost(ctx context.Context, lookup func(context.Context, string) ([]netip.Addr, error), host string) error {
	if addr, err := netip.ParseAddr(host); err == nil {
		return proxyableAddr(addr)
	}
	addrs, err := lookup(ctx, host)
	if err != nil {
		return fmt.Errorf("resolving %s: %w", host, err)
	}
	for _, a := range addrs {
		if err := proxyableAddr(a); err != nil {
			return err
		}
	}
	return nil
}

// proxyableAddr refuses the addresses proxyableHost must not reach.
func proxyableAddr(addr netip.Addr) error {
	addr = addr.Unmap()
	if addr.IsLoopback() || addr.IsLinkLocalUnicast() || addr.IsLinkLocalMulticast() || addr.IsInterfaceLocalMulticast() || addr.IsUnspecified() {
		return errAddressNotAllowed
	}
	return nil
}

// lookupHost resolves a name with the system's resolver.
func lookupHost(ctx context.Context, host string) ([]netip.Addr, error) {
	return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
}

// proxySubpath splits a proxy subresource ("proxy" or "proxy/a/b") into
// its name and the path to proxy ("" or "a/b"). ok is false for a subpath
// below any other subresource, which no resource serves.
func proxySubpath(subresource string) (name, rest string, ok bool) {
	name, rest, hasRest := strings.Cut(subresource, "/")
	if hasRest && name != "proxy" {
		return name, "", false
	}
	return name, rest, true
}

// joinProxyPath appends the proxied subpath to a base path, keeping a
// trailing slash the client sent.
func joinProxyPath(base, sub string, trailingSlash bool) string {
	p := strings.TrimSuffix(base, "/") + "/" + strings.TrimPrefix(sub, "/")
	if sub == "" {
		p = strings.TrimSuffix(base, "/")
	}
	if trailingSlash && !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p
}

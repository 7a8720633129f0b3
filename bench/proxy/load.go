package main

import (
	"fmt"
	"net/netip"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/skiff-io/skiff/internal/proxy/state"
)

// benchNode is the node the simulated proxy runs on; every endpoint is
// on another node, as most are in a large cluster.
const benchNode = "bench-node"

// addr is base plus n, as a string.
func addr(base netip.Addr, n int) string {
	b := base.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	v += uint32(n)
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}).String()
}

func serviceBase() netip.Addr  { return netip.MustParseAddr("10.43.0.0") }
func endpointBase() netip.Addr { return netip.MustParseAddr("10.42.0.0") }
func changedBase() netip.Addr  { return netip.MustParseAddr("10.44.0.0") }

// cluster is the API objects the benchmark programs: n ClusterIP
// Services with one TCP port and one EndpointSlice each.
type cluster struct {
	Services []*corev1.Service
	Slices   []*discoveryv1.EndpointSlice
	// builder derives the state as the proxy does: recomputing only the
	// Services whose objects' resourceVersions changed.
	builder state.Builder
	// rv is the last resourceVersion handed out.
	rv int
}

// nextRV is a fresh resourceVersion, as the API server gives every write.
func (c *cluster) nextRV() string {
	c.rv++
	return strconv.Itoa(c.rv)
}

// newCluster builds n Services with eps ready endpoints each (n*eps must
// fit in 10.42.0.0/16, n in 10.43.0.0/16).
func newCluster(n, eps int) (*cluster, error) {
	if n < 1 || eps < 1 || n >= 1<<16-1 || n*eps >= 1<<16-1 {
		return nil, fmt.Errorf("%d Services x %d endpoints do not fit the address ranges", n, eps)
	}
	c := &cluster{Services: make([]*corev1.Service, 0, n), Slices: make([]*discoveryv1.EndpointSlice, 0, n)}
	for i := range n {
		name := fmt.Sprintf("svc-%05d", i)
		ip := addr(serviceBase(), i+1)
		c.Services = append(c.Services, &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Namespace: "bench", Name: name, UID: types.UID("uid-" + name), ResourceVersion: c.nextRV()},
			Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, ClusterIP: ip, ClusterIPs: []string{ip},
				Ports: []corev1.ServicePort{{Name: "http", Protocol: corev1.ProtocolTCP, Port: 80}}},
		})
		portName, proto, port := "http", corev1.ProtocolTCP, int32(8080)
		s := &discoveryv1.EndpointSlice{
			ObjectMeta: metav1.ObjectMeta{Namespace: "bench", Name: name + "-abcde", ResourceVersion: c.nextRV(),
				Labels: map[string]string{discoveryv1.LabelServiceName: name}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Ports:       []discoveryv1.EndpointPort{{Name: &portName, Protocol: &proto, Port: &port}},
		}
		for j := range eps {
			nodeName := fmt.Sprintf("node-%03d", (i*eps+j)%100)
			s.Endpoints = append(s.Endpoints, discoveryv1.Endpoint{
				Addresses: []string{addr(endpointBase(), i*eps+j+1)}, NodeName: &nodeName})
		}
		c.Slices = append(c.Slices, s)
	}
	return c, nil
}

// State derives the proxy state from the objects with the proxy's own
// caching builder, as the proxy does before every sync: only the
// Services whose objects changed since the last call are recomputed.
func (c *cluster) State() *state.State {
	return &state.State{NodeName: benchNode, ClusterCIDR: "10.42.0.0/16", Services: c.builder.Build(c.Services, c.Slices)}
}

// FreshState derives the proxy state from scratch with state.Build.
func (c *cluster) FreshState() *state.State {
	return &state.State{NodeName: benchNode, ClusterCIDR: "10.42.0.0/16", Services: state.Build(c.Services, c.Slices)}
}

// changeEndpoint replaces the address of one endpoint: the k-th change
// (k from 0) moves endpoint k%eps of a Service spread across the range to
// a fresh address in 10.44.0.0/16, like a pod replaced by a new one.
func (c *cluster) changeEndpoint(k, changes int) {
	i := (len(c.Slices)*k/max(changes, 1) + len(c.Slices)/(2*max(changes, 1))) % len(c.Slices)
	s := c.Slices[i]
	s.Endpoints[k%len(s.Endpoints)].Addresses = []string{addr(changedBase(), k+1)}
	s.ResourceVersion = c.nextRV()
}

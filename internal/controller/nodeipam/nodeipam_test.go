package nodeipam

import (
	"context"
	"errors"
	"net/netip"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
)

func TestParseClusterCIDRs(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{in: "10.42.0.0/16", want: []string{"10.42.0.0/16"}},
		{in: "10.42.1.7/16", want: []string{"10.42.0.0/16"}},
		{in: "10.42.0.0/16, fd00:42::/56", want: []string{"10.42.0.0/16", "fd00:42::/56"}},
		{in: "", wantErr: true},
		{in: "10.42.0.0/16,10.43.0.0/16", wantErr: true},
		{in: "10.0.0.0/8,fd00::/48,10.1.0.0/16", wantErr: true},
		{in: "not-a-cidr", wantErr: true},
	} {
		got, err := ParseClusterCIDRs(tc.in)
		if (err != nil) != tc.wantErr {
			t.Errorf("%q: err = %v, wantErr %v", tc.in, err, tc.wantErr)
			continue
		}
		if len(got) != len(tc.want) {
			t.Errorf("%q: got %v, want %v", tc.in, got, tc.want)
			continue
		}
		for i := range got {
			if got[i].String() != tc.want[i] {
				t.Errorf("%q: got %v, want %v", tc.in, got, tc.want)
			}
		}
	}
}

func TestNewCIDRSetLimits(t *testing.T) {
	for _, tc := range []struct {
		cluster string
		mask    int
		wantErr bool
		count   int
	}{
		{"10.42.0.0/16", 24, false, 256},
		{"10.42.0.0/16", 16, false, 1},
		{"10.42.0.0/16", 8, true, 0},
		{"10.0.0.0/8", 25, true, 0}, // 2^17 subnets
		{"10.0.0.0/8", 33, true, 0},
		{"fd00::/56", 64, false, 256},
	} {
		s, err := newCIDRSet(netip.MustParsePrefix(tc.cluster), tc.mask)
		if (err != nil) != tc.wantErr {
			t.Errorf("%s /%d: err = %v, wantErr %v", tc.cluster, tc.mask, err, tc.wantErr)
			continue
		}
		if err == nil && s.count != tc.count {
			t.Errorf("%s /%d: %d subnets, want %d", tc.cluster, tc.mask, s.count, tc.count)
		}
	}
}

func TestCIDRSetAllocation(t *testing.T) {
	s, err := newCIDRSet(netip.MustParsePrefix("10.42.0.0/22"), 24)
	if err != nil {
		t.Fatal(err)
	}
	if !s.occupy(netip.MustParsePrefix("10.42.1.0/24")) {
		t.Fatal("occupy of a member subnet failed")
	}
	for _, bad := range []string{"10.43.0.0/24", "10.42.0.0/25", "fd00::/64"} {
		if s.occupy(netip.MustParsePrefix(bad)) {
			t.Errorf("occupy(%s) accepted a foreign CIDR", bad)
		}
	}
	var got []string
	for i := 0; i < 3; i++ {
		p, err := s.allocate()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, p.String())
	}
	want := []string{"10.42.0.0/24", "10.42.2.0/24", "10.42.3.0/24"}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("allocated %v, want %v", got, want)
		}
	}
	if _, err := s.allocate(); !errors.Is(err, ErrCIDRRangeFull) {
		t.Fatalf("allocate from a full set: %v", err)
	}
	s.release(netip.MustParsePrefix("10.42.2.0/24"))
	if p, err := s.allocate(); err != nil || p.String() != "10.42.2.0/24" {
		t.Fatalf("after release got %v, %v", p, err)
	}
}

func TestCIDRSetIPv6(t *testing.T) {
	s, err := newCIDRSet(netip.MustParsePrefix("fd00:42::/48"), 64)
	if err != nil {
		t.Fatal(err)
	}
	s.occupy(netip.MustParsePrefix("fd00:42::/64"))
	p, err := s.allocate()
	if err != nil || p.String() != "fd00:42:0:1::/64" {
		t.Fatalf("got %v, %v", p, err)
	}
	if i, ok := s.index(netip.MustParsePrefix("fd00:42:0:ff::/64")); !ok || i != 255 {
		t.Fatalf("index = %d, %v", i, ok)
	}
}

// newTestController returns a controller over a fake client whose node
// informer store holds nodes (the informers are not started).
func newTestController(t *testing.T, cfg Config, nodes ...*corev1.Node) (*Controller, *fake.Clientset) {
	t.Helper()
	cs := fake.NewClientset()
	for _, n := range nodes {
		if _, err := cs.CoreV1().Nodes().Create(context.Background(), n, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	cfg.Client = cs
	cfg.Informers = informers.NewSharedInformerFactory(cs, 0)
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	store := cfg.Informers.Core().V1().Nodes().Informer().GetStore()
	for _, n := range nodes {
		if err := store.Add(n); err != nil {
			t.Fatal(err)
		}
	}
	return c, cs
}

func node(name string, cidrs ...string) *corev1.Node {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if len(cidrs) > 0 {
		n.Spec.PodCIDR, n.Spec.PodCIDRs = cidrs[0], cidrs
	}
	return n
}

func TestReconcile(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cfg     Config
		nodes   []*corev1.Node
		node    string
		want    []string // podCIDRs of node after Reconcile
		wantErr bool
	}{
		{name: "first node gets the first subnet", nodes: []*corev1.Node{node("n")}, node: "n", want: []string{"10.42.0.0/24"}},
		{name: "existing allocations are skipped",
			nodes: []*corev1.Node{node("a", "10.42.0.0/24"), node("b", "10.42.1.0/24"), node("n")}, node: "n", want: []string{"10.42.2.0/24"}},
		{name: "a node with a CIDR keeps it", nodes: []*corev1.Node{node("n", "192.168.7.0/24")}, node: "n", want: []string{"192.168.7.0/24"}},
		{name: "dual stack gets one of each", cfg: Config{ClusterCIDR: "10.1.0.0/16,fd00:1::/56"},
			nodes: []*corev1.Node{node("n")}, node: "n", want: []string{"10.1.0.0/24", "fd00:1::/64"}},
		{name: "custom mask", cfg: Config{ClusterCIDR: "10.1.0.0/16", NodeMaskIPv4: 26},
			nodes: []*corev1.Node{node("a", "10.1.0.0/26"), node("n")}, node: "n", want: []string{"10.1.0.64/26"}},
		{name: "full range waits", cfg: Config{ClusterCIDR: "10.1.0.0/24"},
			nodes: []*corev1.Node{node("a", "10.1.0.0/24"), node("n")}, node: "n", want: nil, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, cs := newTestController(t, tc.cfg, tc.nodes...)
			err := c.Reconcile(context.Background(), tc.node)
			if (err != nil) != tc.wantErr {
				t.Fatalf("Reconcile: %v", err)
			}
			n, err := cs.CoreV1().Nodes().Get(context.Background(), tc.node, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(n.Spec.PodCIDRs) != len(tc.want) {
				t.Fatalf("podCIDRs = %v, want %v", n.Spec.PodCIDRs, tc.want)
			}
			for i := range tc.want {
				if n.Spec.PodCIDRs[i] != tc.want[i] {
					t.Fatalf("podCIDRs = %v, want %v", n.Spec.PodCIDRs, tc.want)
				}
			}
			if len(tc.want) > 0 && n.Spec.PodCIDR != tc.want[0] {
				t.Errorf("podCIDR = %q, want %q", n.Spec.PodCIDR, tc.want[0])
			}
		})
	}
}

func TestReconcileReleasesDeletedNodes(t *testing.T) {
	c, _ := newTestController(t, Config{ClusterCIDR: "10.1.0.0/24"}, node("a", "10.1.0.0/24"))
	ctx := context.Background()
	if err := c.Reconcile(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.assign("b"); !errors.Is(err, ErrCIDRRangeFull) {
		t.Fatalf("assign with a's CIDR in use: %v", err)
	}
	c.mu.Lock()
	c.releaseLocked("b")
	c.mu.Unlock()
	store := c.cfg.Informers.Core().V1().Nodes().Informer().GetStore()
	if err := store.Delete(node("a", "10.1.0.0/24")); err != nil {
		t.Fatal(err)
	}
	if err := c.Reconcile(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	got, err := c.assign("b")
	if err != nil || got[0].String() != "10.1.0.0/24" {
		t.Fatalf("after a's deletion b got %v, %v", got, err)
	}
}

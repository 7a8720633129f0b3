package nodeipam_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/skiff-io/skiff/internal/controller/nodeipam"
	"github.com/skiff-io/skiff/internal/server"
	"github.com/skiff-io/skiff/internal/testserver"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
)

// run starts the controller; the returned func stops it and waits.
func run(t *testing.T, cs kubernetes.Interface, cfg nodeipam.Config) func() {
	t.Helper()
	cfg.Client = cs
	cfg.Informers = informers.NewSharedInformerFactory(cs, 0)
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	c, err := nodeipam.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cfg.Informers.Start(ctx.Done())
	done := make(chan struct{})
	go func() { _ = c.Run(ctx); cfg.Informers.Shutdown(); close(done) }()
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cancel()
			<-done
		}
	}
	t.Cleanup(stop)
	return stop
}

func createNode(t *testing.T, cs kubernetes.Interface, name string) {
	t.Helper()
	_, err := cs.CoreV1().Nodes().Create(context.Background(), &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
}

func deleteNode(t *testing.T, cs kubernetes.Interface, name string) {
	t.Helper()
	if err := cs.CoreV1().Nodes().Delete(context.Background(), name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
}

// waitCIDR waits for a node's podCIDR and returns it.
func waitCIDR(t *testing.T, cs kubernetes.Interface, name string) string {
	t.Helper()
	var got string
	err := wait.PollUntilContextTimeout(context.Background(), 50*time.Millisecond, 20*time.Second, true, func(ctx context.Context) (bool, error) {
		n, err := cs.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		if n.Spec.PodCIDR != "" && (len(n.Spec.PodCIDRs) != 1 || n.Spec.PodCIDRs[0] != n.Spec.PodCIDR) {
			return false, fmt.Errorf("node %s: podCIDR %q, podCIDRs %v", name, n.Spec.PodCIDR, n.Spec.PodCIDRs)
		}
		got = n.Spec.PodCIDR
		return got != "", nil
	})
	if err != nil {
		t.Fatalf("node %s got no pod CIDR: %v", name, err)
	}
	return got
}

func TestAssignsRemembersAndReleases(t *testing.T) {
	s := testserver.StartWith(t, func(c *server.Config) { c.DisableControllers = true })
	cs := s.Client
	stop := run(t, cs, nodeipam.Config{})
	got := map[string]string{}
	for _, n := range []string{"a", "b", "c"} {
		createNode(t, cs, n)
	}
	seen := map[string]string{}
	for _, n := range []string{"a", "b", "c"} {
		cidr := waitCIDR(t, cs, n)
		if other, dup := seen[cidr]; dup {
			t.Fatalf("nodes %s and %s share %s", n, other, cidr)
		}
		seen[cidr], got[n] = n, cidr
		if cidr[:5] != "10.42" || cidr[len(cidr)-3:] != "/24" {
			t.Errorf("node %s got %s, want a /24 of 10.42.0.0/16", n, cidr)
		}
	}

	// A restarted controller learns the allocations from the nodes; the
	// CIDR of a node deleted meanwhile is free again.
	stop()
	deleteNode(t, cs, "b")
	run(t, cs, nodeipam.Config{})
	createNode(t, cs, "d")
	d := waitCIDR(t, cs, "d")
	if d == got["a"] || d == got["c"] {
		t.Fatalf("node d got %s, already held by another node (%v)", d, got)
	}
	if d != got["b"] {
		t.Errorf("node d got %s; the first free CIDR was b's %s", d, got["b"])
	}
}

func TestReleaseOnDeleteWhenFull(t *testing.T) {
	s := testserver.StartWith(t, func(c *server.Config) { c.DisableControllers = true })
	cs := s.Client
	// Room for two nodes only.
	run(t, cs, nodeipam.Config{ClusterCIDR: "10.99.0.0/23", RetryInterval: 200 * time.Millisecond})
	createNode(t, cs, "x")
	createNode(t, cs, "y")
	x := waitCIDR(t, cs, "x")
	waitCIDR(t, cs, "y")
	createNode(t, cs, "z")
	n, err := cs.CoreV1().Nodes().Get(context.Background(), "z", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n.Spec.PodCIDR != "" {
		t.Fatalf("z got %s from a full range", n.Spec.PodCIDR)
	}
	deleteNode(t, cs, "x")
	if z := waitCIDR(t, cs, "z"); z != x {
		t.Errorf("z got %s, want x's released %s", z, x)
	}
}

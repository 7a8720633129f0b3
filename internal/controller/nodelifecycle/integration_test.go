package nodelifecycle_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/skiff-io/skiff/internal/controller/nodeipam"
	"github.com/skiff-io/skiff/internal/controller/nodelifecycle"
	"github.com/skiff-io/skiff/internal/server"
	"github.com/skiff-io/skiff/internal/simulator"
	"github.com/skiff-io/skiff/internal/testserver"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/ptr"
)

const grace = 3 * time.Second

func testLogger() *slog.Logger {
	if os.Getenv("SKIFF_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// cluster is a server with simulated nodes, node IPAM and the node
// lifecycle controller running.
type cluster struct {
	cs    kubernetes.Interface
	sim   *simulator.Simulator
	nodes []string
}

func startCluster(t *testing.T, nodes int) *cluster {
	t.Helper()
	s := testserver.StartWith(t, func(c *server.Config) { c.DisableControllers = true })
	ctx, cancel := context.WithCancel(context.Background())
	sim, err := simulator.New(simulator.Config{Client: s.Client, Nodes: nodes, Logger: testLogger(),
		RenewInterval: 500 * time.Millisecond, StatusInterval: 2 * time.Second, LeaseDuration: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	broadcaster := record.NewBroadcaster()
	broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: s.Client.CoreV1().Events("")})
	recorder := broadcaster.NewRecorder(scheme.Scheme, corev1.EventSource{Component: "node-controller"})
	factory := informers.NewSharedInformerFactory(s.Client, 0)
	ipam, err := nodeipam.New(nodeipam.Config{Client: s.Client, Informers: factory, Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	nlc, err := nodelifecycle.New(nodelifecycle.Config{Client: s.Client, Informers: factory, Recorder: recorder, Logger: testLogger(),
		GracePeriod: grace, StartupGracePeriod: 2 * grace, MonitorPeriod: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	factory.Start(ctx.Done())
	done := make(chan struct{}, 3)
	for _, run := range []func(context.Context) error{sim.Run, ipam.Run, nlc.Run} {
		go func() { _ = run(ctx); done <- struct{}{} }()
	}
	t.Cleanup(func() {
		cancel()
		for range 3 {
			<-done
		}
		factory.Shutdown()
		broadcaster.Shutdown()
	})
	return &cluster{cs: s.Client, sim: sim, nodes: sim.NodeNames()}
}

func poll(t *testing.T, timeout time.Duration, cond func() (bool, string)) {
	t.Helper()
	var last string
	err := wait.PollUntilContextTimeout(context.Background(), 50*time.Millisecond, timeout, true, func(context.Context) (bool, error) {
		ok, why := cond()
		last = why
		return ok, nil
	})
	if err != nil {
		t.Fatalf("timed out after %s: %s", timeout, last)
	}
}

func readyCondition(n *corev1.Node) *corev1.NodeCondition {
	for i := range n.Status.Conditions {
		if n.Status.Conditions[i].Type == corev1.NodeReady {
			return &n.Status.Conditions[i]
		}
	}
	return nil
}

func hasTaint(n *corev1.Node, key string, effect corev1.TaintEffect) bool {
	for _, t := range n.Spec.Taints {
		if t.Key == key && t.Effect == effect {
			return true
		}
	}
	return false
}

func podReady(p *corev1.Pod) corev1.ConditionStatus {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status
		}
	}
	return ""
}

func (c *cluster) bind(t *testing.T, name, node string, tolerations []corev1.Toleration) {
	t.Helper()
	ctx := context.Background()
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"}, Spec: corev1.PodSpec{
		Containers:  []corev1.Container{{Name: "app", Image: "nginx:1.27"}},
		Tolerations: tolerations,
	}}
	created, err := c.cs.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cs.CoreV1().Pods("default").Bind(ctx, &corev1.Binding{ObjectMeta: metav1.ObjectMeta{Name: name, UID: created.UID},
		Target: corev1.ObjectReference{Kind: "Node", Name: node}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	poll(t, 20*time.Second, func() (bool, string) {
		p, err := c.cs.CoreV1().Pods("default").Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		return podReady(p) == corev1.ConditionTrue, fmt.Sprintf("pod %s: phase %s", name, p.Status.Phase)
	})
}

func (c *cluster) pod(t *testing.T, name string) *corev1.Pod {
	t.Helper()
	p, err := c.cs.CoreV1().Pods("default").Get(context.Background(), name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func unreachable(seconds *int64) []corev1.Toleration {
	return []corev1.Toleration{{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists,
		Effect: corev1.TaintEffectNoExecute, TolerationSeconds: seconds}}
}

func TestNodeLifecycle(t *testing.T) {
	c := startCluster(t, 5)
	ctx := context.Background()

	// All nodes register, get pod CIDRs and are Ready; then they stay so
	// for well past the grace period.
	poll(t, 30*time.Second, func() (bool, string) {
		for _, name := range c.nodes {
			n, err := c.cs.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return false, err.Error()
			}
			if r := readyCondition(n); r == nil || r.Status != corev1.ConditionTrue || n.Spec.PodCIDR == "" {
				return false, fmt.Sprintf("node %s: ready %v, podCIDR %q", name, r, n.Spec.PodCIDR)
			}
		}
		return true, ""
	})
	soakUntil := time.Now().Add(2 * grace)
	poll(t, 4*grace, func() (bool, string) {
		nodes, err := c.cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err.Error()
		}
		for _, n := range nodes.Items {
			if r := readyCondition(&n); r == nil || r.Status != corev1.ConditionTrue || len(n.Spec.Taints) > 0 {
				t.Fatalf("healthy node %s lost Ready or got taints: %v %v", n.Name, r, n.Spec.Taints)
			}
		}
		return time.Now().After(soakUntil), "soaking"
	})

	dead := c.nodes[4]
	c.bind(t, "fragile", dead, unreachable(ptr.To[int64](0)))
	c.bind(t, "patient", dead, unreachable(ptr.To[int64](2)))
	c.bind(t, "loyal", dead, unreachable(nil))
	c.bind(t, "defaulted", dead, nil) // gets the 300s default tolerations
	c.bind(t, "elsewhere", c.nodes[0], unreachable(ptr.To[int64](0)))

	c.sim.StopHeartbeat(dead)
	poll(t, 4*grace, func() (bool, string) {
		n, err := c.cs.CoreV1().Nodes().Get(ctx, dead, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		r := readyCondition(n)
		if r.Status != corev1.ConditionUnknown {
			return false, "Ready is " + string(r.Status)
		}
		if r.Reason != "NodeStatusUnknown" || r.Message != "Kubelet stopped posting node status." {
			t.Errorf("Ready condition = %+v", r)
		}
		return hasTaint(n, corev1.TaintNodeUnreachable, corev1.TaintEffectNoExecute) &&
			hasTaint(n, corev1.TaintNodeUnreachable, corev1.TaintEffectNoSchedule), fmt.Sprintf("taints %v", n.Spec.Taints)
	})

	// Pods that do not tolerate the taint long enough are evicted; the
	// dead node cannot finish their deletion, so they stay Terminating.
	evicted := func(name string) func() (bool, string) {
		return func() (bool, string) {
			p := c.pod(t, name)
			return p == nil || p.DeletionTimestamp != nil, name + " not evicted"
		}
	}
	poll(t, 10*time.Second, evicted("fragile"))
	poll(t, 10*time.Second, evicted("patient"))
	if p := c.pod(t, "fragile"); p != nil {
		found := false
		for _, cond := range p.Status.Conditions {
			found = found || (cond.Type == corev1.DisruptionTarget && cond.Reason == "DeletionByTaintManager")
		}
		if !found {
			t.Errorf("fragile has no DisruptionTarget condition: %+v", p.Status.Conditions)
		}
	}
	for _, name := range []string{"loyal", "defaulted"} {
		p := c.pod(t, name)
		if p == nil || p.DeletionTimestamp != nil {
			t.Errorf("%s was evicted", name)
		} else if podReady(p) != corev1.ConditionFalse {
			t.Errorf("%s on a dead node is Ready=%s, want False", name, podReady(p))
		}
	}
	if p := c.pod(t, "elsewhere"); p == nil || p.DeletionTimestamp != nil || podReady(p) != corev1.ConditionTrue {
		t.Errorf("pod on a healthy node was disturbed: %+v", p)
	}
	poll(t, 10*time.Second, func() (bool, string) {
		evs, err := c.cs.CoreV1().Events("default").List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err.Error()
		}
		for _, e := range evs.Items {
			if e.Reason == "TaintManagerEviction" && e.InvolvedObject.Name == "fragile" && e.Message == "Marking for deletion Pod default/fragile" {
				return true, ""
			}
		}
		return false, "no TaintManagerEviction event"
	})

	// The node comes back: Ready, untainted, and its agent finishes the
	// evictions and makes the survivors Ready again.
	c.sim.ResumeHeartbeat(dead)
	poll(t, 4*grace, func() (bool, string) {
		n, err := c.cs.CoreV1().Nodes().Get(ctx, dead, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		if r := readyCondition(n); r.Status != corev1.ConditionTrue || len(n.Spec.Taints) > 0 {
			return false, fmt.Sprintf("ready %s, taints %v", r.Status, n.Spec.Taints)
		}
		if c.pod(t, "fragile") != nil || c.pod(t, "patient") != nil {
			return false, "evicted pods not gone"
		}
		if p := c.pod(t, "loyal"); p == nil || podReady(p) != corev1.ConditionTrue {
			return false, "loyal not Ready again"
		}
		return true, ""
	})

	// Every node down at once looks like a control-plane problem: no
	// NoExecute taints (master disruption mode).
	for _, name := range c.nodes {
		c.sim.StopHeartbeat(name)
	}
	poll(t, 4*grace, func() (bool, string) {
		nodes, err := c.cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err.Error()
		}
		for _, n := range nodes.Items {
			if r := readyCondition(&n); r.Status != corev1.ConditionUnknown {
				return false, n.Name + " still " + string(r.Status)
			}
			if !hasTaint(&n, corev1.TaintNodeUnreachable, corev1.TaintEffectNoSchedule) {
				return false, n.Name + " lacks the unreachable NoSchedule taint"
			}
		}
		return true, ""
	})
	// Whatever was tainted while the nodes were going down one by one,
	// once all are down no node keeps a NoExecute taint.
	var clean time.Time
	poll(t, 20*time.Second, func() (bool, string) {
		nodes, err := c.cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err.Error()
		}
		for _, n := range nodes.Items {
			if hasTaint(&n, corev1.TaintNodeUnreachable, corev1.TaintEffectNoExecute) {
				clean = time.Time{}
				return false, n.Name + " tainted NoExecute in master disruption mode"
			}
		}
		if clean.IsZero() {
			clean = time.Now()
		}
		// Stay clean for a few zone passes.
		return time.Since(clean) > 2*time.Second, "soaking"
	})
}

package simulator_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/skiff-io/skiff/internal/controller/nodeipam"
	"github.com/skiff-io/skiff/internal/controller/nodelifecycle"
	"github.com/skiff-io/skiff/internal/server"
	"github.com/skiff-io/skiff/internal/simulator"
	"github.com/skiff-io/skiff/internal/testserver"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// countingTransport counts the simulator's API requests by method.
type countingTransport struct {
	next   http.RoundTripper
	counts sync.Map // method -> *atomic.Int64
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	v, _ := c.counts.LoadOrStore(r.Method, new(atomic.Int64))
	v.(*atomic.Int64).Add(1)
	return c.next.RoundTrip(r)
}

func (c *countingTransport) String() string {
	out := ""
	c.counts.Range(func(k, v any) bool {
		out += fmt.Sprintf("%s=%d ", k, v.(*atomic.Int64).Load())
		return true
	})
	return out
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}

// TestScale is a bench-style check, not a timed test: it registers
// SKIFF_SIM_SCALE nodes (e.g. 1000) with node IPAM and the node lifecycle
// controller running, binds SKIFF_SIM_PODS pods to them (default 10 per
// node) and reports how long it took and what it cost. The server runs in
// the same process, so CPU figures include it.
func TestScale(t *testing.T) {
	nodes := envInt("SKIFF_SIM_SCALE", 0)
	if nodes == 0 {
		t.Skip("set SKIFF_SIM_SCALE=1000 to run")
	}
	pods := envInt("SKIFF_SIM_PODS", 10*nodes)
	s := testserver.StartWith(t, func(c *server.Config) { c.DisableControllers = true })
	rc := rest.CopyConfig(s.Config)
	counter := &countingTransport{}
	rc.WrapTransport = func(rt http.RoundTripper) http.RoundTripper { counter.next = rt; return counter }
	simClient := kubernetes.NewForConfigOrDie(rc)
	sim, err := simulator.New(simulator.Config{Client: simClient, Nodes: nodes, Logger: testLogger(), Workers: envInt("SKIFF_SIM_WORKERS", 0)})
	if err != nil {
		t.Fatal(err)
	}
	// Node IPAM and the node lifecycle controller run too, as in a cluster.
	// The default cluster CIDR (a /16 in /24s) holds 256 nodes only.
	factory := informers.NewSharedInformerFactory(s.Client, 0)
	ipam, err := nodeipam.New(nodeipam.Config{Client: s.Client, Informers: factory, Logger: testLogger(), ClusterCIDR: "10.64.0.0/12"})
	if err != nil {
		t.Fatal(err)
	}
	nlc, err := nodelifecycle.New(nodelifecycle.Config{Client: s.Client, Informers: factory, Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 3)
	t.Cleanup(func() {
		cancel()
		for range 3 {
			<-done
		}
		factory.Shutdown()
	})
	cpu0, start := cpuTime(), time.Now()
	factory.Start(ctx.Done())
	for _, run := range []func(context.Context) error{sim.Run, ipam.Run, nlc.Run} {
		go func() { _ = run(ctx); done <- struct{}{} }()
	}

	cs := s.Client
	var allReady time.Duration
	poll(t, 10*time.Minute, func() (bool, string) {
		list, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{ResourceVersion: "0"})
		if err != nil {
			return false, err.Error()
		}
		ready, cidr := 0, 0
		for i := range list.Items {
			if nodeReady(&list.Items[i]) {
				ready++
			}
			if list.Items[i].Spec.PodCIDR != "" {
				cidr++
			}
		}
		if ready == nodes && allReady == 0 {
			allReady = time.Since(start)
		}
		return ready == nodes && cidr == nodes, fmt.Sprintf("%d/%d nodes ready, %d with a pod CIDR", ready, nodes, cidr)
	})
	t.Logf("%d nodes registered and Ready in %v, all with pod CIDRs in %v (CPU %v); simulator requests: %s", nodes,
		allReady.Round(time.Millisecond), time.Since(start).Round(time.Millisecond), (cpuTime() - cpu0).Round(time.Millisecond), counter)

	// Bind pods round-robin, 32 at a time, the way a scheduler would.
	// With SKIFF_SIM_PAUSED set, the nodes are silent while that happens,
	// so that the simulator's own pod throughput can be measured after.
	cpu1, start := cpuTime(), time.Now()
	names := sim.NodeNames()
	paused := os.Getenv("SKIFF_SIM_PAUSED") != ""
	if paused {
		for _, n := range names {
			sim.StopHeartbeat(n)
		}
	}
	sem := make(chan struct{}, 32)
	var wg sync.WaitGroup
	var failed atomic.Int64
	for i := 0; i < pods; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			name := fmt.Sprintf("p-%d", i)
			pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "nginx"}}}}
			created, err := cs.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{})
			if err == nil {
				err = cs.CoreV1().Pods("default").Bind(ctx, &corev1.Binding{ObjectMeta: metav1.ObjectMeta{Name: name, UID: created.UID},
					Target: corev1.ObjectReference{Kind: "Node", Name: names[i%len(names)]}}, metav1.CreateOptions{})
			}
			if err != nil {
				failed.Add(1)
			}
		}()
	}
	wg.Wait()
	if failed.Load() > 0 {
		t.Fatalf("%d pods failed to create or bind", failed.Load())
	}
	bound := time.Since(start)
	if paused {
		cpu1, start = cpuTime(), time.Now()
		for _, n := range names {
			sim.ResumeHeartbeat(n)
		}
	}
	poll(t, 10*time.Minute, func() (bool, string) {
		list, err := cs.CoreV1().Pods("default").List(ctx, metav1.ListOptions{ResourceVersion: "0"})
		if err != nil {
			return false, err.Error()
		}
		running := 0
		for i := range list.Items {
			if list.Items[i].Status.Phase == corev1.PodRunning && list.Items[i].Status.PodIP != "" {
				running++
			}
		}
		return running == pods, fmt.Sprintf("%d/%d pods running", running, pods)
	})
	t.Logf("%d pods created+bound in %v, all Running in %v (CPU %v); requests so far: %s", pods, bound.Round(time.Millisecond),
		time.Since(start).Round(time.Millisecond), (cpuTime() - cpu1).Round(time.Millisecond), counter)

	// Steady state: only heartbeats.
	window := time.Duration(envInt("SKIFF_SIM_STEADY_SECONDS", 30)) * time.Second
	cpu2 := cpuTime()
	steadyStart := time.Now()
	soakUntil := steadyStart.Add(window)
	poll(t, window+time.Minute, func() (bool, string) { return time.Now().After(soakUntil), "steady state" })
	used := cpuTime() - cpu2
	t.Logf("steady state over %v: CPU %v (%.0f%% of one core, server included); requests total: %s",
		window, used.Round(time.Millisecond), 100*used.Seconds()/time.Since(steadyStart).Seconds(), counter)
}

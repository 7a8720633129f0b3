package scheduler_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/skiff-io/skiff/internal/scheduler"
	"github.com/skiff-io/skiff/internal/server"
	"github.com/skiff-io/skiff/internal/testserver"
	appsv1 "k8s.io/api/apps/v1"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
)

func antiAffinity(key string) func(*v1.Pod) {
	return func(p *v1.Pod) {
		p.Spec.Affinity = &v1.Affinity{PodAntiAffinity: &v1.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []v1.PodAffinityTerm{
			{LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "test"}}, TopologyKey: key}}}}
	}
}

func TestPodAntiAffinity(t *testing.T) {
	e := startEnv(t)
	for i := 1; i <= 3; i++ {
		e.node(fmt.Sprintf("node-%d", i), "4", "8Gi", nil)
	}
	seen := map[string]bool{}
	for i := 0; i < 3; i++ {
		name := fmt.Sprintf("solo-%d", i)
		e.pod(podSpec(name, "100m", antiAffinity(v1.LabelHostname)))
		// One at a time: each must see the previous ones.
		n := e.waitBound(name)
		if seen[n] {
			t.Fatalf("%s shares node %s", name, n)
		}
		seen[n] = true
	}
	e.pod(podSpec("solo-3", "100m", antiAffinity(v1.LabelHostname)))
	e.waitUnschedulable("solo-3", "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules. "+
		"preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.")
	// Deleting one frees its node for the waiting pod.
	zero := int64(0)
	if err := e.client.CoreV1().Pods(e.ns).Delete(e.ctx, "solo-0", metav1.DeleteOptions{GracePeriodSeconds: &zero}); err != nil {
		t.Fatal(err)
	}
	e.waitBound("solo-3")
}

func TestDefaultSpreadingOfAReplicaSet(t *testing.T) {
	e := startEnv(t)
	e.node("big", "64", "8Gi", nil)
	e.node("small-1", "4", "8Gi", nil)
	e.node("small-2", "4", "8Gi", nil)
	rs, err := e.client.AppsV1().ReplicaSets(e.ns).Create(e.ctx, &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: appsv1.ReplicaSetSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "test"}},
			Template: v1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "test"}},
				Spec: v1.PodSpec{Containers: []v1.Container{{Name: "c", Image: "busybox"}}}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	yes := true
	counts := map[string]int{}
	for i := 0; i < 6; i++ {
		name := fmt.Sprintf("web-%d", i)
		e.pod(podSpec(name, "", func(p *v1.Pod) {
			p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs.Name, UID: rs.UID, Controller: &yes}}
		}))
		counts[e.waitBound(name)]++
	}
	// Without spreading, LeastAllocated alone would put all six on "big".
	if counts["small-1"] == 0 || counts["small-2"] == 0 || counts["big"] > 3 {
		t.Errorf("replicas not spread: %v", counts)
	}
}

func TestMissingClaim(t *testing.T) {
	e := startEnv(t)
	e.node("node-1", "4", "8Gi", nil)
	e.pod(podSpec("db", "100m", func(p *v1.Pod) {
		p.Spec.Volumes = []v1.Volume{{Name: "data", VolumeSource: v1.VolumeSource{PersistentVolumeClaim: &v1.PersistentVolumeClaimVolumeSource{ClaimName: "data"}}}}
	}))
	e.waitUnschedulable("db", `0/1 nodes are available: persistentvolumeclaim "data" not found. `+
		`preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.`)
}

// flakyBinder fails the first bindings, then binds through the API.
type flakyBinder struct {
	failures atomic.Int32
	api      scheduler.APIBinder
}

func (b *flakyBinder) Bind(ctx context.Context, pod *v1.Pod, node string) error {
	if b.failures.Add(-1) >= 0 {
		return errors.New("injected binding failure")
	}
	return b.api.Bind(ctx, pod, node)
}

func TestBindingFailureIsRetried(t *testing.T) {
	s := testserver.StartWith(t, func(c *server.Config) { c.DisableControllers, c.DisableScheduler = true, true })
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	binder := &flakyBinder{api: scheduler.APIBinder{Client: s.Client}}
	binder.failures.Store(1)
	factory := informers.NewSharedInformerFactory(s.Client, 0)
	sched, err := scheduler.New(scheduler.Config{Client: s.Client, Informers: factory, Binder: binder,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	factory.Start(ctx.Done())
	done := make(chan struct{})
	go func() { _ = sched.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	e := &env{t: t, ctx: ctx, client: s.Client, ns: "default"}
	e.node("node-1", "4", "8Gi", nil)
	e.pod(podSpec("p", "100m", nil))
	e.waitEvent("p", "FailedScheduling", "binding rejected: injected binding failure")
	e.waitBound("p")
	if _, _, assumed := sched.Cache().Counts(); assumed != 0 {
		t.Errorf("%d pods left assumed", assumed)
	}
}

// TestSchedulerCommand runs `skiff scheduler --kubeconfig FILE` (leader
// election on, as by default) against a server without a scheduler.
func TestSchedulerCommand(t *testing.T) {
	s := testserver.StartWith(t, func(c *server.Config) { c.DisableControllers, c.DisableScheduler = true, true })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	cmd := scheduler.NewCommand()
	cmd.SetArgs([]string{"--kubeconfig", s.Kubeconfig, "--log-level", "error"})
	cmd.SetOut(io.Discard)
	go func() { done <- cmd.ExecuteContext(ctx) }()
	defer func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("skiff scheduler: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("skiff scheduler did not stop")
		}
	}()
	e := &env{t: t, ctx: ctx, client: s.Client, ns: "default"}
	e.node("node-1", "4", "8Gi", nil)
	e.pod(podSpec("p", "100m", nil))
	e.waitBound("p")
	lease, err := s.Client.CoordinationV1().Leases("kube-system").Get(ctx, "kube-scheduler", metav1.GetOptions{})
	if err != nil || lease.Spec.HolderIdentity == nil || *lease.Spec.HolderIdentity == "" {
		t.Errorf("lease %+v, %v", lease, err)
	}
}

package simulator_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/skiff-io/skiff/internal/controller/nodeipam"
	"github.com/skiff-io/skiff/internal/server"
	"github.com/skiff-io/skiff/internal/simulator"
	"github.com/skiff-io/skiff/internal/testserver"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
)

func testLogger() *slog.Logger {
	if os.Getenv("SKIFF_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// startSim runs the simulator (and node IPAM, so that nodes get pod
// CIDRs) against a fresh server for the rest of the test.
func startSim(t *testing.T, cfg simulator.Config) (*testserver.Server, *simulator.Simulator) {
	t.Helper()
	s := testserver.StartWith(t, func(c *server.Config) { c.DisableControllers = true })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 2)
	t.Cleanup(func() {
		cancel()
		<-done
		<-done
	})
	cfg.Client, cfg.Logger = s.Client, testLogger()
	sim, err := simulator.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	factory := informers.NewSharedInformerFactory(s.Client, 0)
	ipam, err := nodeipam.New(nodeipam.Config{Client: s.Client, Informers: factory, Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	factory.Start(ctx.Done())
	go func() { _ = sim.Run(ctx); done <- struct{}{} }()
	go func() { _ = ipam.Run(ctx); factory.Shutdown(); done <- struct{}{} }()
	return s, sim
}

// poll waits up to timeout for cond, failing the test with the last
// reason cond gave.
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

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func podCondition(p *corev1.Pod, t corev1.PodConditionType) corev1.ConditionStatus {
	for _, c := range p.Status.Conditions {
		if c.Type == t {
			return c.Status
		}
	}
	return ""
}

// createBoundPod creates a pod and binds it to node through pods/binding,
// as the scheduler would.
func createBoundPod(t *testing.T, cs kubernetes.Interface, pod *corev1.Pod, node string) *corev1.Pod {
	t.Helper()
	ctx := context.Background()
	if pod.Namespace == "" {
		pod.Namespace = "default"
	}
	if len(pod.Spec.Containers) == 0 {
		pod.Spec.Containers = []corev1.Container{{Name: "app", Image: "nginx:1.27"}}
	}
	created, err := cs.CoreV1().Pods(pod.Namespace).Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating pod: %v", err)
	}
	err = cs.CoreV1().Pods(pod.Namespace).Bind(ctx, &corev1.Binding{
		ObjectMeta: metav1.ObjectMeta{Name: pod.Name, UID: created.UID},
		Target:     corev1.ObjectReference{Kind: "Node", Name: node},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("binding pod %s to %s: %v", pod.Name, node, err)
	}
	return created
}

func TestSimulatedNodesRunPods(t *testing.T) {
	s, sim := startSim(t, simulator.Config{Nodes: 5, JobDuration: time.Second, Zones: []string{"a", "b"}})
	ctx := context.Background()
	cs := s.Client

	names := sim.NodeNames()
	poll(t, 30*time.Second, func() (bool, string) {
		for _, name := range names {
			n, err := cs.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return false, err.Error()
			}
			if !nodeReady(n) || n.Spec.PodCIDR == "" {
				return false, fmt.Sprintf("node %s: ready=%v podCIDR=%q", name, nodeReady(n), n.Spec.PodCIDR)
			}
			if _, err := cs.CoordinationV1().Leases(corev1.NamespaceNodeLease).Get(ctx, name, metav1.GetOptions{}); err != nil {
				return false, fmt.Sprintf("lease of %s: %v", name, err)
			}
		}
		return true, ""
	})
	n0, err := cs.CoreV1().Nodes().Get(ctx, names[0], metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := n0.Status.NodeInfo.KubeletVersion; got != simulator.DefaultKubeletVersion {
		t.Errorf("kubeletVersion = %q", got)
	}
	if got := n0.Status.Capacity[corev1.ResourcePods]; got.Value() != 110 {
		t.Errorf("pods capacity = %s", got.String())
	}
	if n0.Labels[corev1.LabelTopologyZone] != "a" {
		t.Errorf("zone label = %q", n0.Labels[corev1.LabelTopologyZone])
	}

	t.Run("pod runs with an IP of its node's podCIDR", func(t *testing.T) {
		created := createBoundPod(t, cs, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web"}}, names[1])
		var pod *corev1.Pod
		poll(t, 20*time.Second, func() (bool, string) {
			pod, err = cs.CoreV1().Pods("default").Get(ctx, "web", metav1.GetOptions{})
			if err != nil {
				return false, err.Error()
			}
			return pod.Status.Phase == corev1.PodRunning && podCondition(pod, corev1.PodReady) == corev1.ConditionTrue,
				fmt.Sprintf("phase %s, conditions %v", pod.Status.Phase, pod.Status.Conditions)
		})
		node, err := cs.CoreV1().Nodes().Get(ctx, names[1], metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		cidr := netip.MustParsePrefix(node.Spec.PodCIDR)
		ip, err := netip.ParseAddr(pod.Status.PodIP)
		if err != nil || !cidr.Contains(ip) {
			t.Errorf("pod IP %q not in node's podCIDR %s", pod.Status.PodIP, cidr)
		}
		if pod.Status.HostIP != node.Status.Addresses[0].Address {
			t.Errorf("hostIP = %q, want %q", pod.Status.HostIP, node.Status.Addresses[0].Address)
		}
		for _, typ := range []corev1.PodConditionType{corev1.PodInitialized, corev1.ContainersReady, corev1.PodScheduled} {
			if podCondition(pod, typ) != corev1.ConditionTrue {
				t.Errorf("condition %s = %q", typ, podCondition(pod, typ))
			}
		}
		if len(pod.Status.ContainerStatuses) != 1 || pod.Status.ContainerStatuses[0].State.Running == nil ||
			!pod.Status.ContainerStatuses[0].Ready || pod.Status.ContainerStatuses[0].ImageID == "" {
			t.Errorf("container statuses = %+v", pod.Status.ContainerStatuses)
		}

		// Deleting it gracefully: the node agent finishes the deletion.
		if err := cs.CoreV1().Pods("default").Delete(ctx, "web", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		poll(t, 20*time.Second, func() (bool, string) {
			p, err := cs.CoreV1().Pods("default").Get(ctx, "web", metav1.GetOptions{})
			if apierrors.IsNotFound(err) || (err == nil && p.UID != created.UID) {
				return true, ""
			}
			return false, fmt.Sprintf("pod still there (err %v)", err)
		})
	})

	t.Run("a Job's pod completes", func(t *testing.T) {
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "job-pod", OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "batch/v1", Kind: "Job", Name: "job", UID: "6f0c1a52-0000-4000-8000-000000000001", Controller: ptr.To(true),
			}}},
			Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever},
		}
		createBoundPod(t, cs, pod, names[2])
		poll(t, 20*time.Second, func() (bool, string) {
			p, err := cs.CoreV1().Pods("default").Get(ctx, "job-pod", metav1.GetOptions{})
			if err != nil {
				return false, err.Error()
			}
			if p.Status.Phase != corev1.PodSucceeded {
				return false, "phase " + string(p.Status.Phase)
			}
			st := p.Status.ContainerStatuses
			if len(st) != 1 || st[0].State.Terminated == nil || st[0].State.Terminated.Reason != "Completed" || st[0].State.Terminated.ExitCode != 0 {
				return false, fmt.Sprintf("container statuses %+v", st)
			}
			return true, ""
		})
	})

	t.Run("a failing pod fails", func(t *testing.T) {
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "fails", Annotations: map[string]string{
				simulator.AnnotationExitCode: "3", simulator.AnnotationRunDuration: "0s"}},
			Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever},
		}
		createBoundPod(t, cs, pod, names[3])
		poll(t, 20*time.Second, func() (bool, string) {
			p, err := cs.CoreV1().Pods("default").Get(ctx, "fails", metav1.GetOptions{})
			if err != nil {
				return false, err.Error()
			}
			st := p.Status.ContainerStatuses
			return p.Status.Phase == corev1.PodFailed && len(st) == 1 && st[0].State.Terminated != nil && st[0].State.Terminated.ExitCode == 3,
				fmt.Sprintf("phase %s, statuses %+v", p.Status.Phase, st)
		})
	})

	t.Run("a deleted pod held by a finalizer is stopped first", func(t *testing.T) {
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "held", Finalizers: []string{"example.com/hold"}}}
		createBoundPod(t, cs, pod, names[0])
		poll(t, 20*time.Second, func() (bool, string) {
			p, err := cs.CoreV1().Pods("default").Get(ctx, "held", metav1.GetOptions{})
			return err == nil && p.Status.Phase == corev1.PodRunning, fmt.Sprint(err)
		})
		if err := cs.CoreV1().Pods("default").Delete(ctx, "held", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		poll(t, 20*time.Second, func() (bool, string) {
			p, err := cs.CoreV1().Pods("default").Get(ctx, "held", metav1.GetOptions{})
			if err != nil {
				return false, err.Error()
			}
			st := p.Status.ContainerStatuses
			return p.Status.Phase == corev1.PodFailed && len(st) == 1 && st[0].State.Terminated != nil &&
					p.DeletionGracePeriodSeconds != nil && *p.DeletionGracePeriodSeconds == 0,
				fmt.Sprintf("phase %s, grace %v", p.Status.Phase, p.DeletionGracePeriodSeconds)
		})
		patch := []byte(`{"metadata":{"finalizers":null}}`)
		if _, err := cs.CoreV1().Pods("default").Patch(ctx, "held", types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
		poll(t, 20*time.Second, func() (bool, string) {
			_, err := cs.CoreV1().Pods("default").Get(ctx, "held", metav1.GetOptions{})
			return apierrors.IsNotFound(err), fmt.Sprint(err)
		})
	})

	t.Run("a silent node stops serving pods until it resumes", func(t *testing.T) {
		if !sim.StopHeartbeat(names[4]) {
			t.Fatal("StopHeartbeat: unknown node")
		}
		created := createBoundPod(t, cs, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "late"}}, names[4])
		// Nothing to wait for here but absence; the pod must not run until
		// the node comes back. Resume right away and expect it to run.
		p, err := cs.CoreV1().Pods("default").Get(ctx, "late", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if p.Status.Phase == corev1.PodRunning {
			t.Errorf("pod ran on a stopped node")
		}
		sim.ResumeHeartbeat(names[4])
		poll(t, 20*time.Second, func() (bool, string) {
			p, err := cs.CoreV1().Pods("default").Get(ctx, "late", metav1.GetOptions{})
			if err != nil || p.UID != created.UID {
				return false, fmt.Sprint(err)
			}
			return p.Status.Phase == corev1.PodRunning, "phase " + string(p.Status.Phase)
		})
	})
}

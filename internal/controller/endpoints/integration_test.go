package endpoints_test

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/skiff-io/skiff/internal/controller/endpoints"
	"github.com/skiff-io/skiff/internal/server"
	"github.com/skiff-io/skiff/internal/testserver"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
)

func start(t *testing.T) kubernetes.Interface {
	t.Helper()
	cs := startServer(t)
	startController(t, cs)
	return cs
}

func startServer(t *testing.T) kubernetes.Interface {
	t.Helper()
	s := testserver.StartWith(t, func(c *server.Config) {
		c.DisableControllers, c.DisableScheduler, c.DisableAgent = true, true, true
	})
	return s.Client
}

func startController(t *testing.T, cs kubernetes.Interface) {
	t.Helper()
	factory := informers.NewSharedInformerFactory(cs, 0)
	c, err := endpoints.New(endpoints.Config{Client: cs, Informers: factory})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	factory.Start(ctx.Done())
	done := make(chan struct{})
	go func() { defer close(done); _ = c.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; factory.Shutdown() })
}

func createPod(t *testing.T, cs kubernetes.Interface, ns, name string, labels map[string]string, httpPort int32) {
	t.Helper()
	_, err := cs.CoreV1().Pods(ns).Create(context.Background(), &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels},
		Spec: corev1.PodSpec{NodeName: "node-1", Containers: []corev1.Container{{
			Name: "app", Image: "nginx",
			Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: httpPort}},
		}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating pod %s: %v", name, err)
	}
}

// setStatus plays the kubelet: the pod runs with ip (none when ""),
// ready or not.
func setStatus(t *testing.T, cs kubernetes.Interface, ns, name, ip string, ready bool) {
	t.Helper()
	ctx := context.Background()
	pod, err := cs.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	status := corev1.ConditionFalse
	if ready {
		status = corev1.ConditionTrue
	}
	pod.Status.Phase = corev1.PodRunning
	pod.Status.PodIP = ip
	pod.Status.PodIPs = nil
	if ip != "" {
		pod.Status.PodIPs = []corev1.PodIP{{IP: ip}}
	}
	pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: status, LastTransitionTime: metav1.Now()}}
	if _, err := cs.CoreV1().Pods(ns).UpdateStatus(ctx, pod, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("pod %s status: %v", name, err)
	}
}

// addrs summarises Endpoints as "ip:port" lists, ready and not ready.
func addrs(ep *corev1.Endpoints) (ready, notReady []string) {
	for _, s := range ep.Subsets {
		for _, p := range s.Ports {
			for _, a := range s.Addresses {
				ready = append(ready, fmt.Sprintf("%s:%d/%s", a.IP, p.Port, p.Name))
			}
			for _, a := range s.NotReadyAddresses {
				notReady = append(notReady, fmt.Sprintf("%s:%d/%s", a.IP, p.Port, p.Name))
			}
		}
	}
	sort.Strings(ready)
	sort.Strings(notReady)
	return ready, notReady
}

func expectAddrs(t *testing.T, cs kubernetes.Interface, ns, name string, ready, notReady []string) *corev1.Endpoints {
	t.Helper()
	var got *corev1.Endpoints
	testserver.Eventually(t, 0, fmt.Sprintf("endpoints %s/%s", ns, name), func() error {
		ep, err := cs.CoreV1().Endpoints(ns).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		r, n := addrs(ep)
		if !reflect.DeepEqual(r, ready) || !reflect.DeepEqual(n, notReady) {
			return fmt.Errorf("ready %v notReady %v, want %v and %v", r, n, ready, notReady)
		}
		got = ep
		return nil
	})
	return got
}

func TestEndpointsFollowPods(t *testing.T) {
	cs := start(t)
	ctx := context.Background()
	ns := "web"
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	app := map[string]string{"app": "web"}
	createPod(t, cs, ns, "web-0", app, 8080)
	createPod(t, cs, ns, "web-1", app, 8080)
	createPod(t, cs, ns, "web-2", app, 8081)
	createPod(t, cs, ns, "other", map[string]string{"app": "other"}, 8080)
	setStatus(t, cs, ns, "web-0", "10.42.0.10", true)
	setStatus(t, cs, ns, "web-1", "10.42.0.11", false)
	setStatus(t, cs, ns, "web-2", "", false) // no IP yet: left out
	setStatus(t, cs, ns, "other", "10.42.0.99", true)
	svc, err := cs.CoreV1().Services(ns).Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Labels: map[string]string{"tier": "front"}},
		Spec: corev1.ServiceSpec{Selector: app, Ports: []corev1.ServicePort{
			{Name: "http", Port: 80, TargetPort: intstr.FromString("http")},
			{Name: "metrics", Port: 9090, TargetPort: intstr.FromInt32(9100)},
		}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ep := expectAddrs(t, cs, ns, "web",
		[]string{"10.42.0.10:8080/http", "10.42.0.10:9100/metrics"},
		[]string{"10.42.0.11:8080/http", "10.42.0.11:9100/metrics"})
	if ep.Labels["tier"] != "front" {
		t.Errorf("labels %v: want the Service's", ep.Labels)
	}
	if ep.Annotations[corev1.EndpointsLastChangeTriggerTime] == "" {
		t.Errorf("no %s annotation: %v", corev1.EndpointsLastChangeTriggerTime, ep.Annotations)
	}
	a := ep.Subsets[0].Addresses[0]
	if a.NodeName == nil || *a.NodeName != "node-1" || a.TargetRef == nil || a.TargetRef.Kind != "Pod" || a.TargetRef.Name != "web-0" {
		t.Errorf("address %+v: want nodeName and a pod targetRef", a)
	}

	// Readiness, IPs and named ports are followed.
	setStatus(t, cs, ns, "web-1", "10.42.0.11", true)
	setStatus(t, cs, ns, "web-2", "10.42.0.12", false)
	expectAddrs(t, cs, ns, "web",
		[]string{"10.42.0.10:8080/http", "10.42.0.10:9100/metrics", "10.42.0.11:8080/http", "10.42.0.11:9100/metrics"},
		[]string{"10.42.0.12:8081/http", "10.42.0.12:9100/metrics"})
	setStatus(t, cs, ns, "web-0", "10.42.0.20", false)
	expectAddrs(t, cs, ns, "web",
		[]string{"10.42.0.11:8080/http", "10.42.0.11:9100/metrics"},
		[]string{"10.42.0.12:8081/http", "10.42.0.12:9100/metrics", "10.42.0.20:8080/http", "10.42.0.20:9100/metrics"})

	// A pod that stops matching, and a terminating pod, leave.
	other, _ := cs.CoreV1().Pods(ns).Get(ctx, "web-2", metav1.GetOptions{})
	other.Labels = map[string]string{"app": "elsewhere"}
	if _, err := cs.CoreV1().Pods(ns).Update(ctx, other, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := cs.CoreV1().Pods(ns).Delete(ctx, "web-0", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	expectAddrs(t, cs, ns, "web", []string{"10.42.0.11:8080/http", "10.42.0.11:9100/metrics"}, nil)

	// publishNotReadyAddresses lists every pod with an IP as ready.
	svc, _ = cs.CoreV1().Services(ns).Get(ctx, svc.Name, metav1.GetOptions{})
	svc.Spec.PublishNotReadyAddresses = true
	svc.Spec.Selector = map[string]string{"app": "elsewhere"}
	if _, err := cs.CoreV1().Services(ns).Update(ctx, svc, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	expectAddrs(t, cs, ns, "web", []string{"10.42.0.12:8081/http", "10.42.0.12:9100/metrics"}, nil)

	// A deleted Endpoints object comes back; a deleted Service takes it.
	if err := cs.CoreV1().Endpoints(ns).Delete(ctx, "web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	expectAddrs(t, cs, ns, "web", []string{"10.42.0.12:8081/http", "10.42.0.12:9100/metrics"}, nil)
	if err := cs.CoreV1().Services(ns).Delete(ctx, "web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	testserver.Eventually(t, 0, "endpoints deleted with the service", func() error {
		_, err := cs.CoreV1().Endpoints(ns).Get(ctx, "web", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("still there (%v)", err)
	})
}

func TestEndpointsLeavesOthersAlone(t *testing.T) {
	cs := start(t)
	ctx := context.Background()
	ns := metav1.NamespaceDefault
	before, err := cs.CoreV1().Endpoints(ns).Get(ctx, "kubernetes", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// A selector-less Service with hand-made Endpoints, created first.
	manual := &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: "external"}, Subsets: []corev1.EndpointSubset{{
		Addresses: []corev1.EndpointAddress{{IP: "192.0.2.1"}}, Ports: []corev1.EndpointPort{{Port: 5432}}}}}
	manual, err = cs.CoreV1().Endpoints(ns).Create(ctx, manual, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Services(ns).Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "external"},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 5432}}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// A headless Service with no pods yet: empty Endpoints, headless label.
	if _, err := cs.CoreV1().Services(ns).Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "db"},
		Spec: corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone, Selector: map[string]string{"app": "db"},
			Ports: []corev1.ServicePort{{Port: 5432}}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	testserver.Eventually(t, 0, "headless endpoints", func() error {
		ep, err := cs.CoreV1().Endpoints(ns).Get(ctx, "db", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if _, ok := ep.Labels[corev1.IsHeadlessService]; !ok || len(ep.Subsets) != 0 {
			return fmt.Errorf("labels %v subsets %v", ep.Labels, ep.Subsets)
		}
		return nil
	})
	// The db sync came after the others were queued; they are untouched.
	got, err := cs.CoreV1().Endpoints(ns).Get(ctx, "external", metav1.GetOptions{})
	if err != nil || got.ResourceVersion != manual.ResourceVersion {
		t.Fatalf("hand-made endpoints changed: %v %v", got, err)
	}
	after, err := cs.CoreV1().Endpoints(ns).Get(ctx, "kubernetes", metav1.GetOptions{})
	if err != nil || after.ResourceVersion != before.ResourceVersion {
		t.Fatalf("kubernetes endpoints touched: %v %v", after, err)
	}
}

func TestEndpointsRemovesLeftovers(t *testing.T) {
	cs := startServer(t)
	ctx := context.Background()
	ns := metav1.NamespaceDefault
	mk := func(name string, annotations map[string]string) *corev1.Endpoints {
		ep, err := cs.CoreV1().Endpoints(ns).Create(ctx, &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: annotations}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return ep
	}
	// Endpoints whose Service went away while no controller ran, and a
	// leader-election lock that has no Service by design.
	gone := mk("gone", nil)
	mk("lock", map[string]string{"control-plane.alpha.kubernetes.io/leader": "{}"})
	// Only objects older than the controller (by more than the
	// one-second resolution of creation times) count as leftovers.
	for time.Since(gone.CreationTimestamp.Time) < 2*time.Second {
		time.Sleep(50 * time.Millisecond)
	}
	startController(t, cs)
	testserver.Eventually(t, 0, "leftover endpoints deleted", func() error {
		_, err := cs.CoreV1().Endpoints(ns).Get(ctx, "gone", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("still there (%v)", err)
	})
	if _, err := cs.CoreV1().Endpoints(ns).Get(ctx, "lock", metav1.GetOptions{}); err != nil {
		t.Fatalf("leader-election endpoints removed: %v", err)
	}
}

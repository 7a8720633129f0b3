package endpointslice_test

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"

	"github.com/skiff-io/skiff/internal/controller/endpointslice"
	"github.com/skiff-io/skiff/internal/server"
	"github.com/skiff-io/skiff/internal/testserver"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
)

func start(t *testing.T) kubernetes.Interface {
	t.Helper()
	s := testserver.StartWith(t, func(c *server.Config) {
		c.DisableControllers, c.DisableScheduler, c.DisableAgent = true, true, true
	})
	factory := informers.NewSharedInformerFactory(s.Client, 0)
	c, err := endpointslice.New(endpointslice.Config{Client: s.Client, Informers: factory})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	factory.Start(ctx.Done())
	done := make(chan struct{})
	go func() { defer close(done); _ = c.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; factory.Shutdown() })
	return s.Client
}

// runPod creates a pod on node and plays its kubelet: running, with ip,
// ready or not.
func runPod(ctx context.Context, cs kubernetes.Interface, ns, name, node, ip string, ready bool) error {
	pod, err := cs.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{"app": "web"}},
		Spec: corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{
			Name: "app", Image: "nginx", Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}},
		}}},
	}, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("creating pod %s: %w", name, err)
	}
	return setStatus(ctx, cs, pod, ip, ready)
}

func setStatus(ctx context.Context, cs kubernetes.Interface, pod *corev1.Pod, ip string, ready bool) error {
	status := corev1.ConditionFalse
	if ready {
		status = corev1.ConditionTrue
	}
	pod = pod.DeepCopy()
	pod.Status.Phase = corev1.PodRunning
	pod.Status.PodIP, pod.Status.PodIPs = ip, []corev1.PodIP{{IP: ip}}
	pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: status, LastTransitionTime: metav1.Now()}}
	if _, err := cs.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, pod, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("pod %s status: %w", pod.Name, err)
	}
	return nil
}

func slicesOf(ctx context.Context, cs kubernetes.Interface, ns, svc string) ([]discoveryv1.EndpointSlice, error) {
	list, err := cs.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=" + svc})
	if err != nil {
		return nil, err
	}
	sort.Slice(list.Items, func(i, j int) bool { return list.Items[i].Name < list.Items[j].Name })
	return list.Items, nil
}

// endpointsByPod indexes the endpoints of slices by pod name, failing on
// duplicates.
func endpointsByPod(slices []discoveryv1.EndpointSlice) (map[string]discoveryv1.Endpoint, error) {
	out := map[string]discoveryv1.Endpoint{}
	for _, s := range slices {
		for _, ep := range s.Endpoints {
			if _, dup := out[ep.TargetRef.Name]; dup {
				return nil, fmt.Errorf("pod %s listed twice", ep.TargetRef.Name)
			}
			out[ep.TargetRef.Name] = ep
		}
	}
	return out, nil
}

func TestEndpointSlices(t *testing.T) {
	cs := start(t)
	ctx := context.Background()
	ns := "shop"
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for i, zone := range []string{"zone-a", "zone-b"} {
		if _, err := cs.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{
			Name: fmt.Sprintf("node-%d", i), Labels: map[string]string{corev1.LabelTopologyZone: zone}}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// 250 pods exist before the Service: one sync packs them.
	const n = 250
	var wg sync.WaitGroup
	errs := make(chan error, n)
	work := make(chan int)
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				errs <- runPod(ctx, cs, ns, fmt.Sprintf("web-%03d", i), fmt.Sprintf("node-%d", i%2),
					fmt.Sprintf("10.42.%d.%d", i/200, i%200+1), i%10 != 0)
			}
		}()
	}
	for i := 0; i < n; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	svc, err := cs.CoreV1().Services(ns).Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Labels: map[string]string{"tier": "front"}},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "web"},
			Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromString("http")}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var slices []discoveryv1.EndpointSlice
	testserver.Eventually(t, 0, "250 endpoints in 3 slices", func() error {
		if slices, err = slicesOf(ctx, cs, ns, "web"); err != nil {
			return err
		}
		eps, err := endpointsByPod(slices)
		if err != nil {
			return err
		}
		if len(eps) != n || len(slices) != 3 {
			return fmt.Errorf("%d endpoints in %d slices", len(eps), len(slices))
		}
		return nil
	})
	for _, s := range slices {
		if len(s.Endpoints) > 100 {
			t.Errorf("slice %s has %d endpoints", s.Name, len(s.Endpoints))
		}
		if s.AddressType != discoveryv1.AddressTypeIPv4 || s.Labels[discoveryv1.LabelManagedBy] != endpointslice.ControllerName ||
			s.Labels["tier"] != "front" || len(s.Name) <= len("web-") || s.Name[:4] != "web-" {
			t.Errorf("slice %s: addressType %s labels %v", s.Name, s.AddressType, s.Labels)
		}
		if len(s.OwnerReferences) != 1 || s.OwnerReferences[0].UID != svc.UID || !ptr.Deref(s.OwnerReferences[0].Controller, false) {
			t.Errorf("slice %s owners %v", s.Name, s.OwnerReferences)
		}
		if len(s.Ports) != 1 || ptr.Deref(s.Ports[0].Port, 0) != 8080 || ptr.Deref(s.Ports[0].Name, "") != "http" {
			t.Errorf("slice %s ports %v", s.Name, s.Ports)
		}
		if s.Annotations[corev1.EndpointsLastChangeTriggerTime] == "" {
			t.Errorf("slice %s annotations %v", s.Name, s.Annotations)
		}
	}
	eps, _ := endpointsByPod(slices)
	ep := eps["web-003"]
	if !ptr.Deref(ep.Conditions.Ready, false) || !ptr.Deref(ep.Conditions.Serving, false) || ptr.Deref(ep.Conditions.Terminating, true) ||
		ptr.Deref(ep.NodeName, "") != "node-1" || ptr.Deref(ep.Zone, "") != "zone-b" || ep.Addresses[0] != "10.42.0.4" {
		t.Errorf("endpoint of web-003: %+v", ep)
	}
	if ptr.Deref(eps["web-010"].Conditions.Ready, true) {
		t.Errorf("web-010 is not ready: %+v", eps["web-010"].Conditions)
	}

	// One pod's readiness and IP change: only its slice is rewritten.
	rvs := map[string]string{}
	for _, s := range slices {
		rvs[s.Name] = s.ResourceVersion
	}
	pod, err := cs.CoreV1().Pods(ns).Get(ctx, "web-010", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := setStatus(ctx, cs, pod, "10.42.9.9", true); err != nil {
		t.Fatal(err)
	}
	testserver.Eventually(t, 0, "web-010 ready with its new IP", func() error {
		if slices, err = slicesOf(ctx, cs, ns, "web"); err != nil {
			return err
		}
		eps, err := endpointsByPod(slices)
		if err != nil {
			return err
		}
		ep := eps["web-010"]
		if !ptr.Deref(ep.Conditions.Ready, false) || len(ep.Addresses) != 1 || ep.Addresses[0] != "10.42.9.9" {
			return fmt.Errorf("web-010: %+v", ep)
		}
		return nil
	})
	changed := 0
	for _, s := range slices {
		if rvs[s.Name] != s.ResourceVersion {
			changed++
		}
	}
	if changed != 1 || len(slices) != 3 {
		t.Errorf("%d of %d slices rewritten for one endpoint change", changed, len(slices))
	}

	// A terminating pod stays listed, not ready, terminating.
	if err := cs.CoreV1().Pods(ns).Delete(ctx, "web-001", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	testserver.Eventually(t, 0, "web-001 terminating", func() error {
		slices, err := slicesOf(ctx, cs, ns, "web")
		if err != nil {
			return err
		}
		eps, err := endpointsByPod(slices)
		if err != nil {
			return err
		}
		c := eps["web-001"].Conditions
		if ptr.Deref(c.Ready, true) || !ptr.Deref(c.Serving, false) || !ptr.Deref(c.Terminating, false) {
			return fmt.Errorf("web-001 conditions %+v", c)
		}
		return nil
	})

	// No pods left: one empty placeholder slice.
	zero := int64(0)
	if err := cs.CoreV1().Pods(ns).DeleteCollection(ctx, metav1.DeleteOptions{GracePeriodSeconds: &zero}, metav1.ListOptions{}); err != nil {
		t.Fatal(err)
	}
	testserver.Eventually(t, 0, "placeholder slice", func() error {
		slices, err := slicesOf(ctx, cs, ns, "web")
		if err != nil {
			return err
		}
		if len(slices) != 1 || len(slices[0].Endpoints) != 0 {
			return fmt.Errorf("%d slices", len(slices))
		}
		return nil
	})

	// A Service without selector gets no managed slices.
	svc, _ = cs.CoreV1().Services(ns).Get(ctx, "web", metav1.GetOptions{})
	svc.Spec.Selector = nil
	if _, err := cs.CoreV1().Services(ns).Update(ctx, svc, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	testserver.Eventually(t, 0, "slices removed", func() error {
		slices, err := slicesOf(ctx, cs, ns, "web")
		if err != nil {
			return err
		}
		if len(slices) != 0 {
			return fmt.Errorf("%d slices", len(slices))
		}
		return nil
	})
}

func TestEndpointSlicesPodsArriveLater(t *testing.T) {
	cs := start(t)
	ctx := context.Background()
	ns := metav1.NamespaceDefault
	if _, err := cs.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-0"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Services(ns).Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "web"},
			Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080)}}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	testserver.Eventually(t, 0, "placeholder slice", func() error {
		slices, err := slicesOf(ctx, cs, ns, "web")
		if err != nil || len(slices) != 1 {
			return fmt.Errorf("%d slices (%v)", len(slices), err)
		}
		return nil
	})
	// Pods come and become ready while the controller syncs.
	const n = 230
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < n; i += 8 {
				errs <- runPod(ctx, cs, ns, fmt.Sprintf("web-%03d", i), "node-0", fmt.Sprintf("10.42.%d.%d", i/200, i%200+1), true)
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	testserver.Eventually(t, 0, "every pod listed once", func() error {
		slices, err := slicesOf(ctx, cs, ns, "web")
		if err != nil {
			return err
		}
		eps, err := endpointsByPod(slices)
		if err != nil {
			return err
		}
		for _, s := range slices {
			if len(s.Endpoints) > 100 || len(s.Endpoints) == 0 {
				return fmt.Errorf("slice %s has %d endpoints", s.Name, len(s.Endpoints))
			}
		}
		if len(eps) != n {
			return fmt.Errorf("%d endpoints in %d slices", len(eps), len(slices))
		}
		t.Logf("%d endpoints in %d slices", len(eps), len(slices))
		return nil
	})
}

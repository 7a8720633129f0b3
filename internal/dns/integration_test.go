package dns

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/skiff-io/skiff/internal/controller/endpointslice"
	"github.com/skiff-io/skiff/internal/pki"
	"github.com/skiff-io/skiff/internal/server"
	"github.com/skiff-io/skiff/internal/testserver"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
)

// TestComponentAgainstAPIServer runs the component against a real
// in-process control plane: it must create kube-dns
// on the tenth service address with its EndpointSlice, and answer for the
// Services the API server has, including a headless Service whose
// EndpointSlice the controllers write from a pod.
func TestComponentAgainstAPIServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a control plane")
	}
	// The EndpointSlice controller runs by hand, as in its own tests.
	ts := testserver.StartWith(t, func(c *server.Config) { c.DisableControllers, c.DisableScheduler = true, true })
	factory := informers.NewSharedInformerFactory(ts.Client, 0)
	esc, err := endpointslice.New(endpointslice.Config{Client: ts.Client, Informers: factory})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	factory.Start(ctx.Done())
	escDone := make(chan struct{})
	go func() { defer close(escDone); _ = esc.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-escDone; factory.Shutdown() })

	ports, err := testserver.FreePorts(1)
	if err != nil {
		t.Fatal(err)
	}
	listen := fmt.Sprintf("127.0.0.1:%d", ports[0])
	done := make(chan error, 1)
	comp := Component(Options{Listen: listen, ServiceCIDR: pki.DefaultServiceCIDR, NodeIPs: []string{"192.0.2.10"}, Upstreams: []string{}})
	if comp.LeaderElected {
		t.Error("DNS component is leader-elected; every server must answer")
	}
	go func() { done <- comp.Run(ctx, server.Env{Config: ts.Config, Logger: slog.Default()}) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("component: %v", err)
		}
	})

	testserver.Eventually(t, 0, "kube-dns service and slice", func() error {
		svc, err := ts.Client.CoreV1().Services("kube-system").Get(ctx, "kube-dns", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if svc.Spec.ClusterIP != "10.43.0.10" {
			return fmt.Errorf("ClusterIP %s", svc.Spec.ClusterIP)
		}
		s, err := ts.Client.DiscoveryV1().EndpointSlices("kube-system").Get(ctx, "kube-dns-skiff", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if len(s.Endpoints) != 1 || s.Endpoints[0].Addresses[0] != "192.0.2.10" {
			return fmt.Errorf("slice endpoints %v", s.Endpoints)
		}
		return nil
	})

	kube, err := ts.Client.CoreV1().Services("default").Get(ctx, "kubernetes", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	query := func(name string, qtype uint16) (*dns.Msg, error) {
		c := &dns.Client{Timeout: 2 * time.Second}
		resp, _, err := c.Exchange(new(dns.Msg).SetQuestion(name, qtype), listen)
		return resp, err
	}
	testserver.Eventually(t, 0, "kubernetes.default A", func() error {
		resp, err := query("kubernetes.default.svc.cluster.local.", dns.TypeA)
		if err != nil {
			return err
		}
		if len(resp.Answer) != 1 || resp.Answer[0].(*dns.A).A.String() != kube.Spec.ClusterIP {
			return fmt.Errorf("answer %v, want %s", resp.Answer, kube.Spec.ClusterIP)
		}
		return nil
	})
	testserver.Eventually(t, 0, "kube-dns SRV", func() error {
		resp, err := query("_dns-tcp._tcp.kube-dns.kube-system.svc.cluster.local.", dns.TypeSRV)
		if err != nil {
			return err
		}
		if len(resp.Answer) != 1 || resp.Answer[0].(*dns.SRV).Port != 53 {
			return fmt.Errorf("answer %v", resp.Answer)
		}
		return nil
	})

	// A headless Service with a selector: its EndpointSlice comes from the
	// EndpointSlice controller, with the pod's hostname.
	if _, err := ts.Client.CoreV1().Services("default").Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone, Selector: map[string]string{"app": "web"},
			Ports: []corev1.ServicePort{{Name: "http", Port: 80}}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// The EndpointSlice controller publishes pods of existing nodes only.
	if _, err := ts.Client.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pod, err := ts.Client.CoreV1().Pods("default").Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web-0", Labels: map[string]string{"app": "web"}},
		Spec: corev1.PodSpec{Hostname: "web-0", Subdomain: "web", NodeName: "n1",
			Containers: []corev1.Container{{Name: "c", Image: "busybox"}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pod.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.42.0.5", PodIPs: []corev1.PodIP{{IP: "10.42.0.5"}},
		Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}}
	if _, err := ts.Client.CoreV1().Pods("default").UpdateStatus(ctx, pod, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	testserver.Eventually(t, 0, "web-0.web.default A", func() error {
		resp, err := query("web-0.web.default.svc.cluster.local.", dns.TypeA)
		if err != nil {
			return err
		}
		if len(resp.Answer) != 1 || resp.Answer[0].(*dns.A).A.String() != "10.42.0.5" {
			slices, _ := ts.Client.DiscoveryV1().EndpointSlices("default").List(ctx, metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=web"})
			all, _ := ts.Client.DiscoveryV1().EndpointSlices("default").List(ctx, metav1.ListOptions{})
			p, _ := ts.Client.CoreV1().Pods("default").Get(ctx, "web-0", metav1.GetOptions{})
			return fmt.Errorf("answer %v (slices %v; all %d; pod %+v)", resp.Answer, slices, len(all.Items), p.Status)
		}
		return nil
	})
}

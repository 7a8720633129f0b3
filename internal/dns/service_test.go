package dns

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/skiff-io/skiff/internal/server"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

func TestServiceIP(t *testing.T) {
	for cidr, want := range map[string]string{"10.43.0.0/16": "10.43.0.10", "10.96.0.0/12": "10.96.0.10", "fd00:43::/112": "fd00:43::a", "10.43.0.5/16": "10.43.0.10", "10.0.0.0/29": "", "bad": ""} {
		ip, err := ServiceIP(cidr)
		got := ""
		if err == nil {
			got = ip.String()
		}
		if got != want {
			t.Errorf("ServiceIP(%s) = %q (%v), want %q", cidr, got, err, want)
		}
	}
}

func sliceIPs(t *testing.T, client *fake.Clientset) map[string][]string {
	t.Helper()
	list, err := client.DiscoveryV1().EndpointSlices("kube-system").List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, s := range list.Items {
		if s.Labels[discoveryv1.LabelServiceName] != "kube-dns" || s.Labels[discoveryv1.LabelManagedBy] != "skiff" {
			t.Errorf("slice %s labels %v", s.Name, s.Labels)
		}
		for _, ep := range s.Endpoints {
			if ep.Conditions.Ready == nil || !*ep.Conditions.Ready {
				t.Errorf("slice %s endpoint %v not ready", s.Name, ep.Addresses)
			}
			out[s.Name] = append(out[s.Name], ep.Addresses...)
		}
		if len(s.Ports) != 2 || *s.Ports[0].Port != 10053 {
			t.Errorf("slice %s ports %v", s.Name, s.Ports)
		}
	}
	return out
}

func TestEnsureService(t *testing.T) {
	ctx := context.Background()
	client := fake.NewClientset()
	if err := EnsureService(ctx, client, "10.43.0.0/16", []string{"192.0.2.10", "2001:db8::10"}, 10053); err != nil {
		t.Fatal(err)
	}
	svc, err := client.CoreV1().Services("kube-system").Get(ctx, "kube-dns", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if svc.Spec.ClusterIP != "10.43.0.10" || len(svc.Spec.Selector) != 0 {
		t.Errorf("service spec %+v", svc.Spec)
	}
	var ports []string
	for _, p := range svc.Spec.Ports {
		ports = append(ports, p.Name+"/"+string(p.Protocol)+"/"+p.TargetPort.String())
	}
	if d := cmp.Diff([]string{"dns/UDP/10053", "dns-tcp/TCP/10053"}, ports); d != "" {
		t.Errorf("ports (-want +got):\n%s", d)
	}
	if d := cmp.Diff(map[string][]string{"kube-dns-skiff": {"192.0.2.10"}, "kube-dns-skiff-v6": {"2001:db8::10"}}, sliceIPs(t, client)); d != "" {
		t.Errorf("slices (-want +got):\n%s", d)
	}

	// A second server's IPs replace the set; the IPv6 slice goes away.
	if err := EnsureService(ctx, client, "10.43.0.0/16", []string{"192.0.2.11", "192.0.2.10"}, 10053); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(map[string][]string{"kube-dns-skiff": {"192.0.2.10", "192.0.2.11"}}, sliceIPs(t, client)); d != "" {
		t.Errorf("slices after update (-want +got):\n%s", d)
	}

	if err := EnsureService(ctx, client, "10.43.0.0/16", []string{"127.0.0.1"}, 10053); err == nil {
		t.Error("EnsureService accepted a loopback node IP")
	}

	// A kube-dns with another ClusterIP cannot be fixed in place.
	if err := EnsureService(ctx, client, "10.96.0.0/12", []string{"192.0.2.10"}, 10053); err == nil {
		t.Error("EnsureService with a different service CIDR succeeded")
	}
}

func TestEnsureServiceRestoresPorts(t *testing.T) {
	ctx := context.Background()
	client := fake.NewClientset(&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "kube-dns"},
		Spec: corev1.ServiceSpec{ClusterIP: "10.43.0.10", Selector: map[string]string{"k8s-app": "kube-dns"},
			Ports: []corev1.ServicePort{{Name: "dns", Protocol: corev1.ProtocolUDP, Port: 53}}}})
	if err := EnsureService(ctx, client, "10.43.0.0/16", []string{"192.0.2.10"}, 10053); err != nil {
		t.Fatal(err)
	}
	svc, err := client.CoreV1().Services("kube-system").Get(ctx, "kube-dns", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(svc.Spec.Ports) != 2 || svc.Spec.Selector != nil {
		t.Fatalf("service not corrected: %+v", svc.Spec)
	}
}

// TestComponentRefusesBadOptions: settings that can never work end Run
// with a clear error instead of a retry loop.
func TestComponentRefusesBadOptions(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"service CIDR", Options{ServiceCIDR: "10.43.0.0/99", NodeIPs: []string{"192.0.2.10"}}, "service CIDR"},
		{"tiny service CIDR", Options{ServiceCIDR: "10.43.0.0/30", NodeIPs: []string{"192.0.2.10"}}, "tenth address"},
		{"node IP", Options{NodeIPs: []string{"192.0.2.300"}}, "node IP"},
		{"loopback node IP", Options{NodeIPs: []string{"127.0.0.1"}}, "pods cannot reach it"},
		{"listen port", Options{Listen: "0.0.0.0:x"}, "bad port"},
	}
	for _, tt := range tests {
		// No API config: Run must fail before it needs one.
		err := Component(tt.opts).Run(context.Background(), server.Env{})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Run = %v, want an error with %q", tt.name, err, tt.want)
		}
	}
}

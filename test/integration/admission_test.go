package integration

import (
	"net/netip"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func service(ns, name string, typ corev1.ServiceType, clusterIP string, nodePort int32) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: corev1.ServiceSpec{
			Type:      typ,
			ClusterIP: clusterIP,
			Selector:  map[string]string{"app": name},
			Ports:     []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080), NodePort: nodePort}},
		},
	}
}

var serviceCIDR = netip.MustParsePrefix("10.43.0.0/16")

func TestServices(t *testing.T) {
	t.Parallel()
	s := startAPIServer(t)
	c := s.Client
	ctx := ctxFor(t)
	ns := createNamespace(t, c, "services")
	svcs := c.CoreV1().Services(ns)

	t.Run("cluster IP allocation", func(t *testing.T) {
		seen := map[string]bool{"10.43.0.1": true} // the kubernetes service
		for _, name := range []string{"a1", "a2", "a3"} {
			got, err := svcs.Create(ctx, service(ns, name, "", "", 0), metav1.CreateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got.Spec.Type != corev1.ServiceTypeClusterIP {
				t.Errorf("%s: type %q, want ClusterIP by default", name, got.Spec.Type)
			}
			ip, err := netip.ParseAddr(got.Spec.ClusterIP)
			if err != nil || !serviceCIDR.Contains(ip) {
				t.Errorf("%s: clusterIP %q not in %s", name, got.Spec.ClusterIP, serviceCIDR)
			}
			if seen[got.Spec.ClusterIP] {
				t.Errorf("%s: clusterIP %s allocated twice", name, got.Spec.ClusterIP)
			}
			seen[got.Spec.ClusterIP] = true
			if len(got.Spec.ClusterIPs) != 1 || got.Spec.ClusterIPs[0] != got.Spec.ClusterIP {
				t.Errorf("%s: clusterIPs %v, want [%s]", name, got.Spec.ClusterIPs, got.Spec.ClusterIP)
			}
			if got.Spec.Ports[0].NodePort != 0 {
				t.Errorf("%s: ClusterIP service got nodePort %d", name, got.Spec.Ports[0].NodePort)
			}
		}
	})

	t.Run("fixed cluster IP", func(t *testing.T) {
		got, err := svcs.Create(ctx, service(ns, "fixed", "", "10.43.200.10", 0), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got.Spec.ClusterIP != "10.43.200.10" {
			t.Errorf("fixed clusterIP: got %s", got.Spec.ClusterIP)
		}
		for _, tc := range []struct {
			name, ip string
		}{
			{"dup", "10.43.200.10"},          // already allocated
			{"outside", "10.99.0.5"},         // not in the service CIDR
			{"kubernetes-ip", "10.43.0.1"},   // the kubernetes service's
			{"not-an-ip", "10.43.300.1"},     // malformed
			{"network-address", "10.43.0.0"}, // the network address
			{"broadcast", "10.43.255.255"},   // the broadcast address
		} {
			_, err := svcs.Create(ctx, service(ns, tc.name, "", tc.ip, 0), metav1.CreateOptions{})
			if !apierrors.IsInvalid(err) {
				t.Errorf("clusterIP %s (%s): got %v, want 422 Invalid", tc.ip, tc.name, err)
			}
		}
		// The clusterIP cannot be changed.
		got.Spec.ClusterIP, got.Spec.ClusterIPs = "10.43.200.11", []string{"10.43.200.11"}
		if _, err := svcs.Update(ctx, got, metav1.UpdateOptions{}); !apierrors.IsInvalid(err) {
			t.Errorf("changing clusterIP: got %v, want 422", err)
		}
	})

	t.Run("headless and external name", func(t *testing.T) {
		got, err := svcs.Create(ctx, service(ns, "headless", "", corev1.ClusterIPNone, 0), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got.Spec.ClusterIP != corev1.ClusterIPNone {
			t.Errorf("headless service clusterIP %q, want None", got.Spec.ClusterIP)
		}
		ext := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "ext"}, Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "example.com"}}
		got, err = svcs.Create(ctx, ext, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got.Spec.ClusterIP != "" {
			t.Errorf("ExternalName service got clusterIP %q", got.Spec.ClusterIP)
		}
	})

	t.Run("node ports", func(t *testing.T) {
		got, err := svcs.Create(ctx, service(ns, "np", corev1.ServiceTypeNodePort, "", 0), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if p := got.Spec.Ports[0].NodePort; p < 30000 || p > 32767 {
			t.Errorf("allocated nodePort %d outside 30000-32767", p)
		}
		if got.Spec.ClusterIP == "" || got.Spec.ClusterIP == corev1.ClusterIPNone {
			t.Errorf("NodePort service clusterIP %q", got.Spec.ClusterIP)
		}
		fixed, err := svcs.Create(ctx, service(ns, "np-fixed", corev1.ServiceTypeNodePort, "", 31234), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if fixed.Spec.Ports[0].NodePort != 31234 {
			t.Errorf("fixed nodePort: got %d", fixed.Spec.Ports[0].NodePort)
		}
		for _, tc := range []struct {
			name string
			port int32
		}{
			{"np-dup", 31234},
			{"np-low", 29999},
			{"np-high", 32768},
		} {
			_, err := svcs.Create(ctx, service(ns, tc.name, corev1.ServiceTypeNodePort, "", tc.port), metav1.CreateOptions{})
			if !apierrors.IsInvalid(err) {
				t.Errorf("nodePort %d: got %v, want 422 Invalid", tc.port, err)
			}
		}
		lb, err := svcs.Create(ctx, service(ns, "lb", corev1.ServiceTypeLoadBalancer, "", 0), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if p := lb.Spec.Ports[0].NodePort; p < 30000 || p > 32767 {
			t.Errorf("LoadBalancer service nodePort %d", p)
		}
		// A ClusterIP service turned into a NodePort one gets a port.
		a1, err := svcs.Get(ctx, "a1", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		a1.Spec.Type = corev1.ServiceTypeNodePort
		a1, err = svcs.Update(ctx, a1, metav1.UpdateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if p := a1.Spec.Ports[0].NodePort; p < 30000 || p > 32767 {
			t.Errorf("service switched to NodePort got nodePort %d", p)
		}
	})

	t.Run("released on delete", func(t *testing.T) {
		mk := func() (*corev1.Service, error) {
			return svcs.Create(ctx, service(ns, "reuse", corev1.ServiceTypeNodePort, "10.43.201.20", 31999), metav1.CreateOptions{})
		}
		first, err := mk()
		if err != nil {
			t.Fatal(err)
		}
		if err := svcs.Delete(ctx, "reuse", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		second, err := mk()
		if err != nil {
			t.Fatalf("re-creating with the released clusterIP and nodePort: %v", err)
		}
		if second.UID == first.UID || second.Spec.ClusterIP != "10.43.201.20" || second.Spec.Ports[0].NodePort != 31999 {
			t.Errorf("re-created service: uid %s clusterIP %s nodePort %d", second.UID, second.Spec.ClusterIP, second.Spec.Ports[0].NodePort)
		}
		// A dry-run create reserves nothing, and a refused create leaks
		// nothing.
		dry := service(ns, "dry", corev1.ServiceTypeNodePort, "10.43.201.21", 31998)
		if _, err := svcs.Create(ctx, dry, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}); err != nil {
			t.Fatal(err)
		}
		bad := service(ns, "bad", corev1.ServiceTypeNodePort, "10.43.201.22", 31997)
		bad.Spec.Ports = append(bad.Spec.Ports, bad.Spec.Ports[0]) // duplicate port: invalid
		if _, err := svcs.Create(ctx, bad, metav1.CreateOptions{}); !apierrors.IsInvalid(err) {
			t.Fatalf("service with duplicate ports: got %v, want 422", err)
		}
		for _, sv := range []*corev1.Service{
			service(ns, "after-dry", corev1.ServiceTypeNodePort, "10.43.201.21", 31998),
			service(ns, "after-bad", corev1.ServiceTypeNodePort, "10.43.201.22", 31997),
		} {
			if _, err := svcs.Create(ctx, sv, metav1.CreateOptions{}); err != nil {
				t.Errorf("%s: %v", sv.Name, err)
			}
		}
		// Changing a NodePort service back to ClusterIP releases its port.
		np, err := svcs.Get(ctx, "np-fixed", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		np.Spec.Type = corev1.ServiceTypeClusterIP
		np.Spec.Ports[0].NodePort = 0
		if _, err := svcs.Update(ctx, np, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := svcs.Create(ctx, service(ns, "np-taker", corev1.ServiceTypeNodePort, "", 31234), metav1.CreateOptions{}); err != nil {
			t.Errorf("nodePort 31234 not released by the switch to ClusterIP: %v", err)
		}
	})

	t.Run("survive restart", func(t *testing.T) {
		// Allocations are rebuilt from the stored services after a restart.
		s.Restart()
		_, err := s.Client.CoreV1().Services(ns).Create(ctx, service(ns, "after-restart", "", "10.43.200.10", 0), metav1.CreateOptions{})
		if !apierrors.IsInvalid(err) {
			t.Errorf("clusterIP of an existing service after restart: got %v, want 422", err)
		}
		_, err = s.Client.CoreV1().Services(ns).Create(ctx, service(ns, "after-restart", corev1.ServiceTypeNodePort, "", 31999), metav1.CreateOptions{})
		if !apierrors.IsInvalid(err) {
			t.Errorf("nodePort of an existing service after restart: got %v, want 422", err)
		}
	})
}

func TestNamespaces(t *testing.T) {
	t.Parallel()
	s := startAPIServer(t)
	c := s.Client
	ctx := ctxFor(t)

	t.Run("missing namespace", func(t *testing.T) {
		_, err := c.CoreV1().ConfigMaps("no-such-ns").Create(ctx, configMap("no-such-ns", "cm", nil, nil), metav1.CreateOptions{})
		if !apierrors.IsNotFound(err) {
			t.Fatalf("create in a missing namespace: got %v, want 404", err)
		}
		if st := err.(apierrors.APIStatus).Status(); st.Details == nil || st.Details.Kind != "namespaces" || st.Details.Name != "no-such-ns" {
			t.Errorf("404 details %+v, want namespaces/no-such-ns", st.Details)
		}
		// Reads of a missing namespace are plain 404s / empty lists.
		if _, err := c.CoreV1().ConfigMaps("no-such-ns").Get(ctx, "cm", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("get in a missing namespace: got %v", err)
		}
		if l, err := c.CoreV1().ConfigMaps("no-such-ns").List(ctx, metav1.ListOptions{}); err != nil || len(l.Items) != 0 {
			t.Errorf("list in a missing namespace: %v %v", l, err)
		}
	})

	t.Run("protected namespaces", func(t *testing.T) {
		for _, ns := range []string{"default", "kube-system", "kube-public"} {
			err := c.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{})
			if !apierrors.IsForbidden(err) {
				t.Errorf("deleting %s: got %v, want 403 Forbidden", ns, err)
			}
			got, err := c.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
			if err != nil {
				t.Fatalf("%s after refused delete: %v", ns, err)
			}
			if got.DeletionTimestamp != nil || got.Status.Phase != corev1.NamespaceActive {
				t.Errorf("%s marked for deletion: %v %s", ns, got.DeletionTimestamp, got.Status.Phase)
			}
		}
	})

	t.Run("terminating namespace", func(t *testing.T) {
		ns := createNamespace(t, c, "terminating")
		got, err := c.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got.Status.Phase != corev1.NamespaceActive || len(got.Spec.Finalizers) != 1 || got.Spec.Finalizers[0] != corev1.FinalizerKubernetes {
			t.Errorf("new namespace: phase %s finalizers %v, want Active [kubernetes]", got.Status.Phase, got.Spec.Finalizers)
		}
		// A configmap with a finalizer keeps the namespace terminating
		// even if a namespace controller runs.
		held := configMap(ns, "held", nil, nil)
		held.Finalizers = []string{"example.com/hold"}
		if _, err := c.CoreV1().ConfigMaps(ns).Create(ctx, held, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := c.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		got, err = c.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got.Status.Phase != corev1.NamespaceTerminating || got.DeletionTimestamp == nil {
			t.Errorf("deleted namespace: phase %s deletionTimestamp %v, want Terminating", got.Status.Phase, got.DeletionTimestamp)
		}
		_, err = c.CoreV1().ConfigMaps(ns).Create(ctx, configMap(ns, "new", nil, nil), metav1.CreateOptions{})
		if !apierrors.IsForbidden(err) {
			t.Errorf("create in a terminating namespace: got %v, want 403 Forbidden", err)
		}
		// Updates of existing objects are still allowed (finalizers must
		// be removable).
		if _, err := c.CoreV1().ConfigMaps(ns).Patch(ctx, "held", types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{}); err != nil {
			t.Errorf("removing a finalizer in a terminating namespace: %v", err)
		}
	})

	t.Run("namespace names", func(t *testing.T) {
		for _, name := range []string{"Upper", "has.dot", "-leading", "a-very-long-name-that-is-longer-than-sixty-three-characters-in-total"} {
			_, err := c.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
			if !apierrors.IsInvalid(err) {
				t.Errorf("namespace %q: got %v, want 422", name, err)
			}
		}
	})
}

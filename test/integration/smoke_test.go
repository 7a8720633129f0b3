package integration

import (
	"bytes"
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/skiff-io/skiff/internal/testcluster"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kprotobuf "k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	"k8s.io/client-go/rest"
)

func TestBootstrapNamespacesAndKubernetesService(t *testing.T) {
	s := testcluster.Start(t)
	ctx := context.Background()
	for _, ns := range []string{"default", "kube-system", "kube-public", "kube-node-lease"} {
		if _, err := s.Client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); err != nil {
			t.Errorf("namespace %s: %v", ns, err)
		}
	}
	svc, err := s.Client.CoreV1().Services("default").Get(ctx, "kubernetes", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("kubernetes service: %v", err)
	}
	if svc.Spec.ClusterIP != "10.43.0.1" {
		t.Errorf("kubernetes service clusterIP = %q, want 10.43.0.1", svc.Spec.ClusterIP)
	}
}

func TestNamespaceDeletionRemovesContent(t *testing.T) {
	s := testcluster.Start(t)
	ctx := context.Background()
	c := s.Client
	if _, err := c.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "doomed"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "c", Namespace: "doomed"}}
	if _, err := c.CoreV1().ConfigMaps("doomed").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := c.CoreV1().Namespaces().Delete(ctx, "doomed", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	ns, err := c.CoreV1().Namespaces().Get(ctx, "doomed", metav1.GetOptions{})
	if err == nil && ns.Status.Phase != corev1.NamespaceTerminating {
		t.Errorf("namespace phase after delete = %q, want Terminating", ns.Status.Phase)
	}
	// Creating content in a terminating namespace is refused.
	_, err = c.CoreV1().ConfigMaps("doomed").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "late"}}, metav1.CreateOptions{})
	if err == nil || (!apierrors.IsForbidden(err) && !apierrors.IsNotFound(err)) {
		t.Errorf("create in terminating namespace: err = %v, want Forbidden (or NotFound once gone)", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := c.CoreV1().Namespaces().Get(ctx, "doomed", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("namespace still present 30s after deletion (err=%v)", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, err := c.CoreV1().ConfigMaps("doomed").Get(ctx, "c", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("configmap in deleted namespace: err = %v, want NotFound", err)
	}
}

func TestNamespaceDefaults(t *testing.T) {
	s := testcluster.Start(t)
	ctx := context.Background()
	c := s.Client
	if _, err := c.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "fresh"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, saErr := c.CoreV1().ServiceAccounts("fresh").Get(ctx, "default", metav1.GetOptions{})
		cm, cmErr := c.CoreV1().ConfigMaps("fresh").Get(ctx, "kube-root-ca.crt", metav1.GetOptions{})
		if saErr == nil && cmErr == nil {
			if cm.Data["ca.crt"] == "" {
				t.Fatal("kube-root-ca.crt has no ca.crt")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("defaults missing after 20s: serviceaccount err=%v, configmap err=%v", saErr, cmErr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// A deleted default ServiceAccount comes back.
	if err := c.CoreV1().ServiceAccounts("fresh").Delete(ctx, "default", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := c.CoreV1().ServiceAccounts("fresh").Get(ctx, "default", metav1.GetOptions{}); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("default service account not recreated")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestProtobufWatchStream checks that a protobuf client gets a protobuf
// watch stream (length-delimited WatchEvent frames), which client-go's
// typed clients decode.
func TestProtobufWatchStream(t *testing.T) {
	s := testcluster.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	hc, err := rest.HTTPClientFor(s.Config)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.Config.Host+"/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=10", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/vnd.kubernetes.protobuf;stream=watch, application/json")
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "application/vnd.kubernetes.protobuf;stream=watch" {
		t.Fatalf("Content-Type = %q, want the protobuf watch stream", ct)
	}
	// The first event is the kube-root-ca.crt ConfigMap (or any object
	// already there): read one frame and decode it.
	frames := kprotobuf.LengthDelimitedFramer.NewFrameReader(resp.Body)
	buf := make([]byte, 1<<20)
	n, err := frames.Read(buf)
	if err != nil {
		t.Fatalf("reading a frame: %v", err)
	}
	var ev metav1.WatchEvent
	if err := ev.Unmarshal(buf[:n]); err != nil {
		t.Fatalf("decoding WatchEvent: %v", err)
	}
	if ev.Type != "ADDED" || !bytes.HasPrefix(ev.Object.Raw, []byte("k8s\x00")) {
		t.Fatalf("event type %q, object prefix %q; want ADDED with the protobuf envelope", ev.Type, ev.Object.Raw[:min(4, len(ev.Object.Raw))])
	}
}

package integration

import (
	"context"
	"testing"

	"github.com/skiff-io/skiff/internal/testserver"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestBootstrapNamespacesAndKubernetesService(t *testing.T) {
	s := testserver.Start(t)
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

package patch

import (
	"encoding/json"
	"errors"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/scheme"
)

var deploymentGVK = appsv1.SchemeGroupVersion.WithKind("Deployment")

func newTestManager() *Manager {
	return NewManager(scheme.Scheme)
}

// testDeployment is an existing deployment with two containers.
func testDeployment(replicas int32) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{
			Name: "web", Namespace: "default", UID: "uid-1",
			Labels: map[string]string{"app": "web", "tier": "front"},
		},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{
					{Name: "a", Image: "a:1"},
					{Name: "b", Image: "b:1"},
				}},
			},
		},
	}
}

// statusCode returns the HTTP code of an API status error, or 0.
func statusCode(err error) int32 {
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		return status.Status().Code
	}
	return 0
}

// entry returns the managedFields entry of manager, or nil.
func entry(entries []metav1.ManagedFieldsEntry, manager string) *metav1.ManagedFieldsEntry {
	for i := range entries {
		if entries[i].Manager == manager {
			return &entries[i]
		}
	}
	return nil
}

// owns reports whether a managedFields entry lists the field path given
// as its "f:" keys, e.g. owns(e, "f:spec", "f:replicas").
func owns(t *testing.T, e *metav1.ManagedFieldsEntry, path ...string) bool {
	t.Helper()
	if e == nil || e.FieldsV1 == nil {
		return false
	}
	var node map[string]interface{}
	if err := json.Unmarshal(e.FieldsV1.Raw, &node); err != nil {
		t.Fatalf("fieldsV1 of %s: %v", e.Manager, err)
	}
	for _, p := range path {
		next, ok := node[p].(map[string]interface{})
		if !ok {
			return false
		}
		node = next
	}
	return true
}

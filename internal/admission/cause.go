package admission

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// metaCause is the cause Kubernetes attaches to refusals in a terminating
// namespace, which clients use to stop retrying.
func metaCause(namespace string) metav1.StatusCause {
	return metav1.StatusCause{Type: corev1.NamespaceTerminatingCause, Message: "namespace " + namespace + " is being terminated", Field: "metadata.namespace"}
}

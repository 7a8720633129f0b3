package scheduler

import (
	"context"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Binder assigns a pod to a node. Implementations must be safe for
// concurrent use; the scheduler calls Bind from background goroutines.
type Binder interface {
	Bind(ctx context.Context, pod *v1.Pod, nodeName string) error
}

// APIBinder binds through the pods/binding subresource, as kube-scheduler's
// DefaultBinder does.
type APIBinder struct {
	Client kubernetes.Interface
}

// Bind implements Binder.
func (b APIBinder) Bind(ctx context.Context, pod *v1.Pod, nodeName string) error {
	binding := &v1.Binding{
		ObjectMeta: metav1.ObjectMeta{Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID},
		Target:     v1.ObjectReference{Kind: "Node", Name: nodeName},
	}
	return b.Client.CoreV1().Pods(pod.Namespace).Bind(ctx, binding, metav1.CreateOptions{})
}

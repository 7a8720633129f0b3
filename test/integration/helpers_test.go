package integration

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/skiff-io/skiff/internal/server"
	"github.com/skiff-io/skiff/internal/testserver"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// testserver.WaitTimeout bounds every poll in this package.
// ctxFor returns a context that ends with the test (or after a generous
// deadline, so a hung request fails instead of blocking the suite).
func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// startAPIServer starts a server without the scheduler, controllers and
// node agent, so that the tests see exactly the API server's behaviour and
// no object they did not create (such as the kube-root-ca.crt configmap
// that a controller adds to every namespace).
func startAPIServer(t *testing.T) *testserver.Server {
	t.Helper()
	return testserver.StartWith(t, func(c *server.Config) {
		c.DisableControllers, c.DisableScheduler, c.DisableAgent = true, true, true
	})
}

// createNamespace creates a namespace for one test.
func createNamespace(t *testing.T, c kubernetes.Interface, name string) string {
	t.Helper()
	_, err := c.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating namespace %s: %v", name, err)
	}
	return name
}

func configMap(ns, name string, labels map[string]string, data map[string]string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels}, Data: data}
}

func pod(ns, name string, labels map[string]string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name:  "app",
			Image: "nginx:1.27",
		}}},
	}
}

// jsonConfig returns a copy of the server's config that speaks JSON only.
func jsonConfig(s *testserver.Server) *rest.Config {
	cfg := rest.CopyConfig(s.Config)
	cfg.ContentType = "application/json"
	cfg.AcceptContentTypes = "application/json"
	return cfg
}

// protobufConfig returns a copy of the server's config that speaks protobuf.
func protobufConfig(s *testserver.Server) *rest.Config {
	cfg := rest.CopyConfig(s.Config)
	cfg.ContentType = "application/vnd.kubernetes.protobuf"
	cfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	return cfg
}

// nextEvent reads one event or fails after the timeout.
func nextEvent(t *testing.T, w watch.Interface, timeout time.Duration) watch.Event {
	t.Helper()
	select {
	case ev, ok := <-w.ResultChan():
		if !ok {
			t.Fatalf("watch closed while waiting for an event")
		}
		return ev
	case <-time.After(timeout):
		t.Fatalf("no watch event within %v", timeout)
	}
	return watch.Event{}
}

// describeEvent renders an event for failure messages.
func describeEvent(ev watch.Event) string {
	if st, ok := ev.Object.(*metav1.Status); ok {
		return fmt.Sprintf("%s %d %s", ev.Type, st.Code, st.Message)
	}
	if m, ok := ev.Object.(metav1.Object); ok {
		return fmt.Sprintf("%s %s rv=%s", ev.Type, m.GetName(), m.GetResourceVersion())
	}
	return fmt.Sprintf("%s %T", ev.Type, ev.Object)
}

// statusCode returns the HTTP code of an API error, or 0.
func statusCode(err error) int32 {
	if st, ok := err.(apierrors.APIStatus); ok {
		return st.Status().Code
	}
	return 0
}

func ptr[T any](v T) *T { return &v }

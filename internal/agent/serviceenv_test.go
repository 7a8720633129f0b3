package agent

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"

	"github.com/skiff-io/skiff/internal/agent/envvars"
)

func clusterIPService(ns, name, ip string, port int32) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       corev1.ServiceSpec{ClusterIP: ip, Ports: []corev1.ServicePort{{Port: port}}},
	}
}

func TestServiceEnvSourceForPod(t *testing.T) {
	client := fake.NewClientset(
		clusterIPService("default", "kubernetes", "10.96.0.1", 443),
		clusterIPService("default", "other", "10.96.0.2", 80),
		clusterIPService("app", "web", "10.96.0.10", 8080),
		clusterIPService("elsewhere", "db", "10.96.0.20", 5432),
	)
	factory := informers.NewSharedInformerFactory(client, 0)
	src := newServiceEnvSource(factory.Core().V1().Services())
	ctx, cancel := context.WithCancel(context.Background())
	// Shutdown waits for the informers, which stop once ctx is cancelled.
	defer factory.Shutdown()
	defer cancel()
	factory.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), src.synced) {
		t.Fatal("services informer did not sync")
	}

	hosts := func(vars []envvars.EnvVar) []string {
		var out []string
		for _, v := range vars {
			if strings.HasSuffix(v.Name, "_SERVICE_HOST") {
				out = append(out, v.Name+"="+v.Value)
			}
		}
		return out
	}
	tests := []struct {
		name  string
		ns    string
		links *bool
		want  []string
	}{
		{name: "links default to on", ns: "app", want: []string{"KUBERNETES_SERVICE_HOST=10.96.0.1", "WEB_SERVICE_HOST=10.96.0.10"}},
		{name: "links off keep the master service", ns: "app", links: ptr.To(false), want: []string{"KUBERNETES_SERVICE_HOST=10.96.0.1"}},
		{name: "pod in default", ns: "default", links: ptr.To(true), want: []string{"KUBERNETES_SERVICE_HOST=10.96.0.1", "OTHER_SERVICE_HOST=10.96.0.2"}},
		{name: "pod in default, links off", ns: "default", links: ptr.To(false), want: []string{"KUBERNETES_SERVICE_HOST=10.96.0.1"}},
		{name: "namespace without services", ns: "empty", want: []string{"KUBERNETES_SERVICE_HOST=10.96.0.1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: tt.ns, Name: "p"}, Spec: corev1.PodSpec{EnableServiceLinks: tt.links}}
			vars, err := src.forPod(ctx, pod)
			if err != nil {
				t.Fatal(err)
			}
			if got := hosts(vars); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("service hosts = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestServiceEnvSourceNotSynced(t *testing.T) {
	factory := informers.NewSharedInformerFactory(fake.NewClientset(), 0)
	src := newServiceEnvSource(factory.Core().V1().Services()) // never started
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := src.forPod(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: "p"}})
	if !errors.Is(err, errServicesNotSynced) {
		t.Fatalf("err = %v, want %v", err, errServicesNotSynced)
	}
}

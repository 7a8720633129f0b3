package quota

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var podsGR = schema.GroupResource{Resource: "pods"}

func podWith(req, lim corev1.ResourceList) *corev1.Pod {
	return &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Resources: corev1.ResourceRequirements{Requests: req, Limits: lim}}}}}
}

func list(kv ...string) corev1.ResourceList {
	out := corev1.ResourceList{}
	for i := 0; i < len(kv); i += 2 {
		out[corev1.ResourceName(kv[i])] = resource.MustParse(kv[i+1])
	}
	return out
}

func TestUsage(t *testing.T) {
	pod := podWith(list("cpu", "100m", "memory", "64Mi"), list("cpu", "200m"))
	got := Usage(podsGR, pod)
	want := map[corev1.ResourceName]string{"pods": "1", "count/pods": "1", "requests.cpu": "100m", "cpu": "100m",
		"requests.memory": "64Mi", "memory": "64Mi", "limits.cpu": "200m"}
	if len(got) != len(want) {
		t.Fatalf("Usage = %v, want %v", got, want)
	}
	for k, v := range want {
		q := got[k]
		if q.String() != v {
			t.Errorf("%s = %s, want %s", k, q.String(), v)
		}
	}
	done := podWith(nil, nil)
	done.Status.Phase = corev1.PodSucceeded
	if u := Usage(podsGR, done); len(u) != 0 {
		t.Errorf("finished pod counts for %v", u)
	}
	svc := &corev1.Service{Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Ports: []corev1.ServicePort{{Port: 80}, {Port: 443}}}}
	u := Usage(schema.GroupResource{Resource: "services"}, svc)
	if q := u[corev1.ResourceServicesNodePorts]; q.String() != "2" {
		t.Errorf("services.nodeports = %s, want 2", q.String())
	}
	if q := u[CountName(schema.GroupResource{Group: "apps", Resource: "deployments"})]; !q.IsZero() {
		t.Errorf("unrelated count set")
	}
	if CountName(schema.GroupResource{Group: "apps", Resource: "deployments"}) != "count/deployments.apps" {
		t.Errorf("CountName for a group is wrong")
	}
}

func TestInitContainersCountTheLargest(t *testing.T) {
	pod := podWith(list("cpu", "100m"), nil)
	pod.Spec.InitContainers = []corev1.Container{{Name: "init", Resources: corev1.ResourceRequirements{Requests: list("cpu", "500m")}}}
	q := Usage(podsGR, pod)[corev1.ResourceRequestsCPU]
	if q.String() != "500m" {
		t.Fatalf("requests.cpu = %s, want 500m (the init container's)", q.String())
	}
}

func TestExceeded(t *testing.T) {
	tests := []struct {
		name              string
		hard, used, delta corev1.ResourceList
		want              []corev1.ResourceName
	}{
		{"fits", list("pods", "2"), list("pods", "1"), list("pods", "1"), nil},
		{"exceeds", list("pods", "1"), list("pods", "1"), list("pods", "1"), []corev1.ResourceName{"pods"}},
		{"untouched resource over", list("pods", "1", "cpu", "1"), list("pods", "0", "cpu", "5"), list("pods", "1"), nil},
		{"two over, sorted", list("pods", "1", "cpu", "1"), list("pods", "1", "cpu", "1"), list("pods", "1", "cpu", "1"), []corev1.ResourceName{"cpu", "pods"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Exceeded(tt.hard, tt.used, tt.delta); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Exceeded = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMatchesScopes(t *testing.T) {
	deadline := int64(30)
	be := podWith(nil, nil)
	burst := podWith(list("cpu", "1"), nil)
	term := podWith(nil, nil)
	term.Spec.ActiveDeadlineSeconds = &deadline
	tests := []struct {
		name   string
		scopes []corev1.ResourceQuotaScope
		pod    *corev1.Pod
		want   bool
	}{
		{"no scopes", nil, burst, true},
		{"best effort", []corev1.ResourceQuotaScope{corev1.ResourceQuotaScopeBestEffort}, be, true},
		{"best effort, burstable pod", []corev1.ResourceQuotaScope{corev1.ResourceQuotaScopeBestEffort}, burst, false},
		{"not best effort", []corev1.ResourceQuotaScope{corev1.ResourceQuotaScopeNotBestEffort}, burst, true},
		{"terminating", []corev1.ResourceQuotaScope{corev1.ResourceQuotaScopeTerminating}, term, true},
		{"not terminating", []corev1.ResourceQuotaScope{corev1.ResourceQuotaScopeNotTerminating}, term, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := &corev1.ResourceQuota{Spec: corev1.ResourceQuotaSpec{Scopes: tt.scopes}}
			if got := Matches(q, tt.pod); got != tt.want {
				t.Fatalf("Matches = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMissingRequirements(t *testing.T) {
	pod := podWith(list("cpu", "1"), nil)
	got := MissingRequirements(list("limits.cpu", "2", "requests.cpu", "2"), pod)
	want := []string{"limits.cpu for: app"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("MissingRequirements = %v, want %v", got, want)
	}
}

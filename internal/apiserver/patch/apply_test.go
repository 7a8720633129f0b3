package patch

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

const applyBody = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: default
  labels:
    %s
spec:
  replicas: %d
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: app
        image: app:1
`

// persist simulates the store writing a created object.
func persist(obj *appsv1.Deployment) {
	obj.UID = "uid-1"
	obj.ResourceVersion = "1"
}

func TestApplyCreateThenReapply(t *testing.T) {
	m := newTestManager()
	steps := []struct {
		name         string
		labels       string
		replicas     int32
		wantLabels   map[string]string
		wantUnchange bool
	}{
		{name: "create", labels: "a: one", replicas: 2, wantLabels: map[string]string{"a": "one"}},
		{name: "change replicas, replace label", labels: "b: two", replicas: 4, wantLabels: map[string]string{"b": "two"}},
		{name: "same again is a no-op", labels: "b: two", replicas: 4, wantLabels: map[string]string{"b": "two"}, wantUnchange: true},
	}
	var live *appsv1.Deployment
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			// A nil *Deployment in a runtime.Object is not a nil live.
			var liveArg runtime.Object
			if live != nil {
				liveArg = live
			}
			before := live.DeepCopy()
			out, err := m.Apply(liveArg, deploymentGVK, []byte(fmt.Sprintf(applyBody, step.labels, step.replicas)), "alice", false, "")
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if !reflect.DeepEqual(live, before) {
				t.Error("Apply modified live")
			}
			got := out.(*appsv1.Deployment)
			if got.APIVersion != "apps/v1" || got.Kind != "Deployment" {
				t.Errorf("TypeMeta = %+v", got.TypeMeta)
			}
			if got.Name != "web" || *got.Spec.Replicas != step.replicas {
				t.Errorf("name %q replicas %d, want web %d", got.Name, *got.Spec.Replicas, step.replicas)
			}
			if !reflect.DeepEqual(got.Labels, step.wantLabels) {
				t.Errorf("labels = %v, want %v (labels dropped from the config are pruned)", got.Labels, step.wantLabels)
			}
			if len(got.ManagedFields) != 1 {
				t.Fatalf("managedFields = %+v, want one entry", got.ManagedFields)
			}
			e := entry(got.ManagedFields, "alice")
			if e == nil || e.Operation != metav1.ManagedFieldsOperationApply || e.APIVersion != "apps/v1" ||
				e.FieldsType != "FieldsV1" || e.Time == nil || e.Subresource != "" {
				t.Fatalf("alice's entry = %+v", e)
			}
			if !owns(t, e, "f:spec", "f:replicas") || !owns(t, e, "f:spec", "f:template", "f:spec", "f:containers", `k:{"name":"app"}`, "f:image") {
				t.Errorf("alice does not own spec.replicas and the container image: %s", e.FieldsV1.Raw)
			}
			for k := range step.wantLabels {
				if !owns(t, e, "f:metadata", "f:labels", "f:"+k) {
					t.Errorf("alice does not own label %s: %s", k, e.FieldsV1.Raw)
				}
			}
			if step.wantUnchange {
				if !reflect.DeepEqual(got.ObjectMeta, live.ObjectMeta) || !reflect.DeepEqual(got.Spec, live.Spec) {
					t.Error("no-op apply changed the object")
				}
			}
			live = got.DeepCopy()
			persist(live)
		})
	}
}

// createdBy returns a deployment with replicas 3 as created by manager
// through an ordinary (non-apply) create.
func createdBy(t *testing.T, m *Manager, manager string) *appsv1.Deployment {
	t.Helper()
	out, err := m.UpdateManagedFields(nil, testDeployment(3), deploymentGVK, manager, "")
	if err != nil {
		t.Fatal(err)
	}
	return out.(*appsv1.Deployment)
}

func TestApplyConflicts(t *testing.T) {
	const csa = "kubectl-client-side-apply"
	tests := []struct {
		name         string
		body         string
		force        bool
		wantConflict bool
		wantReplicas int32
		wantOwners   []string // managers owning spec.replicas afterwards
	}{
		{
			name:         "different value conflicts",
			body:         `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"replicas":5}}`,
			wantConflict: true,
		},
		{
			name:         "same value shares ownership",
			body:         `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"replicas":3}}`,
			wantReplicas: 3, wantOwners: []string{csa, "other"}, // sorted
		},
		{
			name:  "force takes ownership",
			body:  `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"replicas":5}}`,
			force: true, wantReplicas: 5, wantOwners: []string{"other"},
		},
		{
			name:         "unowned field does not conflict",
			body:         `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"paused":true}}`,
			wantReplicas: 3, wantOwners: []string{csa},
		},
	}
	m := newTestManager()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			live := createdBy(t, m, csa)
			out, err := m.Apply(live, deploymentGVK, []byte(tt.body), "other", tt.force, "")
			if tt.wantConflict {
				if !apierrors.IsConflict(err) || statusCode(err) != 409 {
					t.Fatalf("err = %v, want 409 conflict", err)
				}
				want := `Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas`
				if err.Error() != want {
					t.Errorf("message = %q, want %q", err.Error(), want)
				}
				status := err.(apierrors.APIStatus).Status()
				wantCauses := []metav1.StatusCause{{
					Type:    metav1.CauseTypeFieldManagerConflict,
					Message: `conflict with "kubectl-client-side-apply" using apps/v1`,
					Field:   ".spec.replicas",
				}}
				if status.Details == nil || !reflect.DeepEqual(status.Details.Causes, wantCauses) {
					t.Errorf("details = %+v, want causes %+v", status.Details, wantCauses)
				}
				return
			}
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			got := out.(*appsv1.Deployment)
			if *got.Spec.Replicas != tt.wantReplicas {
				t.Errorf("replicas = %d, want %d", *got.Spec.Replicas, tt.wantReplicas)
			}
			var owners []string
			for i := range got.ManagedFields {
				if owns(t, &got.ManagedFields[i], "f:spec", "f:replicas") {
					owners = append(owners, got.ManagedFields[i].Manager)
				}
			}
			sort.Strings(owners)
			if !reflect.DeepEqual(owners, tt.wantOwners) {
				t.Errorf("owners of spec.replicas = %v, want %v", owners, tt.wantOwners)
			}
		})
	}
}

func TestApplyErrors(t *testing.T) {
	valid := `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"paused":true}}`
	tests := []struct {
		name     string
		body     string
		manager  string
		wantCode int32
		wantMsg  string
	}{
		{"no manager", valid, "", 422, `PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch`},
		{"manager too long", valid, strings.Repeat("m", 129), 422, "fieldManager: Too long"},
		{"not yaml", "spec: [", "alice", 400, "error decoding YAML"},
		{"not an object", "- a\n- b\n", "alice", 400, "error decoding YAML"},
		{"wrong kind", `{"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"name":"web"}}`, "alice", 400, "invalid object type: apps/v1, Kind=StatefulSet"},
		{"wrong version", `{"apiVersion":"apps/v1beta1","kind":"Deployment","metadata":{"name":"web"}}`, "alice", 400, "invalid object type: apps/v1beta1, Kind=Deployment"},
		{"no kind", `{"metadata":{"name":"web"}}`, "alice", 400, "invalid object type"},
		{"managed fields set", `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","managedFields":[{"manager":"x"}]}}`, "alice", 400, "metadata.managedFields must be nil"},
		{"unknown field", `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"foo":1}}`, "alice", 400, ".spec.foo: field not declared in schema"},
		{"rename", `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"other"}}`, "alice", 400, "the name of the object (other) does not match the name on the URL (web)"},
		{"other namespace", `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"kube-system"}}`, "alice", 400, "the namespace of the object (kube-system) does not match the namespace on the URL (default)"},
	}
	m := newTestManager()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			live := createdBy(t, m, "creator")
			_, err := m.Apply(live, deploymentGVK, []byte(tt.body), tt.manager, false, "")
			if err == nil {
				t.Fatal("err = nil")
			}
			if code := statusCode(err); code != tt.wantCode {
				t.Errorf("code = %d, want %d (%v)", code, tt.wantCode, err)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("err = %q, want it to contain %q", err, tt.wantMsg)
			}
		})
	}
}

func TestApplySubresourceOwnership(t *testing.T) {
	body := `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"paused":true},"status":{"replicas":2}}`
	tests := []struct {
		subresource    string
		wantOwnsStatus bool
		wantOwnsSpec   bool
	}{
		{subresource: "", wantOwnsStatus: false, wantOwnsSpec: true},
		{subresource: "status", wantOwnsStatus: true, wantOwnsSpec: false},
	}
	m := newTestManager()
	for _, tt := range tests {
		t.Run("subresource="+tt.subresource, func(t *testing.T) {
			live := createdBy(t, m, "creator")
			out, err := m.Apply(live, deploymentGVK, []byte(body), "alice", false, tt.subresource)
			if err != nil {
				t.Fatal(err)
			}
			e := entry(out.(*appsv1.Deployment).ManagedFields, "alice")
			if e == nil || e.Subresource != tt.subresource {
				t.Fatalf("alice's entry = %+v, want subresource %q", e, tt.subresource)
			}
			if got := owns(t, e, "f:status", "f:replicas"); got != tt.wantOwnsStatus {
				t.Errorf("owns status.replicas = %v, want %v", got, tt.wantOwnsStatus)
			}
			if got := owns(t, e, "f:spec", "f:paused"); got != tt.wantOwnsSpec {
				t.Errorf("owns spec.paused = %v, want %v", got, tt.wantOwnsSpec)
			}
		})
	}
}

func TestApplyConcurrent(t *testing.T) {
	m := newTestManager()
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			manager := fmt.Sprintf("m%d", i)
			_, errs[i] = m.Apply(nil, deploymentGVK, []byte(fmt.Sprintf(applyBody, "a: x", i)), manager, false, "")
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("apply %d: %v", i, err)
		}
	}
}

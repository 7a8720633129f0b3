package patch

import (
	"reflect"
	"sort"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"
)

func TestUpdateManagedFields(t *testing.T) {
	m := newTestManager()
	tests := []struct {
		name        string
		live        func(t *testing.T) *appsv1.Deployment // nil func: create
		change      func(d *appsv1.Deployment)
		manager     string
		subresource string
		// wantOwned lists, per manager, the paths it must own afterwards;
		// wantNotOwned the paths it must not.
		wantOwned    map[string][][]string
		wantNotOwned map[string][][]string
		wantManagers []string // sorted
	}{
		{
			name:    "create",
			manager: "kubectl-create",
			wantOwned: map[string][][]string{"kubectl-create": {
				{"f:spec", "f:replicas"},
				{"f:metadata", "f:labels", "f:app"},
				{"f:spec", "f:template", "f:spec", "f:containers", `k:{"name":"a"}`, "f:image"},
			}},
			wantManagers: []string{"kubectl-create"},
		},
		{
			name:    "update takes changed fields from their owner",
			live:    func(t *testing.T) *appsv1.Deployment { return createdBy(t, m, "kubectl-create") },
			change:  func(d *appsv1.Deployment) { r := int32(9); d.Spec.Replicas = &r },
			manager: "kubectl-edit",
			wantOwned: map[string][][]string{
				"kubectl-edit":   {{"f:spec", "f:replicas"}},
				"kubectl-create": {{"f:metadata", "f:labels", "f:app"}},
			},
			wantNotOwned: map[string][][]string{
				"kubectl-create": {{"f:spec", "f:replicas"}},
				"kubectl-edit":   {{"f:metadata", "f:labels"}},
			},
			wantManagers: []string{"kubectl-create", "kubectl-edit"},
		},
		{
			name:         "update changing nothing records nothing",
			live:         func(t *testing.T) *appsv1.Deployment { return createdBy(t, m, "kubectl-create") },
			change:       func(d *appsv1.Deployment) {},
			manager:      "idle",
			wantManagers: []string{"kubectl-create"},
		},
		{
			name:         "main resource does not record status",
			live:         func(t *testing.T) *appsv1.Deployment { return createdBy(t, m, "kubectl-create") },
			change:       func(d *appsv1.Deployment) { d.Status.Replicas = 3 },
			manager:      "sneaky",
			wantManagers: []string{"kubectl-create"},
		},
		{
			name:        "status subresource records status only",
			live:        func(t *testing.T) *appsv1.Deployment { return createdBy(t, m, "kubectl-create") },
			change:      func(d *appsv1.Deployment) { d.Status.Replicas = 3; d.Spec.Paused = true },
			manager:     "kube-controller-manager",
			subresource: "status",
			wantOwned: map[string][][]string{
				"kube-controller-manager": {{"f:status", "f:replicas"}},
			},
			wantNotOwned: map[string][][]string{
				"kube-controller-manager": {{"f:spec", "f:paused"}},
			},
			wantManagers: []string{"kube-controller-manager", "kubectl-create"},
		},
		{
			// Kubernetes documents this as the way to strip managedFields:
			// the object then counts as untracked until its next apply.
			name: "client strips managedFields with an empty list",
			live: func(t *testing.T) *appsv1.Deployment { return createdBy(t, m, "kubectl-create") },
			change: func(d *appsv1.Deployment) {
				d.ManagedFields = []metav1.ManagedFieldsEntry{}
				d.Labels["new"] = "x"
			},
			manager: "stripper",
		},
		{
			name: "existing object without managedFields is not tracked",
			live: func(t *testing.T) *appsv1.Deployment {
				d := testDeployment(3)
				d.ManagedFields = nil
				return d
			},
			change:  func(d *appsv1.Deployment) { d.Spec.Paused = true },
			manager: "legacy",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var live runtime.Object
			newObj := testDeployment(3)
			var before runtime.Object
			if tt.live != nil {
				l := tt.live(t)
				l.UID = "uid-1"
				live, before = l, l.DeepCopy()
				newObj = l.DeepCopy()
				tt.change(newObj)
			}
			out, err := m.UpdateManagedFields(live, newObj, deploymentGVK, tt.manager, tt.subresource)
			if err != nil {
				t.Fatal(err)
			}
			if live != nil && !reflect.DeepEqual(live, before) {
				t.Error("live modified")
			}
			got := out.(*appsv1.Deployment)
			var managers []string
			for _, e := range got.ManagedFields {
				managers = append(managers, e.Manager)
				if e.Operation != metav1.ManagedFieldsOperationUpdate || e.APIVersion != "apps/v1" || e.FieldsType != "FieldsV1" || e.Time == nil {
					t.Errorf("entry %+v: want operation Update, apps/v1, FieldsV1 and a time", e)
				}
			}
			sort.Strings(managers)
			if !reflect.DeepEqual(managers, tt.wantManagers) {
				t.Errorf("managers = %v, want %v", managers, tt.wantManagers)
			}
			for manager, paths := range tt.wantOwned {
				e := entry(got.ManagedFields, manager)
				if e == nil {
					t.Fatalf("no entry for %s", manager)
				}
				if e.Subresource != tt.subresource && manager == tt.manager {
					t.Errorf("%s subresource = %q, want %q", manager, e.Subresource, tt.subresource)
				}
				for _, p := range paths {
					if !owns(t, e, p...) {
						t.Errorf("%s does not own %v: %s", manager, p, e.FieldsV1.Raw)
					}
				}
			}
			for manager, paths := range tt.wantNotOwned {
				e := entry(got.ManagedFields, manager)
				for _, p := range paths {
					if owns(t, e, p...) {
						t.Errorf("%s owns %v: %s", manager, p, e.FieldsV1.Raw)
					}
				}
			}
		})
	}
}

func TestUpdateManagedFieldsUnknownKind(t *testing.T) {
	m := newTestManager()
	newObj := testDeployment(1)
	newObj.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "client"}}
	gvk := schema.GroupVersionKind{Group: "example.com", Version: "v1", Kind: "Nope"}
	out, err := m.UpdateManagedFields(nil, newObj, gvk, "m", "")
	if err == nil {
		t.Fatal("err = nil, want an error for an unregistered kind")
	}
	if got := out.(*appsv1.Deployment).ManagedFields; got != nil {
		t.Errorf("managedFields = %+v, want live's (none)", got)
	}
}

// hpaV1ToV2 converts the fields the test uses; a real converter does more.
func hpaV1ToV2(in runtime.Object, target schema.GroupVersion) (runtime.Object, error) {
	switch h := in.(type) {
	case *autoscalingv1.HorizontalPodAutoscaler:
		out := &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: h.ObjectMeta}
		out.Spec.MinReplicas, out.Spec.MaxReplicas = h.Spec.MinReplicas, h.Spec.MaxReplicas
		return out, nil
	case *autoscalingv2.HorizontalPodAutoscaler:
		out := &autoscalingv1.HorizontalPodAutoscaler{ObjectMeta: h.ObjectMeta}
		out.Spec.MinReplicas, out.Spec.MaxReplicas = h.Spec.MinReplicas, h.Spec.MaxReplicas
		return out, nil
	}
	return nil, runtime.NewNotRegisteredErrForType("test", reflect.TypeOf(in))
}

func TestUpdateManagedFieldsOtherVersionEntries(t *testing.T) {
	gvk := autoscalingv2.SchemeGroupVersion.WithKind("HorizontalPodAutoscaler")
	tests := []struct {
		name        string
		opts        []Option
		wantV1Entry bool
	}{
		{name: "without converter the entry is dropped", wantV1Entry: false},
		{name: "with converter the entry is kept", opts: []Option{WithConverter(hpaV1ToV2)}, wantV1Entry: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewManager(scheme.Scheme, tt.opts...)
			live := &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{
				Name: "h", Namespace: "default", UID: "u",
				ManagedFields: []metav1.ManagedFieldsEntry{{
					Manager: "old-client", Operation: metav1.ManagedFieldsOperationUpdate,
					APIVersion: "autoscaling/v1", FieldsType: "FieldsV1",
					FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:spec":{"f:maxReplicas":{}}}`)},
				}},
			}}
			live.Spec.MaxReplicas = 5
			newObj := live.DeepCopy()
			min := int32(2)
			newObj.Spec.MinReplicas = &min
			out, err := m.UpdateManagedFields(live, newObj, gvk, "new-client", "")
			if err != nil {
				t.Fatal(err)
			}
			got := out.(*autoscalingv2.HorizontalPodAutoscaler).ManagedFields
			if e := entry(got, "new-client"); !owns(t, e, "f:spec", "f:minReplicas") {
				t.Errorf("new-client does not own spec.minReplicas: %+v", got)
			}
			if has := entry(got, "old-client") != nil; has != tt.wantV1Entry {
				t.Errorf("old-client entry present = %v, want %v: %+v", has, tt.wantV1Entry, got)
			}
		})
	}
}

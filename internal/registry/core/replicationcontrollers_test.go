package core

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/skiff-io/skiff/internal/registry"
)

var (
	_ registry.StatusStrategy  = rcStrategy{}
	_ registry.TableConvertor  = rcStrategy{}
	_ registry.FieldSelectable = rcStrategy{}
	_ registry.TableConvertor  = podTemplateStrategy{}
)

// rcTest returns a replication controller as a client would send it.
func rcTest(mutate func(rc *corev1.ReplicationController)) *corev1.ReplicationController {
	rc := &corev1.ReplicationController{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: corev1.ReplicationControllerSpec{Template: &corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "nginx:1.25"}}},
		}},
	}
	if mutate != nil {
		mutate(rc)
	}
	return rc
}

func TestReplicationControllersResource(t *testing.T) {
	r := ReplicationControllers()
	if r.Kind != "ReplicationController" || r.Resource != "replicationcontrollers" || !r.Namespaced ||
		len(r.ShortNames) != 1 || r.ShortNames[0] != "rc" || len(r.Categories) != 1 || r.Categories[0] != "all" {
		t.Errorf("unexpected resource %+v", r)
	}
	if !r.HasSubresource("status") || !r.HasSubresource("scale") || r.Scale == nil {
		t.Errorf("missing status or scale subresource")
	}
}

func TestReplicationControllerDefault(t *testing.T) {
	rc := rcTest(nil)
	s := ReplicationControllers().Strategy
	s.Default(rc)
	if rc.Spec.Replicas == nil || *rc.Spec.Replicas != 1 {
		t.Errorf("replicas = %v, want 1", rc.Spec.Replicas)
	}
	if rc.Spec.Selector["app"] != "web" || rc.Labels["app"] != "web" {
		t.Errorf("selector %v labels %v, want the template labels", rc.Spec.Selector, rc.Labels)
	}
	rc.Spec.Selector["extra"] = "x"
	if _, aliased := rc.Spec.Template.Labels["extra"]; aliased {
		t.Errorf("selector aliases the template labels")
	}
	if rc.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyAlways || rc.Spec.Template.Spec.Containers[0].ImagePullPolicy != corev1.PullIfNotPresent {
		t.Errorf("template not defaulted")
	}
	if rc.Spec.Template.Spec.EnableServiceLinks != nil {
		t.Errorf("templates must not get pod-only defaults")
	}

	kept := rcTest(func(rc *corev1.ReplicationController) {
		rc.Labels = map[string]string{"team": "a"}
		rc.Spec.Selector = map[string]string{"app": "web"}
		zero := int32(0)
		rc.Spec.Replicas = &zero
	})
	s.Default(kept)
	if kept.Labels["team"] != "a" || len(kept.Labels) != 1 || *kept.Spec.Replicas != 0 {
		t.Errorf("explicit values overwritten: %+v", kept)
	}
}

func TestReplicationControllerValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(rc *corev1.ReplicationController)
		want   []string
	}{
		{"valid", nil, nil},
		{"selector does not match", func(rc *corev1.ReplicationController) { rc.Spec.Selector = map[string]string{"app": "db"} },
			[]string{"spec.template.metadata.labels: Invalid value: {\"app\":\"web\"}: `selector` does not match template `labels`"}},
		{"restartPolicy must be Always", func(rc *corev1.ReplicationController) {
			rc.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyOnFailure
		},
			[]string{`spec.template.spec.restartPolicy: Unsupported value: "OnFailure": supported values: "Always"`}},
		{"negative replicas", func(rc *corev1.ReplicationController) { n := int32(-1); rc.Spec.Replicas = &n },
			[]string{"spec.replicas: Invalid value: -1: must be greater than or equal to 0"}},
		{"negative minReadySeconds", func(rc *corev1.ReplicationController) { rc.Spec.MinReadySeconds = -1 },
			[]string{"spec.minReadySeconds: Invalid value: -1: must be greater than or equal to 0"}},
		{"no template", func(rc *corev1.ReplicationController) {
			rc.Spec.Template = nil
			rc.Spec.Selector = map[string]string{"app": "web"}
		}, []string{"spec.template: Required value"}},
		{"no selector and no template labels", func(rc *corev1.ReplicationController) { rc.Spec.Template.Labels = nil },
			[]string{"spec.selector: Required value"}},
		{"activeDeadlineSeconds", func(rc *corev1.ReplicationController) {
			d := int64(10)
			rc.Spec.Template.Spec.ActiveDeadlineSeconds = &d
		},
			[]string{"spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in ReplicationController is not Supported"}},
		{"template spec errors", func(rc *corev1.ReplicationController) { rc.Spec.Template.Spec.Containers[0].Image = "" },
			[]string{"spec.template.spec.containers[0].image: Required value"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := rcTest(tt.mutate)
			s := ReplicationControllers().Strategy
			s.Default(rc)
			s.PrepareForCreate(rc)
			rcCheckErrors(t, s.Validate(rc), tt.want)
			rcCheckErrors(t, s.ValidateUpdate(rc, rcTest(nil)), tt.want)
		})
	}
}

func rcCheckErrors(t *testing.T, errs field.ErrorList, want []string) {
	t.Helper()
	if len(errs) != len(want) {
		t.Errorf("got %v, want %v", errs, want)
		return
	}
	for i := range want {
		if errs[i].Error() != want[i] {
			t.Errorf("error %d = %q, want %q", i, errs[i].Error(), want[i])
		}
	}
}

func TestReplicationControllerStatus(t *testing.T) {
	s := ReplicationControllers().Strategy
	ss := s.(registry.StatusStrategy)
	old := rcTest(nil)
	s.Default(old)
	old.Status = corev1.ReplicationControllerStatus{Replicas: 2}

	upd := old.DeepCopy()
	upd.Status.Replicas = 5
	upd.Spec.Template.Spec.Containers[0].Image = "nginx:2"
	s.PrepareForUpdate(upd, old)
	if upd.Status.Replicas != 2 {
		t.Errorf("status changed through the main resource")
	}

	st := old.DeepCopy()
	st.Spec.MinReadySeconds = 9
	st.Status = corev1.ReplicationControllerStatus{Replicas: 3, ReadyReplicas: 4, AvailableReplicas: 1}
	ss.PrepareForStatusUpdate(st, old)
	if st.Spec.MinReadySeconds != 0 {
		t.Errorf("spec changed through status")
	}
	rcCheckErrors(t, ss.ValidateStatusUpdate(st, old), []string{"status.readyReplicas: Invalid value: 4: cannot be greater than status.replicas"})

	st.Status = corev1.ReplicationControllerStatus{Replicas: 3, ReadyReplicas: 1, AvailableReplicas: 2, ObservedGeneration: -1}
	rcCheckErrors(t, ss.ValidateStatusUpdate(st, old), []string{
		"status.observedGeneration: Invalid value: -1: must be greater than or equal to 0",
		"status.availableReplicas: Invalid value: 2: cannot be greater than readyReplicas"})

	s.PrepareForCreate(st)
	if st.Status.Replicas != 0 {
		t.Errorf("status not cleared on create")
	}
}

func TestReplicationControllerScale(t *testing.T) {
	r := ReplicationControllers()
	rc := rcTest(nil)
	r.Strategy.Default(rc)
	rc.Status.Replicas = 1
	r.Scale.SetReplicas(rc, 4)
	spec, status, sel := r.Scale.Get(rc)
	if spec != 4 || status != 1 || sel != "app=web" {
		t.Errorf("Get = %d, %d, %q", spec, status, sel)
	}
}

func TestReplicationControllerTable(t *testing.T) {
	s := ReplicationControllers().Strategy.(registry.TableConvertor)
	cols := s.TableColumns()
	wantCols := []string{"Name", "Desired", "Current", "Ready", "Age", "Containers", "Images", "Selector"}
	if len(cols) != len(wantCols) {
		t.Fatalf("columns %+v", cols)
	}
	for i, c := range cols {
		wide := i >= 5
		if c.Name != wantCols[i] || (c.Priority == 1) != wide || c.Description == "" {
			t.Errorf("column %d = %+v", i, c)
		}
	}
	if cols[1].Type != "integer" {
		t.Errorf("Desired type %q", cols[1].Type)
	}
	rc := rcTest(func(rc *corev1.ReplicationController) {
		rc.Spec.Template.Spec.Containers = append(rc.Spec.Template.Spec.Containers, corev1.Container{Name: "side", Image: "envoy"})
	})
	ReplicationControllers().Strategy.Default(rc)
	rc.Status = corev1.ReplicationControllerStatus{Replicas: 1, ReadyReplicas: 1}
	row := s.TableRow(rc)
	want := []interface{}{"web", int64(1), int64(1), int64(1), "<unknown>", "app,side", "nginx:1.25,envoy", "app=web"}
	for i := range want {
		if row[i] != want[i] {
			t.Errorf("cell %d = %#v, want %#v", i, row[i], want[i])
		}
	}
	if f := ReplicationControllers().Strategy.(registry.FieldSelectable).SelectableFields(rc); f["status.replicas"] != "1" {
		t.Errorf("fields = %v", f)
	}
}

package apps

import (
	"reflect"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func validReplicaSet() *appsv1.ReplicaSet {
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web-5d4f", Namespace: "default"},
		Spec:       appsv1.ReplicaSetSpec{Selector: appSelector(), Template: podTemplate(appLabels())},
	}
	replicaSetStrategy{}.Default(rs)
	return rs
}

func TestReplicaSetDefault(t *testing.T) {
	cases := []struct {
		name string
		in   *int32
		want int32
	}{{"unset", nil, 1}, {"zero kept", ptrTo[int32](0), 0}, {"three kept", ptrTo[int32](3), 3}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rs := &appsv1.ReplicaSet{Spec: appsv1.ReplicaSetSpec{Replicas: tc.in}}
			replicaSetStrategy{}.Default(rs)
			if rs.Spec.Replicas == nil || *rs.Spec.Replicas != tc.want {
				t.Fatalf("replicas %v, want %d", rs.Spec.Replicas, tc.want)
			}
		})
	}
}

func TestReplicaSetValidate(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*appsv1.ReplicaSet)
		want   []wantErr
	}{
		{"valid", func(*appsv1.ReplicaSet) {}, nil},
		{"no selector", func(rs *appsv1.ReplicaSet) { rs.Spec.Selector = nil }, []wantErr{
			{"spec.selector", field.ErrorTypeRequired, ""},
			{"spec.template.metadata.labels", field.ErrorTypeInvalid, "does not match"},
		}},
		{"empty selector says deployment", func(rs *appsv1.ReplicaSet) { rs.Spec.Selector = &metav1.LabelSelector{} }, []wantErr{
			{"spec.selector", field.ErrorTypeInvalid, "empty selector is invalid for deployment"},
		}},
		{"negative replicas and minReadySeconds", func(rs *appsv1.ReplicaSet) {
			rs.Spec.Replicas = ptrTo[int32](-3)
			rs.Spec.MinReadySeconds = -1
		}, []wantErr{
			{"spec.replicas", field.ErrorTypeInvalid, "must be greater than or equal to 0"},
			{"spec.minReadySeconds", field.ErrorTypeInvalid, "must be greater than or equal to 0"},
		}},
		{"never restart", func(rs *appsv1.ReplicaSet) { rs.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyNever }, []wantErr{
			{"spec.template.spec.restartPolicy", field.ErrorTypeNotSupported, `supported values: "Always"`},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rs := validReplicaSet()
			tc.mutate(rs)
			checkErrs(t, replicaSetStrategy{}.Validate(rs), tc.want)
		})
	}
}

func TestReplicaSetUpdateAndStatus(t *testing.T) {
	s := replicaSetStrategy{}
	old := validReplicaSet()
	old.Generation = 2
	old.Status = appsv1.ReplicaSetStatus{Replicas: 1, ObservedGeneration: 2}

	sel := old.DeepCopy()
	sel.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web", "v": "2"}}
	sel.Spec.Template.Labels["v"] = "2"
	checkErrs(t, s.ValidateUpdate(sel, old), []wantErr{{"spec.selector", field.ErrorTypeInvalid, "field is immutable"}})

	upd := old.DeepCopy()
	upd.Spec.Replicas = ptrTo[int32](3)
	upd.Status.Replicas = 8
	s.PrepareForUpdate(upd, old)
	if upd.Generation != 3 || upd.Status.Replicas != 1 {
		t.Fatalf("update: generation %d status %+v", upd.Generation, upd.Status)
	}

	st := old.DeepCopy()
	st.Spec.Replicas = ptrTo[int32](9)
	st.Status = appsv1.ReplicaSetStatus{Replicas: 2, FullyLabeledReplicas: 3, ReadyReplicas: 2, AvailableReplicas: 2}
	s.PrepareForStatusUpdate(st, old)
	if *st.Spec.Replicas != *old.Spec.Replicas {
		t.Fatalf("status update changed spec")
	}
	checkErrs(t, s.ValidateStatusUpdate(st, old), []wantErr{
		{"status.fullyLabeledReplicas", field.ErrorTypeInvalid, "cannot be greater than status.replicas"},
	})
}

func TestReplicaSetFieldsAndTable(t *testing.T) {
	s := replicaSetStrategy{now: fixedClock}
	rs := validReplicaSet()
	rs.Status.Replicas = 2
	if got := s.SelectableFields(rs); !reflect.DeepEqual(got, fields.Set{"status.replicas": "2"}) {
		t.Fatalf("fields %v", got)
	}
	var heads []string
	for _, c := range s.TableColumns() {
		heads = append(heads, c.Name)
	}
	if !reflect.DeepEqual(heads, []string{"Name", "Desired", "Current", "Ready", "Age", "Containers", "Images", "Selector"}) {
		t.Fatalf("columns %v", heads)
	}
	rs.Status.ReadyReplicas = 1
	rs.CreationTimestamp = metav1.NewTime(fixedNow.Add(-26 * time.Hour))
	want := []interface{}{"web-5d4f", int64(1), int64(2), int64(1), "26h", "web", "nginx:1.27", "app=web"}
	if got := s.TableRow(rs); !reflect.DeepEqual(got, want) {
		t.Fatalf("row %#v", got)
	}
}

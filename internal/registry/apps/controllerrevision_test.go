package apps

import (
	"reflect"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func TestControllerRevisionValidate(t *testing.T) {
	cases := []struct {
		name string
		cr   appsv1.ControllerRevision
		want []wantErr
	}{
		{"valid", appsv1.ControllerRevision{Data: runtime.RawExtension{Raw: []byte(`{"spec":{}}`)}, Revision: 1}, nil},
		{"no data, negative revision", appsv1.ControllerRevision{Revision: -1}, []wantErr{
			{"data", field.ErrorTypeRequired, "data is mandatory"},
			{"revision", field.ErrorTypeInvalid, "must be greater than or equal to 0"},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			checkErrs(t, controllerRevisionStrategy{}.Validate(&tc.cr), tc.want)
		})
	}
}

func TestControllerRevisionDataImmutable(t *testing.T) {
	old := &appsv1.ControllerRevision{Data: runtime.RawExtension{Raw: []byte(`{"a":1,"b":[2]}`)}, Revision: 1}
	cases := []struct {
		name string
		raw  string
		want []wantErr
	}{
		{"same bytes", `{"a":1,"b":[2]}`, nil},
		{"same meaning", "{ \"b\": [2],\n \"a\": 1 }", nil},
		{"changed", `{"a":2,"b":[2]}`, []wantErr{{"data", field.ErrorTypeInvalid, "field is immutable"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cr := old.DeepCopy()
			cr.Data.Raw = []byte(tc.raw)
			cr.Revision = 2 // Kubernetes only guards data
			checkErrs(t, controllerRevisionStrategy{}.ValidateUpdate(cr, old), tc.want)
		})
	}
}

func TestControllerRevisionTable(t *testing.T) {
	s := controllerRevisionStrategy{now: fixedClock}
	var heads []string
	for _, c := range s.TableColumns() {
		heads = append(heads, c.Name)
	}
	if !reflect.DeepEqual(heads, []string{"Name", "Controller", "Revision", "Age"}) {
		t.Fatalf("columns %v", heads)
	}
	yes := true
	cr := &appsv1.ControllerRevision{
		ObjectMeta: metav1.ObjectMeta{
			Name:              "agent-6d5f",
			CreationTimestamp: metav1.NewTime(fixedNow.Add(-3 * time.Hour)),
			OwnerReferences:   []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "DaemonSet", Name: "agent", Controller: &yes}},
		},
		Revision: 2,
	}
	if got, want := s.TableRow(cr), []interface{}{"agent-6d5f", "daemonset.apps/agent", int64(2), "3h"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("row %#v", got)
	}
	cr.OwnerReferences = nil
	if got := s.TableRow(cr)[1]; got != "<none>" {
		t.Fatalf("no controller: %v", got)
	}
}

package core

import (
	"reflect"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func eventTest(mut func(*corev1.Event)) *corev1.Event {
	ev := &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: "web-1.17a", Namespace: "default"},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "default", Name: "web-1", APIVersion: "v1"},
		Reason:         "Started",
		Message:        "Started container web ",
		Type:           corev1.EventTypeNormal,
		Source:         corev1.EventSource{Component: "kubelet", Host: "node-1"},
	}
	if mut != nil {
		mut(ev)
	}
	return ev
}

func TestEventsResource(t *testing.T) {
	r := Events()
	if r.Resource != "events" || !r.Namespaced || r.ShortNames[0] != "ev" {
		t.Errorf("unexpected resource %+v", r)
	}
	if len(r.ValidateName("Pod.With_Odd.Name", false)) != 0 || len(r.ValidateName("a/b", false)) == 0 {
		t.Error("event names need only be path segments")
	}
}

func TestEventValidate(t *testing.T) {
	now := metav1.NewMicroTime(time.Now())
	cases := []struct {
		name string
		mut  func(*corev1.Event)
		want []string
	}{
		{"valid", nil, nil},
		{"namespace mismatch", func(e *corev1.Event) { e.InvolvedObject.Namespace = "other" },
			[]string{"FieldValueInvalid involvedObject.namespace"}},
		{"node event in default", func(e *corev1.Event) {
			e.InvolvedObject = corev1.ObjectReference{Kind: "Node", Name: "node-1", APIVersion: "v1"}
		}, nil},
		{"node event with namespace", func(e *corev1.Event) {
			e.InvolvedObject = corev1.ObjectReference{Kind: "Node", Name: "node-1", APIVersion: "v1", Namespace: "default"}
		}, []string{"FieldValueInvalid involvedObject.namespace"}},
		{"pod event without namespace", func(e *corev1.Event) {
			e.Namespace = ""
			e.InvolvedObject.Namespace = ""
		}, []string{"FieldValueInvalid namespace", "FieldValueRequired involvedObject.namespace"}},
		{"cluster object in other namespace", func(e *corev1.Event) {
			e.Namespace = "kube-public"
			e.InvolvedObject = corev1.ObjectReference{Kind: "Widget", Name: "w", APIVersion: "example.com/v1"}
		}, []string{"FieldValueInvalid involvedObject.namespace"}},
		{"new style complete", func(e *corev1.Event) {
			e.EventTime = now
			e.ReportingController = "skiff.io/agent"
			e.ReportingInstance = "agent-node-1"
			e.Action = "Start"
		}, nil},
		{"new style missing fields", func(e *corev1.Event) {
			e.EventTime = now
			e.Reason = strings.Repeat("r", 129)
		}, []string{"FieldValueInvalid reason", "FieldValueRequired action", "FieldValueRequired reportingComponent", "FieldValueRequired reportingInstance",
			// Like Kubernetes, an empty component is also reported as an invalid qualified name.
			"FieldValueInvalid reportingComponent", "FieldValueInvalid reportingComponent"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := eventStrategy{}
			ev := eventTest(c.mut)
			s.Default(ev)
			s.PrepareForCreate(ev)
			commonExpectErrs(t, s.Validate(ev), c.want...)
			commonExpectErrs(t, s.ValidateUpdate(ev, eventTest(nil)), c.want...)
		})
	}
}

func TestEventTable(t *testing.T) {
	s := eventStrategy{}
	ago := func(d time.Duration) metav1.Time { return metav1.NewTime(time.Now().Add(-d)) }
	cases := []struct {
		name string
		mut  func(*corev1.Event)
		want []interface{}
	}{
		{"old style", func(e *corev1.Event) {
			e.FirstTimestamp, e.LastTimestamp, e.Count = ago(time.Hour), ago(2*time.Minute), 3
			e.InvolvedObject.FieldPath = "spec.containers{web}"
		}, []interface{}{"2m", "Normal", "Started", "pod/web-1", "spec.containers{web}", "kubelet, node-1", "Started container web", "60m", int64(3), "web-1.17a"}},
		{"new style singleton", func(e *corev1.Event) {
			e.EventTime = metav1.NewMicroTime(time.Now().Add(-30 * time.Second))
			e.Source = corev1.EventSource{}
			e.ReportingController = "skiff/scheduler"
			e.InvolvedObject.Name = ""
		}, []interface{}{"30s", "Normal", "Started", "pod", "", "skiff/scheduler", "Started container web", "30s", int64(1), "web-1.17a"}},
		{"series", func(e *corev1.Event) {
			e.EventTime = metav1.NewMicroTime(time.Now().Add(-time.Hour))
			e.Series = &corev1.EventSeries{Count: 7, LastObservedTime: metav1.NewMicroTime(time.Now().Add(-5 * time.Second))}
		}, []interface{}{"5s", "Normal", "Started", "pod/web-1", "", "kubelet, node-1", "Started container web", "60m", int64(7), "web-1.17a"}},
		{"no times", nil, []interface{}{"<unknown>", "Normal", "Started", "pod/web-1", "", "kubelet, node-1", "Started container web", "<unknown>", int64(1), "web-1.17a"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			row := s.TableRow(eventTest(c.mut))
			commonCheckTable(t, s, []string{"Last Seen", "Type", "Reason", "Object", "Subobject", "Source", "Message", "First Seen", "Count", "Name"}, row)
			if !reflect.DeepEqual(row, c.want) {
				t.Errorf("row = %#v, want %#v", row, c.want)
			}
		})
	}
	cols := s.TableColumns()
	if cols[9].Format != "name" || cols[9].Priority != 1 || cols[0].Priority != 0 {
		t.Errorf("unexpected name/last seen columns %+v %+v", cols[9], cols[0])
	}
}

func TestEventFields(t *testing.T) {
	ev := eventTest(func(e *corev1.Event) { e.ReportingController = "ctrl"; e.InvolvedObject.UID = "u1" })
	f := eventStrategy{}.SelectableFields(ev)
	want := map[string]string{
		"involvedObject.kind": "Pod", "involvedObject.name": "web-1", "involvedObject.namespace": "default",
		"involvedObject.uid": "u1", "involvedObject.apiVersion": "v1", "reason": "Started",
		"reportingComponent": "ctrl", "source": "kubelet", "type": "Normal",
	}
	for k, v := range want {
		if f[k] != v {
			t.Errorf("field %s = %q, want %q", k, f[k], v)
		}
	}
	if _, ok := f["involvedObject.fieldPath"]; !ok {
		t.Error("involvedObject.fieldPath missing")
	}
}

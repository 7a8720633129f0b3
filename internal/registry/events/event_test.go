package events

import (
	"reflect"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
)

// validEvent is what client-go's events.k8s.io recorder writes.
func validEvent() *eventsv1.Event {
	return &eventsv1.Event{
		ObjectMeta:          metav1.ObjectMeta{Name: "web.17a", Namespace: "default"},
		EventTime:           metav1.NewMicroTime(fixedNow.Add(-time.Minute)),
		ReportingController: "example.com/controller",
		ReportingInstance:   "controller-0",
		Action:              "Scaling",
		Reason:              "ScaledUp",
		Regarding:           corev1.ObjectReference{Kind: "Deployment", Namespace: "default", Name: "web", APIVersion: "apps/v1", UID: "u-1", FieldPath: "spec"},
		Note:                "scaled to 3",
		Type:                "Normal",
	}
}

func TestEventResource(t *testing.T) {
	r := Events()
	if r.Group != "events.k8s.io" || r.Version != "v1" || r.Resource != "events" || r.Kind != "Event" || !r.Namespaced {
		t.Errorf("unexpected identity %+v", r)
	}
	if _, ok := r.New().(*eventsv1.Event); !ok {
		t.Errorf("New returned %T", r.New())
	}
	if _, ok := r.NewList().(*eventsv1.EventList); !ok {
		t.Errorf("NewList returned %T", r.NewList())
	}
}

func TestEventValidate(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*eventsv1.Event)
		want   []string
		detail string
	}{
		{name: "valid", mutate: func(*eventsv1.Event) {}},
		{name: "warning with series", mutate: func(e *eventsv1.Event) {
			e.Type = "Warning"
			e.Series = &eventsv1.EventSeries{Count: 2, LastObservedTime: metav1.NewMicroTime(fixedNow)}
		}},
		{name: "cluster-scoped object in default namespace", mutate: func(e *eventsv1.Event) {
			e.Regarding = corev1.ObjectReference{Kind: "Node", Name: "n1"}
		}},
		{name: "cluster-scoped object elsewhere", mutate: func(e *eventsv1.Event) {
			e.Regarding = corev1.ObjectReference{Kind: "Node", Name: "n1"}
			e.Namespace = "apps"
		}, want: []string{invalid + "involvedObject.namespace"}, detail: "does not match event.namespace"},
		{name: "eventTime missing", mutate: func(e *eventsv1.Event) { e.EventTime = metav1.MicroTime{} },
			want: []string{required + "eventTime"}},
		{name: "bad type", mutate: func(e *eventsv1.Event) { e.Type = "Info" },
			want: []string{invalid + "type"}, detail: "has invalid value: Info"},
		{name: "required fields", mutate: func(e *eventsv1.Event) {
			e.ReportingController, e.ReportingInstance, e.Action, e.Reason = "", "", "", ""
		}, want: []string{required + "reportingController", invalid + "reportingController", invalid + "reportingController", required + "reportingInstance", required + "action", required + "reason"}},
		{name: "bad controller name", mutate: func(e *eventsv1.Event) { e.ReportingController = "a/b/c" },
			want: []string{invalid + "reportingController"}},
		{name: "too long", mutate: func(e *eventsv1.Event) {
			e.Reason = strings.Repeat("r", 129)
			e.Action = strings.Repeat("a", 129)
			e.ReportingInstance = strings.Repeat("i", 129)
			e.Note = strings.Repeat("n", 1025)
		}, want: []string{invalid + "reason", invalid + "action", invalid + "reportingInstance", invalid + "message"}, detail: "can have at most 128 characters"},
		{name: "deprecated fields set", mutate: func(e *eventsv1.Event) {
			e.DeprecatedFirstTimestamp = metav1.NewTime(fixedNow)
			e.DeprecatedLastTimestamp = metav1.NewTime(fixedNow)
			e.DeprecatedCount = 2
			e.DeprecatedSource = corev1.EventSource{Component: "kubelet"}
		}, want: []string{invalid + "firstTimestamp", invalid + "lastTimestamp", invalid + "count", invalid + "source"}, detail: "needs to be unset"},
		{name: "bad series", mutate: func(e *eventsv1.Event) { e.Series = &eventsv1.EventSeries{Count: 1} },
			want: []string{invalid + "series.count", required + "series.lastObservedTime"}},
	}
	s := eventStrategy{now: fixedClock}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ev := validEvent()
			tc.mutate(ev)
			s.Default(ev)
			s.PrepareForCreate(ev)
			errs := s.Validate(ev)
			checkErrs(t, errs, tc.want)
			if tc.detail != "" {
				checkDetail(t, errs, wantField(tc.want[0]), tc.detail)
			}
			// The stored form is judged the same way.
			checkErrs(t, s.Validate(ToCore(ev)), tc.want)
		})
	}
}

func TestEventValidateUpdate(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*eventsv1.Event)
		want   []string
	}{
		{name: "series added", mutate: func(e *eventsv1.Event) {
			e.Series = &eventsv1.EventSeries{Count: 2, LastObservedTime: metav1.NewMicroTime(fixedNow)}
		}},
		{name: "bad series added", mutate: func(e *eventsv1.Event) { e.Series = &eventsv1.EventSeries{Count: 1} },
			want: []string{invalid + "series.count", required + "series.lastObservedTime"}},
		{name: "labels", mutate: func(e *eventsv1.Event) { e.Labels = map[string]string{"a": "b"} }},
		{name: "sub-microsecond eventTime change", mutate: func(e *eventsv1.Event) {
			e.EventTime = metav1.NewMicroTime(e.EventTime.Add(100 * time.Nanosecond))
		}},
		{name: "eventTime change", mutate: func(e *eventsv1.Event) { e.EventTime = metav1.NewMicroTime(fixedNow) },
			want: []string{invalid + "eventTime"}},
		{name: "immutable fields", mutate: func(e *eventsv1.Event) {
			e.Note = "other"
			e.Regarding.Name = "other"
			e.Reason = "Other"
			e.Type = "Warning"
			e.Action = "Other"
			e.ReportingInstance = "other"
			e.ReportingController = "example.com/other"
			e.Related = &corev1.ObjectReference{Name: "x"}
		}, want: []string{invalid + "message", invalid + "involvedObject", invalid + "reason", invalid + "type", invalid + "action",
			invalid + "reportingInstance", invalid + "reportingController", invalid + "related"}},
	}
	s := eventStrategy{now: fixedClock}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			old := validEvent()
			cur := old.DeepCopy()
			tc.mutate(cur)
			s.PrepareForUpdate(cur, old)
			checkErrs(t, s.ValidateUpdate(cur, old), tc.want)
			checkErrs(t, s.ValidateUpdate(ToCore(cur), ToCore(old)), tc.want)
		})
	}
}

func TestEventSelectableFields(t *testing.T) {
	want := fields.Set{
		"reason":                    "ScaledUp",
		"type":                      "Normal",
		"reportingController":       "example.com/controller",
		"regarding.kind":            "Deployment",
		"regarding.namespace":       "default",
		"regarding.name":            "web",
		"regarding.uid":             "u-1",
		"regarding.apiVersion":      "apps/v1",
		"regarding.resourceVersion": "",
		"regarding.fieldPath":       "spec",
	}
	s := eventStrategy{now: fixedClock}
	ev := validEvent()
	if got := s.SelectableFields(ev); !reflect.DeepEqual(got, want) {
		t.Errorf("fields %v, want %v", got, want)
	}
	if got := s.SelectableFields(ToCore(ev)); !reflect.DeepEqual(got, want) {
		t.Errorf("fields of stored form %v, want %v", got, want)
	}
	if s.SelectableFields(&corev1.Pod{}) != nil {
		t.Errorf("fields of a pod")
	}
}

func TestEventTable(t *testing.T) {
	s := eventStrategy{now: fixedClock}
	var names, wide []string
	for _, c := range s.TableColumns() {
		names = append(names, c.Name)
		if c.Priority == 1 {
			wide = append(wide, c.Name)
		}
	}
	if !reflect.DeepEqual(names, []string{"Last Seen", "Type", "Reason", "Object", "Subobject", "Source", "Message", "First Seen", "Count", "Name"}) ||
		!reflect.DeepEqual(wide, []string{"Subobject", "Source", "First Seen", "Count", "Name"}) {
		t.Fatalf("columns %v wide %v", names, wide)
	}

	series := validEvent()
	series.Series = &eventsv1.EventSeries{Count: 5, LastObservedTime: metav1.NewMicroTime(fixedNow.Add(-10 * time.Second))}
	legacy := &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: "old.1", Namespace: "default"},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "p"},
		Reason:         "Pulled", Message: " pulled image \n", Type: "Normal",
		Source:         corev1.EventSource{Component: "kubelet", Host: "node-1"},
		FirstTimestamp: metav1.NewTime(fixedNow.Add(-5 * time.Minute)),
		LastTimestamp:  metav1.NewTime(fixedNow.Add(-2 * time.Minute)),
		Count:          4,
	}
	rows := []struct {
		name string
		row  []interface{}
		want []interface{}
	}{
		{"single new event", s.TableRow(validEvent()),
			[]interface{}{"60s", "Normal", "ScaledUp", "deployment/web", "spec", "example.com/controller, controller-0", "scaled to 3", "60s", int64(1), "web.17a"}},
		{"series", s.TableRow(series),
			[]interface{}{"10s", "Normal", "ScaledUp", "deployment/web", "spec", "example.com/controller, controller-0", "scaled to 3", "60s", int64(5), "web.17a"}},
		{"legacy core event", s.TableRow(legacy),
			[]interface{}{"2m", "Normal", "Pulled", "pod/p", "", "kubelet, node-1", "pulled image", "5m", int64(4), "old.1"}},
	}
	for _, r := range rows {
		if !reflect.DeepEqual(r.row, r.want) {
			t.Errorf("%s: row %#v, want %#v", r.name, r.row, r.want)
		}
	}
	legacy.InvolvedObject.Name = ""
	legacy.Source.Host = ""
	legacy.LastTimestamp = metav1.Time{}
	row := s.TableRow(legacy)
	if row[0] != "5m" || row[3] != "pod" || row[5] != "kubelet" {
		t.Errorf("fallbacks: %v", row)
	}
}

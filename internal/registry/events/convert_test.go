package events

import (
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/randfill"
)

// filler fills every exported field, times included, deterministically.
func filler(seed int64) *randfill.Filler {
	return randfill.NewWithSeed(seed).NilChance(0.2).NumElements(0, 3).Funcs(
		func(t *metav1.Time, c randfill.Continue) { *t = metav1.Unix(c.Int63n(4e9), 0) },
		func(t *metav1.MicroTime, c randfill.Continue) {
			*t = metav1.NewMicroTime(time.Unix(c.Int63n(4e9), c.Int63n(1e9)).Truncate(time.Microsecond))
		},
		func(r *runtime.RawExtension, c randfill.Continue) { *r = runtime.RawExtension{} },
	)
}

func TestConversionRoundTripsAreLossless(t *testing.T) {
	for seed := int64(0); seed < 200; seed++ {
		var ev eventsv1.Event
		filler(seed).Fill(&ev)
		ev.TypeMeta = eventsTypeMeta()
		orig := ev.DeepCopy()
		back := FromCore(ToCore(&ev))
		if !reflect.DeepEqual(back, orig) {
			t.Fatalf("seed %d: events.k8s.io round trip changed the event\n got %+v\nwant %+v", seed, back, orig)
		}
		if !reflect.DeepEqual(&ev, orig) {
			t.Fatalf("seed %d: ToCore modified its input", seed)
		}

		var core corev1.Event
		filler(seed + 1000).Fill(&core)
		core.TypeMeta = coreTypeMeta()
		corig := core.DeepCopy()
		if cback := ToCore(FromCore(&core)); !reflect.DeepEqual(cback, corig) {
			t.Fatalf("seed %d: core round trip changed the event\n got %+v\nwant %+v", seed, cback, corig)
		}
		if !reflect.DeepEqual(&core, corig) {
			t.Fatalf("seed %d: FromCore modified its input", seed)
		}
	}
}

func TestConversionFieldMapping(t *testing.T) {
	t0 := metav1.Unix(1000, 0)
	t1 := metav1.Unix(2000, 0)
	mt := metav1.NewMicroTime(time.Unix(3000, 5000))
	ev := &eventsv1.Event{
		ObjectMeta:               metav1.ObjectMeta{Name: "e1", Namespace: "ns"},
		EventTime:                mt,
		Series:                   &eventsv1.EventSeries{Count: 3, LastObservedTime: mt},
		ReportingController:      "example.com/ctrl",
		ReportingInstance:        "ctrl-0",
		Action:                   "Scale",
		Reason:                   "Scaled",
		Regarding:                corev1.ObjectReference{Kind: "Deployment", Name: "web", Namespace: "ns", UID: "u1"},
		Related:                  &corev1.ObjectReference{Kind: "ReplicaSet", Name: "web-1"},
		Note:                     "scaled up",
		Type:                     "Normal",
		DeprecatedSource:         corev1.EventSource{Component: "c", Host: "h"},
		DeprecatedFirstTimestamp: t0,
		DeprecatedLastTimestamp:  t1,
		DeprecatedCount:          7,
	}
	want := &corev1.Event{
		TypeMeta:            metav1.TypeMeta{APIVersion: "v1", Kind: "Event"},
		ObjectMeta:          metav1.ObjectMeta{Name: "e1", Namespace: "ns"},
		InvolvedObject:      corev1.ObjectReference{Kind: "Deployment", Name: "web", Namespace: "ns", UID: "u1"},
		Reason:              "Scaled",
		Message:             "scaled up",
		Source:              corev1.EventSource{Component: "c", Host: "h"},
		FirstTimestamp:      t0,
		LastTimestamp:       t1,
		Count:               7,
		Type:                "Normal",
		EventTime:           mt,
		Series:              &corev1.EventSeries{Count: 3, LastObservedTime: mt},
		Action:              "Scale",
		Related:             &corev1.ObjectReference{Kind: "ReplicaSet", Name: "web-1"},
		ReportingController: "example.com/ctrl",
		ReportingInstance:   "ctrl-0",
	}
	got := ToCore(ev)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ToCore\n got %+v\nwant %+v", got, want)
	}
	// The copy must not alias the input.
	got.Related.Name = "changed"
	got.Series.Count = 99
	if ev.Related.Name != "web-1" || ev.Series.Count != 3 {
		t.Errorf("ToCore output aliases its input")
	}
}

func TestConverterFunctions(t *testing.T) {
	r := Events()
	if r.StorageResource == nil || r.StorageResource.Group != "" || r.StorageResource.Resource != "events" || r.Convert == nil {
		t.Fatalf("storage sharing not declared: %+v", r)
	}
	ev := &eventsv1.Event{ObjectMeta: metav1.ObjectMeta{Name: "a"}, Note: "n"}
	stored, err := r.Convert.ToStorage(ev)
	if err != nil {
		t.Fatal(err)
	}
	core, ok := stored.(*corev1.Event)
	if !ok || core.Message != "n" || core.APIVersion != "v1" {
		t.Fatalf("ToStorage gave %#v", stored)
	}
	served, err := r.Convert.FromStorage(core)
	if err != nil {
		t.Fatal(err)
	}
	if e, ok := served.(*eventsv1.Event); !ok || e.Note != "n" || e.APIVersion != "events.k8s.io/v1" || e.Kind != "Event" {
		t.Fatalf("FromStorage gave %#v", served)
	}

	list := &corev1.EventList{ListMeta: metav1.ListMeta{ResourceVersion: "42"}, Items: []corev1.Event{{Message: "x"}, {Message: "y"}}}
	out, err := r.Convert.FromStorage(list)
	if err != nil {
		t.Fatal(err)
	}
	el, ok := out.(*eventsv1.EventList)
	if !ok || el.ResourceVersion != "42" || len(el.Items) != 2 || el.Items[1].Note != "y" || el.Kind != "EventList" {
		t.Fatalf("list conversion gave %#v", out)
	}
	back, err := r.Convert.ToStorage(el)
	if err != nil {
		t.Fatal(err)
	}
	if cl, ok := back.(*corev1.EventList); !ok || len(cl.Items) != 2 || cl.Items[0].Message != "x" {
		t.Fatalf("list back-conversion gave %#v", back)
	}

	if _, err := r.Convert.ToStorage(&corev1.Pod{}); err == nil {
		t.Errorf("converting a pod succeeded")
	}
	if _, err := r.Convert.FromStorage(&corev1.Pod{}); err == nil {
		t.Errorf("converting a pod succeeded")
	}
}

package storage

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
)

func testResource(window int) *Resource {
	s := &Store{cfg: Config{EventWindow: window}}
	return newResource(s, ResourceConfig{Namespaced: true}, "/registry/core/configmaps/")
}

func cm(ns, name string, lbls map[string]string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: lbls}}
}

func TestEventsAfterRing(t *testing.T) {
	tests := []struct {
		name     string
		window   int
		revs     []int64 // revisions recorded, in order
		minRev   int64   // loaded revision
		after    int64
		wantRevs []int64
		wantOK   bool
	}{
		{"empty buffer, current", 4, nil, 10, 10, []int64{}, true},
		{"older than load", 4, nil, 10, 9, nil, false},
		{"all after", 4, []int64{11, 12, 13}, 10, 10, []int64{11, 12, 13}, true},
		{"some after", 4, []int64{11, 12, 13}, 10, 12, []int64{13}, true},
		{"none after", 4, []int64{11, 12, 13}, 10, 13, []int64{}, true},
		{"wrapped ring keeps newest", 3, []int64{11, 12, 13, 14, 15}, 10, 12, []int64{13, 14, 15}, true},
		{"wrapped ring, dropped event needed", 3, []int64{11, 12, 13, 14, 15}, 10, 11, nil, false},
		{"wrapped ring, from newest", 3, []int64{11, 12, 13, 14, 15}, 10, 15, []int64{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := testResource(tt.window)
			r.minRev = tt.minRev
			for _, rev := range tt.revs {
				r.record(&event{typ: watch.Added, obj: cm("ns", "a", nil), rev: rev})
			}
			got, ok := r.eventsAfter(tt.after)
			if ok != tt.wantOK {
				t.Fatalf("ok = %v, want %v", ok, tt.wantOK)
			}
			if !ok {
				return
			}
			var revs []int64
			for _, e := range got {
				revs = append(revs, e.rev)
			}
			if len(revs) != len(tt.wantRevs) {
				t.Fatalf("revisions = %v, want %v", revs, tt.wantRevs)
			}
			for i := range revs {
				if revs[i] != tt.wantRevs[i] {
					t.Fatalf("revisions = %v, want %v", revs, tt.wantRevs)
				}
			}
		})
	}
}

func TestWatcherFilter(t *testing.T) {
	web := map[string]string{"app": "web"}
	db := map[string]string{"app": "db"}
	sel := labels.SelectorFromSet(web)
	tests := []struct {
		name     string
		ns       string
		ev       *event
		wantType watch.EventType // "" = filtered out
	}{
		{"added matching", "", &event{typ: watch.Added, obj: cm("a", "x", web)}, watch.Added},
		{"added not matching", "", &event{typ: watch.Added, obj: cm("a", "x", db)}, ""},
		{"modified staying in", "", &event{typ: watch.Modified, obj: cm("a", "x", web), prev: cm("a", "x", web)}, watch.Modified},
		{"modified entering", "", &event{typ: watch.Modified, obj: cm("a", "x", web), prev: cm("a", "x", db)}, watch.Added},
		{"modified leaving", "", &event{typ: watch.Modified, obj: cm("a", "x", db), prev: cm("a", "x", web)}, watch.Deleted},
		{"modified outside", "", &event{typ: watch.Modified, obj: cm("a", "x", db), prev: cm("a", "x", db)}, ""},
		{"deleted matching", "", &event{typ: watch.Deleted, obj: cm("a", "x", web), prev: cm("a", "x", web)}, watch.Deleted},
		{"deleted not matching", "", &event{typ: watch.Deleted, obj: cm("a", "x", db), prev: cm("a", "x", db)}, ""},
		{"other namespace", "b/", &event{typ: watch.Added, obj: cm("a", "x", web)}, ""},
		{"same namespace", "a/", &event{typ: watch.Added, obj: cm("a", "x", web)}, watch.Added},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &watcher{pred: Predicate{Label: sel}, nsPref: tt.ns}
			got, ok := w.filter(tt.ev)
			if tt.wantType == "" {
				if ok {
					t.Fatalf("event passed as %s, want filtered", got.Type)
				}
				return
			}
			if !ok || got.Type != tt.wantType {
				t.Fatalf("got (%v, %v), want %s", got.Type, ok, tt.wantType)
			}
		})
	}
}

func TestContinueTokenRoundTrip(t *testing.T) {
	tok := encodeContinue(42, "ns/name\x00")
	got, err := decodeContinue(tok)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	if got.RV != 42 || got.Start != "ns/name\x00" {
		t.Fatalf("got %+v", got)
	}
	for _, bad := range []string{"", "!!!", encodeContinue(0, "x")} {
		if _, err := decodeContinue(bad); err == nil {
			t.Errorf("decodeContinue(%q) accepted a bad token", bad)
		}
	}
}

func TestValidateListOptions(t *testing.T) {
	tests := []struct {
		name string
		opts ListOptions
		ok   bool
	}{
		{"defaults", ListOptions{}, true},
		{"exact with rv", ListOptions{ResourceVersion: "5", ResourceVersionMatch: metav1.ResourceVersionMatchExact}, true},
		{"match without rv", ListOptions{ResourceVersionMatch: metav1.ResourceVersionMatchExact}, false},
		{"exact at zero", ListOptions{ResourceVersion: "0", ResourceVersionMatch: metav1.ResourceVersionMatchExact}, false},
		{"unknown match", ListOptions{ResourceVersion: "5", ResourceVersionMatch: "Sometimes"}, false},
		{"match with continue", ListOptions{ResourceVersion: "5", ResourceVersionMatch: metav1.ResourceVersionMatchNotOlderThan, Continue: "x"}, false},
		{"rv with continue", ListOptions{ResourceVersion: "5", Continue: "x"}, false},
		{"negative limit", ListOptions{Limit: -1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := validateListOptions(tt.opts)
			if (err == nil) != tt.ok {
				t.Fatalf("validateListOptions(%+v) = %v, want ok=%v", tt.opts, err, tt.ok)
			}
		})
	}
}

func TestEncodeDoesNotStoreResourceVersion(t *testing.T) {
	obj := cm("a", "x", nil)
	obj.ResourceVersion = "17"
	gvk := corev1.SchemeGroupVersion.WithKind("ConfigMap")
	data, err := encode(obj, gvk)
	if err != nil {
		t.Fatal(err)
	}
	if obj.ResourceVersion != "17" {
		t.Fatalf("encode changed the object's resourceVersion to %q", obj.ResourceVersion)
	}
	back, err := decode(data, 23, func() runtime.Object { return &corev1.ConfigMap{} }, gvk)
	if err != nil {
		t.Fatal(err)
	}
	if got := back.(*corev1.ConfigMap).ResourceVersion; got != "23" {
		t.Fatalf("decoded resourceVersion = %q, want the etcd revision 23", got)
	}
}

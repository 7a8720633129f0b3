package integration

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/skiff-io/skiff/internal/testserver"
	clientv3 "go.etcd.io/etcd/client/v3"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
)

// wantEvent is an expected watch event on a configmap.
type wantEvent struct {
	typ  watch.EventType
	name string
	rv   string // expected resourceVersion; "" = any
}

// expectEvents reads len(want) events and compares them in order.
func expectEvents(t *testing.T, w watch.Interface, want []wantEvent) {
	t.Helper()
	for i, we := range want {
		ev := nextEvent(t, w, 10*time.Second)
		cm, ok := ev.Object.(*corev1.ConfigMap)
		if !ok {
			t.Fatalf("event %d: got %s, want %s %s", i, describeEvent(ev), we.typ, we.name)
		}
		if ev.Type != we.typ || cm.Name != we.name || (we.rv != "" && cm.ResourceVersion != we.rv) {
			t.Fatalf("event %d: got %s %s rv=%s, want %s %s rv=%s", i, ev.Type, cm.Name, cm.ResourceVersion, we.typ, we.name, we.rv)
		}
	}
}

func TestWatch(t *testing.T) {
	t.Parallel()
	s := startAPIServer(t)
	c := s.Client
	ctx := ctxFor(t)

	t.Run("from resourceVersion", func(t *testing.T) {
		t.Parallel()
		ns := createNamespace(t, c, "watch-rv")
		cms := c.CoreV1().ConfigMaps(ns)
		list, err := cms.List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		start := list.ResourceVersion
		x, err := cms.Create(ctx, configMap(ns, "x", nil, map[string]string{"v": "1"}), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		x.Data["v"] = "2"
		x2, err := cms.Update(ctx, x, metav1.UpdateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		y, err := cms.Create(ctx, configMap(ns, "y", nil, nil), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := cms.Delete(ctx, "x", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		history := []wantEvent{
			{watch.Added, "x", x.ResourceVersion},
			{watch.Modified, "x", x2.ResourceVersion},
			{watch.Added, "y", y.ResourceVersion},
			{watch.Deleted, "x", ""},
		}
		cases := []struct {
			name string
			from string
			want []wantEvent
			w    watch.Interface
		}{
			{name: "from the list", from: start, want: history},
			{name: "from the update", from: x2.ResourceVersion, want: history[2:]},
			{name: "from the last create", from: y.ResourceVersion, want: history[3:]},
		}
		for i := range cases {
			w, err := cms.Watch(ctx, metav1.ListOptions{ResourceVersion: cases[i].from})
			if err != nil {
				t.Fatal(err)
			}
			defer w.Stop()
			cases[i].w = w
		}
		// A marker written after all watches started must come right
		// after each watch's history: nothing else is delivered.
		m, err := cms.Create(ctx, configMap(ns, "marker", nil, nil), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				expectEvents(t, tc.w, append(slices.Clone(tc.want), wantEvent{watch.Added, "marker", m.ResourceVersion}))
			})
		}
		// The DELETED event carries a resourceVersion newer than every
		// earlier event, as its revision.
		w, err := cms.Watch(ctx, metav1.ListOptions{ResourceVersion: y.ResourceVersion})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		ev := nextEvent(t, w, 10*time.Second)
		del, ok := ev.Object.(*corev1.ConfigMap)
		if !ok || ev.Type != watch.Deleted {
			t.Fatalf("got %s, want DELETED x", describeEvent(ev))
		}
		if rvNum(t, del.ResourceVersion) <= rvNum(t, y.ResourceVersion) {
			t.Errorf("DELETED event resourceVersion %s is not after the previous write's %s", del.ResourceVersion, y.ResourceVersion)
		}
	})

	t.Run("current state without resourceVersion", func(t *testing.T) {
		t.Parallel()
		ns := createNamespace(t, c, "watch-norv")
		cms := c.CoreV1().ConfigMaps(ns)
		for _, n := range []string{"a", "b"} {
			if _, err := cms.Create(ctx, configMap(ns, n, nil, nil), metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		// Without a resourceVersion a watch starts with the current state
		// as ADDED events.
		w, err := cms.Watch(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		expectEvents(t, w, []wantEvent{{watch.Added, "a", ""}, {watch.Added, "b", ""}})
		if _, err := cms.Create(ctx, configMap(ns, "c", nil, nil), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		expectEvents(t, w, []wantEvent{{watch.Added, "c", ""}})
	})

	t.Run("label selector", func(t *testing.T) {
		t.Parallel()
		ns := createNamespace(t, c, "watch-labels")
		cms := c.CoreV1().ConfigMaps(ns)
		list, err := cms.List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		w, err := cms.Watch(ctx, metav1.ListOptions{ResourceVersion: list.ResourceVersion, LabelSelector: "app=sel"})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		s1, err := cms.Create(ctx, configMap(ns, "s1", map[string]string{"app": "sel"}, nil), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cms.Create(ctx, configMap(ns, "unselected", map[string]string{"app": "other"}, nil), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		s1.Data = map[string]string{"k": "v"}
		s1, err = cms.Update(ctx, s1, metav1.UpdateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		s1.Labels["app"] = "other"
		left, err := cms.Update(ctx, s1, metav1.UpdateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		// While outside the selection its changes are not seen.
		left.Data["k"] = "v2"
		left, err = cms.Update(ctx, left, metav1.UpdateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		left.Labels["app"] = "sel"
		back, err := cms.Update(ctx, left, metav1.UpdateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := cms.Delete(ctx, "s1", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := cms.Create(ctx, configMap(ns, "s2", map[string]string{"app": "sel"}, nil), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		expectEvents(t, w, []wantEvent{
			{watch.Added, "s1", ""},
			{watch.Modified, "s1", s1.ResourceVersion},
			// Leaving the selection is a deletion for this watcher; the
			// object it carries is the new state.
			{watch.Deleted, "s1", ""},
			{watch.Added, "s1", back.ResourceVersion},
			{watch.Deleted, "s1", ""},
			{watch.Added, "s2", ""},
		})
	})

	t.Run("field selector on one object", func(t *testing.T) {
		t.Parallel()
		ns := createNamespace(t, c, "watch-fields")
		cms := c.CoreV1().ConfigMaps(ns)
		list, err := cms.List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		w, err := cms.Watch(ctx, metav1.ListOptions{ResourceVersion: list.ResourceVersion, FieldSelector: "metadata.name=only"})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		for _, n := range []string{"other", "only"} {
			if _, err := cms.Create(ctx, configMap(ns, n, nil, nil), metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		expectEvents(t, w, []wantEvent{{watch.Added, "only", ""}})
	})

	t.Run("bookmark before the watch times out", func(t *testing.T) {
		t.Parallel()
		ns := createNamespace(t, c, "watch-bookmark")
		cms := c.CoreV1().ConfigMaps(ns)
		cm, err := cms.Create(ctx, configMap(ns, "a", nil, nil), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		// Kubernetes sends a bookmark shortly (2s) before a watch's
		// timeout so that the client can resume from a recent version.
		timeout := int64(6)
		w, err := cms.Watch(ctx, metav1.ListOptions{ResourceVersion: cm.ResourceVersion, AllowWatchBookmarks: true, TimeoutSeconds: &timeout})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		var bookmarks []string
		deadline := time.After(time.Duration(timeout+10) * time.Second)
	loop:
		for {
			select {
			case ev, ok := <-w.ResultChan():
				if !ok {
					break loop
				}
				if ev.Type != watch.Bookmark {
					t.Fatalf("unexpected event %s", describeEvent(ev))
				}
				b, ok := ev.Object.(*corev1.ConfigMap)
				if !ok {
					t.Fatalf("bookmark object is %T, want *v1.ConfigMap", ev.Object)
				}
				if b.Name != "" || len(b.Data) != 0 {
					t.Errorf("bookmark carries more than a resourceVersion: %+v", b)
				}
				if rvNum(t, b.ResourceVersion) < rvNum(t, cm.ResourceVersion) {
					t.Errorf("bookmark resourceVersion %s older than the watch's start %s", b.ResourceVersion, cm.ResourceVersion)
				}
				bookmarks = append(bookmarks, b.ResourceVersion)
			case <-deadline:
				t.Fatalf("watch with timeoutSeconds=%d still open after %ds", timeout, timeout+10)
			}
		}
		if len(bookmarks) == 0 {
			t.Errorf("watch with allowWatchBookmarks and timeoutSeconds=%d ended without a BOOKMARK", timeout)
		}
	})

	t.Run("sendInitialEvents", func(t *testing.T) {
		t.Parallel()
		ns := createNamespace(t, c, "watch-initial")
		cms := c.CoreV1().ConfigMaps(ns)
		var last string
		for _, n := range []string{"a", "b", "c"} {
			cm, err := cms.Create(ctx, configMap(ns, n, nil, nil), metav1.CreateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			last = cm.ResourceVersion
		}
		for _, tc := range []struct{ name, rv string }{{"no resourceVersion", ""}, {"resourceVersion of the last write", last}} {
			t.Run(tc.name, func(t *testing.T) {
				list, err := cms.List(ctx, metav1.ListOptions{})
				if err != nil {
					t.Fatal(err)
				}
				want := map[string]bool{}
				for _, it := range list.Items {
					want[it.Name] = true
				}
				w, err := cms.Watch(ctx, metav1.ListOptions{
					ResourceVersion:      tc.rv,
					ResourceVersionMatch: metav1.ResourceVersionMatchNotOlderThan,
					SendInitialEvents:    ptr(true),
					AllowWatchBookmarks:  true,
				})
				if err != nil {
					t.Fatal(err)
				}
				defer w.Stop()
				got := map[string]bool{}
				for len(got) < len(want) {
					ev := nextEvent(t, w, 10*time.Second)
					cm, ok := ev.Object.(*corev1.ConfigMap)
					if !ok || ev.Type != watch.Added {
						t.Fatalf("initial event: got %s, want ADDED (have %v of %v)", describeEvent(ev), got, want)
					}
					got[cm.Name] = true
				}
				if !maps.Equal(got, want) {
					t.Errorf("initial ADDED events for %v, want %v", got, want)
				}
				ev := nextEvent(t, w, 10*time.Second)
				b, ok := ev.Object.(*corev1.ConfigMap)
				if ev.Type != watch.Bookmark || !ok {
					t.Fatalf("after the initial events: got %s, want BOOKMARK", describeEvent(ev))
				}
				if b.Annotations[metav1.InitialEventsAnnotationKey] != "true" {
					t.Errorf("bookmark annotations %v lack %s=true", b.Annotations, metav1.InitialEventsAnnotationKey)
				}
				if rvNum(t, b.ResourceVersion) < rvNum(t, last) {
					t.Errorf("initial-events-end bookmark resourceVersion %s older than the last write %s", b.ResourceVersion, last)
				}
				// Changes follow.
				d, err := cms.Create(ctx, configMap(ns, "d-"+strconv.Itoa(len(tc.rv)), nil, nil), metav1.CreateOptions{})
				if err != nil {
					t.Fatal(err)
				}
				for {
					ev := nextEvent(t, w, 10*time.Second)
					if ev.Type == watch.Bookmark {
						continue
					}
					cm, ok := ev.Object.(*corev1.ConfigMap)
					if !ok || ev.Type != watch.Added || cm.Name != d.Name {
						t.Fatalf("got %s, want ADDED %s", describeEvent(ev), d.Name)
					}
					break
				}
			})
		}
	})

	t.Run("invalid watch options", func(t *testing.T) {
		t.Parallel()
		cms := c.CoreV1().ConfigMaps("default")
		for _, tc := range []struct {
			name string
			opts metav1.ListOptions
			code int32
		}{
			// ListOptions validation: sendInitialEvents needs
			// resourceVersionMatch=NotOlderThan, which a watch accepts only
			// with sendInitialEvents. Both are 422 Invalid.
			{"sendInitialEvents without resourceVersionMatch", metav1.ListOptions{SendInitialEvents: ptr(true), AllowWatchBookmarks: true}, 422},
			{"resourceVersionMatch without sendInitialEvents", metav1.ListOptions{ResourceVersion: "1", ResourceVersionMatch: metav1.ResourceVersionMatchNotOlderThan}, 422},
		} {
			t.Run(tc.name, func(t *testing.T) {
				w, err := cms.Watch(ctx, tc.opts)
				if err == nil {
					w.Stop()
					t.Fatalf("watch accepted, want %d", tc.code)
				}
				if statusCode(err) != tc.code {
					t.Errorf("got %v (code %d), want %d", err, statusCode(err), tc.code)
				}
			})
		}
	})
}

func rvNum(t *testing.T, rv string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(rv, 10, 64)
	if err != nil {
		t.Fatalf("resourceVersion %q is not a number: %v", rv, err)
	}
	return n
}

// compactEtcd compacts the server's etcd history up to its current revision.
func compactEtcd(t *testing.T, s *testserver.Server) int64 {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{s.EtcdEndpoint()}, DialTimeout: 10 * time.Second})
	if err != nil {
		t.Fatalf("etcd client: %v", err)
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	resp, err := cli.Get(ctx, "compact-probe")
	if err != nil {
		t.Fatalf("reading etcd revision: %v", err)
	}
	rev := resp.Header.Revision
	if _, err := cli.Compact(ctx, rev, clientv3.WithCompactPhysical()); err != nil {
		t.Fatalf("compacting etcd at %d: %v", rev, err)
	}
	return rev
}

// TestTooOldResourceVersion checks that versions the server no longer has
// are answered with 410 Gone, as client-go's reflector expects (it then
// relists): a watch after the history was compacted and the server
// restarted, an exact list at a compacted version, and a continue token
// whose snapshot was compacted.
func TestTooOldResourceVersion(t *testing.T) {
	t.Parallel()
	s := startAPIServer(t)
	ctx := ctxFor(t)
	ns := createNamespace(t, s.Client, "too-old")
	cms := s.Client.CoreV1().ConfigMaps(ns)
	var old string
	for i := range 5 {
		cm, err := cms.Create(ctx, configMap(ns, fmt.Sprintf("cm-%d", i), nil, nil), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			old = cm.ResourceVersion
		}
	}
	page, err := cms.List(ctx, metav1.ListOptions{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if page.Continue == "" {
		t.Fatal("list with limit 2 of 5 objects returned no continue token")
	}
	// Exact reads of an old version work before compaction.
	if l, err := cms.List(ctx, metav1.ListOptions{ResourceVersion: old, ResourceVersionMatch: metav1.ResourceVersionMatchExact}); err != nil {
		t.Fatalf("exact list at %s before compaction: %v", old, err)
	} else if len(l.Items) != 2 {
		t.Errorf("exact list at %s: %d items, want 2", old, len(l.Items))
	}
	if _, err := cms.Create(ctx, configMap(ns, "after", nil, nil), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	compactEtcd(t, s)

	expectGone := func(t *testing.T, what string, err error) {
		t.Helper()
		if err == nil {
			t.Errorf("%s: succeeded, want 410 Gone", what)
		} else if !apierrors.IsResourceExpired(err) && !apierrors.IsGone(err) {
			t.Errorf("%s: got %v (code %d), want 410 Gone (Expired)", what, err, statusCode(err))
		}
	}
	_, err = cms.List(ctx, metav1.ListOptions{ResourceVersion: old, ResourceVersionMatch: metav1.ResourceVersionMatchExact})
	expectGone(t, "exact list at a compacted version", err)
	_, err = cms.List(ctx, metav1.ListOptions{Limit: 2, Continue: page.Continue})
	expectGone(t, "continue token of a compacted snapshot", err)

	// After a restart the server can no longer replay the compacted
	// history. (Without the restart the watch cache may still serve it
	// from memory, as Kubernetes' watch cache does.)
	s.Restart()
	watchGone(t, s.Client.CoreV1().ConfigMaps(ns), old)
	// A watch from a current version still works.
	list, err := s.Client.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w, err := s.Client.CoreV1().ConfigMaps(ns).Watch(ctx, metav1.ListOptions{ResourceVersion: list.ResourceVersion})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	if _, err := s.Client.CoreV1().ConfigMaps(ns).Create(ctx, configMap(ns, "later", nil, nil), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	expectEvents(t, w, []wantEvent{{watch.Added, "later", ""}})
}

// watchGone checks that a watch from rv fails with 410: either the request
// itself or (as Kubernetes does) a single ERROR event carrying the Status.
func watchGone(t *testing.T, cms interface {
	Watch(context.Context, metav1.ListOptions) (watch.Interface, error)
}, rv string) {
	t.Helper()
	w, err := cms.Watch(context.Background(), metav1.ListOptions{ResourceVersion: rv})
	if err != nil {
		if !apierrors.IsResourceExpired(err) && !apierrors.IsGone(err) {
			t.Errorf("watch from %s: got %v, want 410", rv, err)
		}
		return
	}
	defer w.Stop()
	ev := nextEvent(t, w, 10*time.Second)
	st, ok := ev.Object.(*metav1.Status)
	if ev.Type != watch.Error || !ok {
		t.Fatalf("watch from compacted %s: got %s, want ERROR 410", rv, describeEvent(ev))
	}
	if st.Code != 410 || (st.Reason != metav1.StatusReasonExpired && st.Reason != metav1.StatusReasonGone) {
		t.Errorf("watch from compacted %s: ERROR status code %d reason %s, want 410 Expired/Gone", rv, st.Code, st.Reason)
	}
	select {
	case ev, ok := <-w.ResultChan():
		if ok {
			t.Errorf("event after the ERROR: %s", describeEvent(ev))
		}
	case <-time.After(10 * time.Second):
		t.Errorf("watch not closed after the ERROR event")
	}
}

package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/skiff-io/skiff/internal/etcd"
)

// fakeTransformer "encrypts" by prefixing a version and the key and
// reversing the bytes; values of another version than the primary are
// stale, and plain JSON reads as stale.
type fakeTransformer struct {
	mu      sync.Mutex
	primary string
}

func (f *fakeTransformer) setPrimary(v string) {
	f.mu.Lock()
	f.primary = v
	f.mu.Unlock()
}

func (f *fakeTransformer) ToStorage(plain []byte, key string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]byte("fake:"+f.primary+":"+key+":"), reversed(plain)...), nil
}

func (f *fakeTransformer) FromStorage(stored []byte, key string) ([]byte, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if bytes.HasPrefix(stored, []byte("{")) {
		return stored, true, nil
	}
	rest, ok := bytes.CutPrefix(stored, []byte("fake:"))
	if !ok {
		return nil, false, errors.New("no known prefix")
	}
	version, rest, _ := bytes.Cut(rest, []byte(":"))
	boundKey, body, ok := bytes.Cut(rest, []byte(":")) // test keys hold no ':'

	if !ok || string(boundKey) != key {
		return nil, false, fmt.Errorf("value bound to another key %q", boundKey)
	}
	return reversed(body), string(version) != f.primary, nil
}

func reversed(b []byte) []byte {
	out := make([]byte, len(b))
	for i := range b {
		out[len(b)-1-i] = b[i]
	}
	return out
}

// startEtcd runs an embedded etcd member for the test.
func startEtcd(t *testing.T) *clientv3.Client {
	t.Helper()
	var ports []int
	for range 2 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
		l.Close()
	}
	e, err := etcd.New(etcd.Config{DataDir: t.TempDir(), ClientPort: ports[0], PeerPort: ports[1]})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	return e.Client()
}

// transformedStore registers configmaps with the fake transformer on a
// running store.
func transformedStore(t *testing.T) (*Resource, *fakeTransformer, *clientv3.Client) {
	t.Helper()
	client := startEtcd(t)
	s, err := New(Config{Client: client, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), CompactInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	ft := &fakeTransformer{primary: "v1"}
	r := s.Register(ResourceConfig{
		GroupResource: schema.GroupResource{Resource: "configmaps"},
		Kind:          corev1.SchemeGroupVersion.WithKind("ConfigMap"),
		New:           func() runtime.Object { return &corev1.ConfigMap{} },
		Namespaced:    true,
		Transformer:   ft,
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = s.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case <-s.Ready():
	case <-time.After(30 * time.Second):
		t.Fatal("store not ready")
	}
	return r, ft, client
}

func secretLike(ns, name, value string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Data: map[string]string{"k": value}}
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func rawValue(t *testing.T, c *clientv3.Client, key string) []byte {
	t.Helper()
	resp, err := c.Get(context.Background(), key)
	if err != nil || len(resp.Kvs) == 0 {
		t.Fatalf("reading %s: %v (found %d)", key, err, len(resp.Kvs))
	}
	return resp.Kvs[0].Value
}

func TestTransformerRoundTrip(t *testing.T) {
	r, _, client := transformedStore(t)
	ctx := context.Background()
	created, err := r.Create(ctx, "ns", "a", secretLike("ns", "a", "hunter2"))
	if err != nil {
		t.Fatal(err)
	}
	raw := rawValue(t, client, "/registry/core/configmaps/ns/a")
	if !bytes.HasPrefix(raw, []byte("fake:v1:/registry/core/configmaps/ns/a:")) || bytes.Contains(raw, []byte("hunter2")) {
		t.Fatalf("stored value not transformed: %q", raw)
	}
	got, err := r.Get(ctx, "ns", "a")
	if err != nil || got.(*corev1.ConfigMap).Data["k"] != "hunter2" {
		t.Fatalf("Get = %v, %v", got, err)
	}
	eventually(t, "cache", func() bool { _, err := r.GetCached("ns", "a"); return err == nil })
	list, err := r.List(ctx, ListOptions{Limit: 10})
	if err != nil || len(list.Items) != 1 || list.Items[0].(*corev1.ConfigMap).Data["k"] != "hunter2" {
		t.Fatalf("paged List = %v, %v", list, err)
	}

	// A no-op update compares plain encodings and writes nothing.
	rv := created.(*corev1.ConfigMap).ResourceVersion
	same, err := r.Update(ctx, "ns", "a", func(cur runtime.Object) (runtime.Object, error) { return cur, nil })
	if err != nil || same.(*corev1.ConfigMap).ResourceVersion != rv {
		t.Fatalf("no-op update wrote: %v, %v (rv %s)", same, err, rv)
	}
	updated, err := r.Update(ctx, "ns", "a", func(cur runtime.Object) (runtime.Object, error) {
		cur.(*corev1.ConfigMap).Data["k"] = "changed"
		return cur, nil
	})
	if err != nil || updated.(*corev1.ConfigMap).ResourceVersion == rv {
		t.Fatalf("update = %v, %v", updated, err)
	}
	if raw := rawValue(t, client, "/registry/core/configmaps/ns/a"); bytes.Contains(raw, []byte("changed")) {
		t.Fatalf("updated value not transformed: %q", raw)
	}
}

func TestRewriteStaleValues(t *testing.T) {
	r, ft, client := transformedStore(t)
	ctx := context.Background()
	for _, name := range []string{"a", "b"} {
		if _, err := r.Create(ctx, "ns", name, secretLike("ns", name, "v-"+name)); err != nil {
			t.Fatal(err)
		}
	}
	// A value written before the transformer existed: plain JSON.
	plain, err := encode(secretLike("ns", "c", "v-c"), corev1.SchemeGroupVersion.WithKind("ConfigMap"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.Put(ctx, "/registry/core/configmaps/ns/c", string(plain)); err != nil {
		t.Fatal(err)
	}
	ft.setPrimary("v2")
	n, err := r.Rewrite(ctx)
	if err != nil || n != 3 {
		t.Fatalf("Rewrite = %d, %v; want 3", n, err)
	}
	for _, name := range []string{"a", "b", "c"} {
		key := "/registry/core/configmaps/ns/" + name
		if raw := rawValue(t, client, key); !bytes.HasPrefix(raw, []byte("fake:v2:"+key+":")) {
			t.Fatalf("%s not rewritten: %q", key, raw)
		}
		got, err := r.Get(ctx, "ns", name)
		if err != nil || got.(*corev1.ConfigMap).Data["k"] != "v-"+name {
			t.Fatalf("Get %s after rewrite = %v, %v", name, got, err)
		}
	}
	if n, err := r.Rewrite(ctx); err != nil || n != 0 {
		t.Fatalf("second Rewrite = %d, %v; want 0", n, err)
	}
	var keys []string
	if err := r.ForEachStored(ctx, func(key string, _ []byte) error { keys = append(keys, key); return nil }); err != nil || len(keys) != 3 {
		t.Fatalf("ForEachStored saw %v, %v", keys, err)
	}
}

func TestUnreadableValue(t *testing.T) {
	r, _, client := transformedStore(t)
	ctx := context.Background()
	if _, err := r.Create(ctx, "ns", "good", secretLike("ns", "good", "x")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "cache", func() bool { _, err := r.GetCached("ns", "good"); return err == nil })
	w, err := r.Watch(ctx, WatchOptions{ResourceVersion: "0"})
	if err != nil {
		t.Fatal(err)
	}
	if ev := <-w; ev.Type != watch.Added {
		t.Fatalf("first event %v, want ADDED", ev.Type)
	}
	// A value copied from another key does not read back.
	moved := rawValue(t, client, "/registry/core/configmaps/ns/good")
	if _, err := client.Put(ctx, "/registry/core/configmaps/ns/bad", string(moved)); err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-w:
		if ev.Type != watch.Error || !apierrors.IsInternalError(ev.Err) {
			t.Fatalf("event %v %v, want ERROR with an internal error", ev.Type, ev.Err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no ERROR event for the unreadable value")
	}
	if _, ok := <-w; ok {
		t.Fatal("watch continued after its ERROR event")
	}
	if _, err := r.GetCached("ns", "bad"); !apierrors.IsInternalError(err) {
		t.Fatalf("GetCached unreadable = %v, want internal error", err)
	}
	if _, err := r.Get(ctx, "ns", "bad"); !apierrors.IsInternalError(err) {
		t.Fatalf("Get unreadable = %v, want internal error", err)
	}
	for _, opts := range []ListOptions{{ResourceVersion: "0"}, {Limit: 5}, {ResourceVersion: "0", Namespace: "ns"}} {
		if _, err := r.List(ctx, opts); !apierrors.IsInternalError(err) || !strings.Contains(err.Error(), "ns/bad") {
			t.Fatalf("List(%+v) = %v, want internal error naming the key", opts, err)
		}
	}
	if _, err := r.List(ctx, ListOptions{ResourceVersion: "0", Namespace: "other"}); err != nil {
		t.Fatalf("List of another namespace = %v", err)
	}
	if _, err := r.Watch(ctx, WatchOptions{ResourceVersion: "0"}); !apierrors.IsInternalError(err) {
		t.Fatalf("Watch = %v, want internal error", err)
	}
	if _, err := r.Update(ctx, "ns", "bad", func(cur runtime.Object) (runtime.Object, error) { return cur, nil }); !apierrors.IsInternalError(err) {
		t.Fatalf("Update unreadable = %v, want internal error", err)
	}
	if n, err := r.Rewrite(ctx); err == nil || n != 0 {
		t.Fatalf("Rewrite = %d, %v; want an error for the unreadable value", n, err)
	}
	// Removing the value makes lists work again.
	if _, err := client.Delete(ctx, "/registry/core/configmaps/ns/bad"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "list to recover", func() bool {
		res, err := r.List(ctx, ListOptions{ResourceVersion: "0"})
		return err == nil && len(res.Items) == 1
	})
}

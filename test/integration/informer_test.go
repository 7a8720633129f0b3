package integration

import (
	"context"
	"fmt"
	"github.com/skiff-io/skiff/internal/testserver"
	"maps"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/skiff-io/skiff/internal/testcluster"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clientfeatures "k8s.io/client-go/features"
	clientfeaturestesting "k8s.io/client-go/features/testing"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// handlerState mirrors what an informer's event handlers were told: the
// last state of every object that was added or updated and not deleted.
type handlerState struct {
	mu   sync.Mutex
	objs map[string]string // name -> resourceVersion/data
}

func cmState(cm *corev1.ConfigMap) string {
	return cm.ResourceVersion + "/" + cm.Data["v"]
}

func (h *handlerState) handlers() cache.ResourceEventHandlerFuncs {
	return cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj interface{}) {
			cm := obj.(*corev1.ConfigMap)
			h.mu.Lock()
			h.objs[cm.Name] = cmState(cm)
			h.mu.Unlock()
		},
		UpdateFunc: func(_, obj interface{}) {
			cm := obj.(*corev1.ConfigMap)
			h.mu.Lock()
			h.objs[cm.Name] = cmState(cm)
			h.mu.Unlock()
		},
		DeleteFunc: func(obj interface{}) {
			if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = tomb.Obj
			}
			cm := obj.(*corev1.ConfigMap)
			h.mu.Lock()
			delete(h.objs, cm.Name)
			h.mu.Unlock()
		},
	}
}

func (h *handlerState) snapshot() map[string]string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return maps.Clone(h.objs)
}

// trackedInformer is a configmap informer on one namespace plus what its
// handlers saw.
type trackedInformer struct {
	ns       string
	informer cache.SharedIndexInformer
	seen     *handlerState
}

func startConfigMapInformer(t *testing.T, c kubernetes.Interface, ns string, stop <-chan struct{}) *trackedInformer {
	t.Helper()
	f := informers.NewSharedInformerFactoryWithOptions(c, 0, informers.WithNamespace(ns))
	inf := f.Core().V1().ConfigMaps().Informer()
	ti := &trackedInformer{ns: ns, informer: inf, seen: &handlerState{objs: map[string]string{}}}
	if _, err := inf.AddEventHandler(ti.seen.handlers()); err != nil {
		t.Fatalf("adding handler: %v", err)
	}
	f.Start(stop)
	for typ, ok := range f.WaitForCacheSync(stop) {
		if !ok {
			t.Fatalf("informer for %v did not sync", typ)
		}
	}
	return ti
}

// inSync compares the informer's store and its handlers' view with a
// fresh list from the server.
func (ti *trackedInformer) inSync(ctx context.Context, c kubernetes.Interface) error {
	list, err := c.CoreV1().ConfigMaps(ti.ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	want := map[string]string{}
	for i := range list.Items {
		want[list.Items[i].Name] = cmState(&list.Items[i])
	}
	got := map[string]string{}
	for _, obj := range ti.informer.GetStore().List() {
		cm := obj.(*corev1.ConfigMap)
		got[cm.Name] = cmState(cm)
	}
	if !maps.Equal(got, want) {
		return fmt.Errorf("informer store %s != server list %s", render(got), render(want))
	}
	if seen := ti.seen.snapshot(); !maps.Equal(seen, want) {
		return fmt.Errorf("handler view %s != server list %s", render(seen), render(want))
	}
	return nil
}

func render(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k+"="+m[k])
	}
	sort.Strings(keys)
	return "{" + strings.Join(keys, " ") + "}"
}

// TestInformerStaysInSyncThroughRestart runs two configmap informers, one
// using list+watch and one using the streaming watch-list protocol
// (sendInitialEvents), through creates, updates, deletes and a server
// restart.
func TestInformerStaysInSyncThroughRestart(t *testing.T) {
	t.Parallel()
	s := testcluster.Start(t)
	ctx := ctxFor(t)
	// The informers keep the client they were built with: after the
	// restart it reconnects to the same address with the same certificates,
	// as a controller outside the server process would.
	c := s.Client
	stop := make(chan struct{})
	defer close(stop)

	modes := []struct {
		name      string
		watchList bool
	}{
		{"list-watch", false},
		{"watch-list", true},
	}
	var infs []*trackedInformer
	for _, m := range modes {
		ns := createNamespace(t, c, "informer-"+m.name)
		for i := range 3 {
			if _, err := c.CoreV1().ConfigMaps(ns).Create(ctx, configMap(ns, fmt.Sprintf("pre-%d", i), nil, map[string]string{"v": "0"}), metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		// The reflector decides on its protocol when it is built, which
		// happens before WaitForCacheSync returns.
		t.Run("start-"+m.name, func(t *testing.T) {
			clientfeaturestesting.SetFeatureDuringTest(t, clientfeatures.WatchListClient, m.watchList)
			infs = append(infs, startConfigMapInformer(t, c, ns, stop))
		})
	}
	if t.Failed() {
		t.FailNow()
	}

	// changes applies creates, updates and deletes to every namespace.
	changes := func(t *testing.T, c kubernetes.Interface, round string) {
		t.Helper()
		for _, ti := range infs {
			cms := c.CoreV1().ConfigMaps(ti.ns)
			for i := range 3 {
				if _, err := cms.Create(ctx, configMap(ti.ns, fmt.Sprintf("%s-%d", round, i), nil, map[string]string{"v": "1"}), metav1.CreateOptions{}); err != nil {
					t.Fatalf("create: %v", err)
				}
			}
			for _, name := range []string{"pre-0", round + "-0"} {
				cm, err := cms.Get(ctx, name, metav1.GetOptions{})
				if err != nil {
					t.Fatalf("get %s: %v", name, err)
				}
				cm.Data["v"] = cm.Data["v"] + "+" + round
				if _, err := cms.Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
					t.Fatalf("update %s: %v", name, err)
				}
			}
			if err := cms.Delete(ctx, round+"-1", metav1.DeleteOptions{}); err != nil {
				t.Fatalf("delete: %v", err)
			}
		}
	}
	waitInSync := func(t *testing.T, c kubernetes.Interface, when string) {
		t.Helper()
		for _, ti := range infs {
			testserver.Eventually(t, 0, when+": informer in "+ti.ns+" in sync", func() error { return ti.inSync(ctx, c) })
		}
	}

	waitInSync(t, c, "after start")
	changes(t, c, "a")
	waitInSync(t, c, "after first changes")

	s.Restart()
	// Changes made right after the restart, while the informers are
	// reconnecting, must still reach them.
	changes(t, s.Client, "b")
	if err := s.Client.CoreV1().ConfigMaps(infs[0].ns).Delete(ctx, "pre-2", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := s.Client.CoreV1().ConfigMaps(infs[1].ns).Delete(ctx, "pre-2", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitInSync(t, s.Client, "after restart")

	// And the watches keep working once they have resumed.
	changes(t, s.Client, "c")
	waitInSync(t, s.Client, "after changes following the restart")
	for _, ti := range infs {
		if _, ok, _ := ti.informer.GetStore().GetByKey(ti.ns + "/pre-2"); ok {
			t.Errorf("%s: deleted configmap pre-2 still in the informer store", ti.ns)
		}
	}
}

package replicaset

import (
	"slices"
	"sort"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
)

func TestPodIndex(t *testing.T) {
	owned := func(name, ns string, uid types.UID) *corev1.Pod {
		p := pod(name)
		p.Namespace = ns
		if uid != "" {
			p.OwnerReferences = []metav1.OwnerReference{{UID: uid, Controller: ptr(true), Kind: "ReplicaSet", Name: "x"}}
		}
		return p
	}
	pods := []*corev1.Pod{owned("mine", "ns", "u1"), owned("theirs", "ns", "u2"), owned("orphan", "ns", ""),
		owned("far-orphan", "other", ""), owned("sibling", "ns", "u3")}
	for _, indexed := range []bool{true, false} {
		indexers := cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc}
		if indexed {
			indexers[controllerIndex] = controllerIndexFunc
		}
		store := cache.NewIndexer(cache.MetaNamespaceKeyFunc, indexers)
		for _, p := range pods {
			_ = store.Add(p)
		}
		x := &podIndex{lister: corelisters.NewPodLister(store)}
		if indexed {
			x.indexer = store
		}
		got, err := x.candidates("ns", "u1")
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"mine", "orphan"}
		if !indexed {
			want = []string{"mine", "orphan", "sibling", "theirs"} // the whole namespace
		}
		if n := sortedNames(got); !slices.Equal(n, want) {
			t.Errorf("indexed=%v: candidates = %v, want %v", indexed, n, want)
		}
		rel, _ := x.controlledBy("ns", []types.UID{"u1", "u3"})
		if n := sortedNames(rel); !slices.Equal(n, []string{"mine", "sibling"}) {
			t.Errorf("indexed=%v: controlledBy = %v", indexed, n)
		}
	}
}

func sortedNames(pods []*corev1.Pod) []string {
	n := names(pods)
	sort.Strings(n)
	return n
}

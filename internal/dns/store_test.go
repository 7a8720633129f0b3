package dns

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/cache"
)

func TestInformerStore(t *testing.T) {
	svcs := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	slices := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{})
	pods := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{})
	for idx, add := range map[cache.Indexer]cache.Indexers{svcs: serviceIndexers(), slices: sliceIndexers(), pods: podIndexers()} {
		if err := idx.AddIndexers(add); err != nil {
			t.Fatal(err)
		}
	}
	f := fixture()
	for _, o := range f.services {
		_ = svcs.Add(o)
	}
	for _, o := range f.slices {
		_ = slices.Add(o)
	}
	for _, o := range f.pods {
		_ = pods.Add(o)
	}
	st := &informerStore{services: svcs, slices: slices, pods: pods}
	if s := st.Service("default", "kubernetes"); s == nil || s.Spec.ClusterIP != "10.43.0.1" {
		t.Errorf("Service = %v", s)
	}
	if st.Service("default", "nope") != nil {
		t.Error("missing Service found")
	}
	if got := st.EndpointSlices("default", "web"); len(got) != 1 || got[0].Name != "web-a" {
		t.Errorf("EndpointSlices(web) = %v", got)
	}
	if got := st.ServicesByIP("fd00::20"); len(got) != 1 || got[0].Name != "dual" {
		t.Errorf("ServicesByIP(fd00::20) = %v", got)
	}
	if got := st.ServicesByIP(corev1.ClusterIPNone); len(got) != 0 {
		t.Errorf("headless Services indexed under None: %v", got)
	}
	if got := st.EndpointSlicesByIP("10.42.0.6"); len(got) != 1 || got[0].Name != "web-a" {
		t.Errorf("EndpointSlicesByIP = %v", got)
	}
	if !st.HasNamespace("kube-system") || st.HasNamespace("nope") {
		t.Error("HasNamespace wrong")
	}
	if got := st.PodsByIP("10.42.0.5"); len(got) != 1 {
		t.Errorf("PodsByIP = %v", got)
	}
	if got := (&informerStore{services: svcs, slices: slices}).PodsByIP("10.42.0.5"); got != nil {
		t.Errorf("PodsByIP without pod informer = %v", got)
	}
}

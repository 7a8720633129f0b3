package replicaset

import (
	"log/slog"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
)

// controllerIndex indexes pods by the UID of their controller, and
// orphans by "orphan/<namespace>", so that a sync reads only the pods it
// may own instead of every pod of the namespace.
const controllerIndex = "skiff.io/replicaset-controller-uid"

func controllerIndexFunc(obj interface{}) ([]string, error) {
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return nil, nil
	}
	if ref := metav1.GetControllerOfNoCopy(p); ref != nil {
		return []string{string(ref.UID)}, nil
	}
	return []string{orphanKey(p.Namespace)}, nil
}

func orphanKey(namespace string) string { return "orphan/" + namespace }

// podIndex reads pods by controller, falling back to listing the
// namespace when the index could not be added (the shared informer had
// already started).
type podIndex struct {
	lister  corelisters.PodLister
	indexer cache.Indexer // nil without the index
}

// newPodIndex adds controllerIndex to the shared pod informer unless it is
// there already (the ReplicaSet and ReplicationController controllers
// share it).
func newPodIndex(inf cache.SharedIndexInformer, lister corelisters.PodLister, log *slog.Logger) *podIndex {
	idx := &podIndex{lister: lister}
	if _, ok := inf.GetIndexer().GetIndexers()[controllerIndex]; !ok {
		if err := inf.AddIndexers(cache.Indexers{controllerIndex: controllerIndexFunc}); err != nil {
			log.Warn("pod index unavailable; listing whole namespaces", "err", err)
			return idx
		}
	}
	idx.indexer = inf.GetIndexer()
	return idx
}

// candidates returns the pods a set with uid in namespace may claim: its
// own and the namespace's orphans (with the index), or all the
// namespace's pods (without).
func (x *podIndex) candidates(namespace string, uid types.UID) ([]*corev1.Pod, error) {
	if x.indexer == nil {
		return x.lister.Pods(namespace).List(labels.Everything())
	}
	owned, err := x.byIndex(string(uid))
	if err != nil {
		return nil, err
	}
	orphans, err := x.byIndex(orphanKey(namespace))
	if err != nil {
		return nil, err
	}
	return append(owned, orphans...), nil
}

// controlledBy returns the pods in namespace controlled by any of uids.
func (x *podIndex) controlledBy(namespace string, uids []types.UID) ([]*corev1.Pod, error) {
	if x.indexer == nil {
		all, err := x.lister.Pods(namespace).List(labels.Everything())
		if err != nil {
			return nil, err
		}
		want := map[types.UID]bool{}
		for _, u := range uids {
			want[u] = true
		}
		var out []*corev1.Pod
		for _, p := range all {
			if ref := metav1.GetControllerOfNoCopy(p); ref != nil && want[ref.UID] {
				out = append(out, p)
			}
		}
		return out, nil
	}
	var out []*corev1.Pod
	for _, u := range uids {
		pods, err := x.byIndex(string(u))
		if err != nil {
			return nil, err
		}
		out = append(out, pods...)
	}
	return out, nil
}

func (x *podIndex) byIndex(key string) ([]*corev1.Pod, error) {
	objs, err := x.indexer.ByIndex(controllerIndex, key)
	if err != nil {
		return nil, err
	}
	out := make([]*corev1.Pod, 0, len(objs))
	for _, o := range objs {
		if p, ok := o.(*corev1.Pod); ok {
			out = append(out, p)
		}
	}
	return out, nil
}

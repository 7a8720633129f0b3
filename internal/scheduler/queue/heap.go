package queue

import (
	"container/heap"

	"k8s.io/apimachinery/pkg/types"
)

// podHeap is a heap of queued pods with lookup by UID.
type podHeap struct {
	items []*QueuedPodInfo
	byUID map[types.UID]*QueuedPodInfo
	less  func(a, b *QueuedPodInfo) bool
}

func (h *podHeap) Len() int           { return len(h.items) }
func (h *podHeap) Less(i, j int) bool { return h.less(h.items[i], h.items[j]) }
func (h *podHeap) Swap(i, j int) {
	h.items[i], h.items[j] = h.items[j], h.items[i]
	h.items[i].index, h.items[j].index = i, j
}

func (h *podHeap) Push(x any) {
	p := x.(*QueuedPodInfo)
	if h.byUID == nil {
		h.byUID = map[types.UID]*QueuedPodInfo{}
	}
	p.index = len(h.items)
	h.items = append(h.items, p)
	h.byUID[p.Pod.UID] = p
}

func (h *podHeap) Pop() any {
	n := len(h.items) - 1
	p := h.items[n]
	h.items[n] = nil
	h.items = h.items[:n]
	delete(h.byUID, p.Pod.UID)
	p.index = -1
	return p
}

func (h *podHeap) get(uid types.UID) *QueuedPodInfo { return h.byUID[uid] }

func (h *podHeap) remove(uid types.UID) {
	if p, ok := h.byUID[uid]; ok {
		heap.Remove(h, p.index)
	}
}

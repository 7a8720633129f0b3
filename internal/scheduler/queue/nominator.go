package queue

import (
	"github.com/skiff-io/skiff/internal/scheduler/framework"
	"k8s.io/apimachinery/pkg/types"
)

// nominator remembers which pending pods preemption promised a node to.
type nominator struct {
	byNode map[string][]*framework.PodInfo
	node   map[types.UID]string
}

func newNominator() nominator {
	return nominator{byNode: map[string][]*framework.PodInfo{}, node: map[types.UID]string{}}
}

// update sets (or, with node "", clears) the pod's nomination.
func (n *nominator) update(pi *framework.PodInfo, node string) {
	n.delete(pi.Pod.UID)
	if node == "" {
		return
	}
	n.node[pi.Pod.UID] = node
	n.byNode[node] = append(n.byNode[node], pi)
}

func (n *nominator) delete(uid types.UID) {
	node, ok := n.node[uid]
	if !ok {
		return
	}
	delete(n.node, uid)
	list := n.byNode[node]
	for i, pi := range list {
		if pi.Pod.UID == uid {
			list = append(list[:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(n.byNode, node)
	} else {
		n.byNode[node] = list
	}
}

func (n *nominator) forNode(node string) []*framework.PodInfo {
	list := n.byNode[node]
	if len(list) == 0 {
		return nil
	}
	return append([]*framework.PodInfo(nil), list...)
}

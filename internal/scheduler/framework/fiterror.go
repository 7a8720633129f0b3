package framework

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	v1 "k8s.io/api/core/v1"
)

// ErrNoNodesAvailable is returned when the cluster has no nodes at all.
var ErrNoNodesAvailable = errors.New("no nodes available to schedule pods")

// Diagnosis records why each node was rejected during one cycle.
type Diagnosis struct {
	// NodeToStatus holds the rejection of each node that was evaluated.
	NodeToStatus map[string]*Status
	// AbsentNodesStatus, when set, is the rejection of every node missing
	// from NodeToStatus (e.g. nodes a PreFilter excluded).
	AbsentNodesStatus *Status
	// UnschedulablePlugins are the plugins that rejected the pod somewhere.
	UnschedulablePlugins map[string]bool
	// PreFilterMsg is set when a PreFilter plugin rejected the pod outright.
	PreFilterMsg string
	// PostFilterMsg is preemption's explanation.
	PostFilterMsg string
}

// StatusOf returns the rejection recorded for node (AbsentNodesStatus if
// none is recorded).
func (d *Diagnosis) StatusOf(node string) *Status {
	if s, ok := d.NodeToStatus[node]; ok {
		return s
	}
	return d.AbsentNodesStatus
}

// FitError says why a pod fits on no node.
type FitError struct {
	Pod         *v1.Pod
	NumAllNodes int
	Diagnosis   Diagnosis
}

// NoNodeAvailableMsg starts every FitError message.
const NoNodeAvailableMsg = "0/%v nodes are available"

// Error is Kubernetes' message: "0/N nodes are available: " then either
// the PreFilter rejection or a histogram of per-node reasons ("3
// Insufficient cpu, 1 node(s) had untolerated taint {k: v}", sorted as
// strings), a period, then preemption's message, e.g.
//
//	0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.
func (f *FitError) Error() string {
	msg := fmt.Sprintf(NoNodeAvailableMsg+":", f.NumAllNodes)
	d := &f.Diagnosis
	if d.PreFilterMsg != "" {
		msg += " " + d.PreFilterMsg + "."
	} else if hist := d.histogram(f.NumAllNodes); len(hist) > 0 {
		msg += " " + strings.Join(hist, ", ") + "."
	}
	if d.PostFilterMsg != "" {
		msg += " " + d.PostFilterMsg
	}
	return msg
}

func (d *Diagnosis) histogram(numAllNodes int) []string {
	counts := map[string]int{}
	for _, s := range d.NodeToStatus {
		for _, r := range s.Reasons() {
			counts[r]++
		}
	}
	if absent := numAllNodes - len(d.NodeToStatus); absent > 0 && d.AbsentNodesStatus != nil {
		for _, r := range d.AbsentNodesStatus.Reasons() {
			counts[r] += absent
		}
	}
	out := make([]string, 0, len(counts))
	for r, n := range counts {
		out = append(out, fmt.Sprintf("%d %s", n, r))
	}
	sort.Strings(out)
	return out
}

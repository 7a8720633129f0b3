// Package interpodaffinity implements the InterPodAffinity filter and
// score: required pod affinity (the pod must land in a topology domain
// with pods its terms select), required anti-affinity (no such pods in the
// domain, in either direction), and a score from preferred terms of the
// incoming pod and of the pods already placed.
package interpodaffinity

import (
	"github.com/skiff-io/skiff/internal/scheduler/framework"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	corelisters "k8s.io/client-go/listers/core/v1"
)

// Name is the plugin name.
const Name = "InterPodAffinity"

// Kubernetes' reasons.
const (
	ErrReasonAffinityRulesNotMatch             = "node(s) didn't match pod affinity rules"
	ErrReasonAntiAffinityRulesNotMatch         = "node(s) didn't match pod anti-affinity rules"
	ErrReasonExistingAntiAffinityRulesNotMatch = "node(s) didn't satisfy existing pods anti-affinity rules"
)

// HardPodAffinityWeight is the score weight of an existing pod's required
// affinity term that the incoming pod matches (Kubernetes' default).
const HardPodAffinityWeight = 1

// InterPodAffinity is the plugin.
type InterPodAffinity struct {
	namespaces corelisters.NamespaceLister
}

// New returns the plugin; namespaces resolves namespaceSelector terms
// (nil: no namespace matches a selector).
func New(namespaces corelisters.NamespaceLister) *InterPodAffinity {
	return &InterPodAffinity{namespaces: namespaces}
}

// Name implements framework.Plugin.
func (*InterPodAffinity) Name() string { return Name }

// EventsToRegister implements framework.EnqueueExtensions.
func (*InterPodAffinity) EventsToRegister() []framework.ClusterEvent {
	return []framework.ClusterEvent{framework.NodeAdd, framework.NodeUpdate,
		framework.AssignedPodAdd, framework.AssignedPodUpdate, framework.AssignedPodDelete}
}

// nsLabels returns the labels of namespace ns (empty if unknown).
func (pl *InterPodAffinity) nsLabels(ns string) labels.Set {
	if pl.namespaces == nil {
		return labels.Set{}
	}
	n, err := pl.namespaces.Get(ns)
	if err != nil {
		return labels.Set{}
	}
	return labels.Set(n.Labels)
}

// resolveNamespaces returns copies of terms whose namespace selectors are
// replaced by the names of the namespaces they select now.
func (pl *InterPodAffinity) resolveNamespaces(terms []framework.AffinityTerm) []framework.AffinityTerm {
	if len(terms) == 0 {
		return nil
	}
	out := make([]framework.AffinityTerm, len(terms))
	var all []*v1.Namespace
	listed := false
	for i, t := range terms {
		out[i] = t
		if !t.HasNamespaceSelector {
			continue
		}
		if !listed && pl.namespaces != nil {
			all, _ = pl.namespaces.List(labels.Everything())
			listed = true
		}
		ns := make(map[string]struct{}, len(t.Namespaces))
		for n := range t.Namespaces {
			ns[n] = struct{}{}
		}
		for _, n := range all {
			if t.NamespaceSelector.Matches(labels.Set(n.Labels)) {
				ns[n.Name] = struct{}{}
			}
		}
		out[i].Namespaces = ns
		out[i].NamespaceSelector = labels.Nothing()
		out[i].HasNamespaceSelector = false
	}
	return out
}

func resolveWeighted(pl *InterPodAffinity, terms []framework.WeightedAffinityTerm) []framework.WeightedAffinityTerm {
	if len(terms) == 0 {
		return nil
	}
	plain := make([]framework.AffinityTerm, len(terms))
	for i := range terms {
		plain[i] = terms[i].AffinityTerm
	}
	plain = pl.resolveNamespaces(plain)
	out := make([]framework.WeightedAffinityTerm, len(terms))
	for i := range terms {
		out[i] = framework.WeightedAffinityTerm{AffinityTerm: plain[i], Weight: terms[i].Weight}
	}
	return out
}

// matchesAll reports whether pod matches every term (namespaces resolved).
func matchesAll(terms []framework.AffinityTerm, pod *v1.Pod) bool {
	if len(terms) == 0 {
		return false
	}
	for i := range terms {
		if !terms[i].Matches(pod, nil) {
			return false
		}
	}
	return true
}

type topologyPair struct {
	key, value string
}

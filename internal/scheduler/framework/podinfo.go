package framework

import (
	"fmt"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// AffinityTerm is a parsed pod (anti-)affinity term: which pods it selects
// (label selector, in Namespaces or in namespaces whose labels match
// NamespaceSelector) and the topology key that defines "together".
type AffinityTerm struct {
	Namespaces map[string]struct{}
	// NamespaceSelector is labels.Nothing() unless the term has one
	// (HasNamespaceSelector).
	NamespaceSelector    labels.Selector
	HasNamespaceSelector bool
	Selector             labels.Selector
	TopologyKey          string
}

// Matches reports whether pod, whose namespace carries nsLabels, is
// selected by the term.
func (t *AffinityTerm) Matches(pod *v1.Pod, nsLabels labels.Set) bool {
	if _, ok := t.Namespaces[pod.Namespace]; ok || t.NamespaceSelector.Matches(nsLabels) {
		return t.Selector.Matches(labels.Set(pod.Labels))
	}
	return false
}

// WeightedAffinityTerm is a preferred term with its weight.
type WeightedAffinityTerm struct {
	AffinityTerm
	Weight int32
}

// HostPort is a port a pod binds on its node.
type HostPort struct {
	IP       string
	Protocol v1.Protocol
	Port     int32
}

// PodInfo is a pod with what the plugins need pre-computed once: its
// priority, resource requests and parsed affinity terms.
type PodInfo struct {
	Pod      *v1.Pod
	Priority int32
	// Requests is what NodeResourcesFit checks against allocatable.
	Requests Resource
	// NonZeroRequests is what the resource scorers count (CPU and memory
	// defaulted for containers that request none).
	NonZeroRequests Resource
	HostPorts       []HostPort

	RequiredAffinityTerms      []AffinityTerm
	RequiredAntiAffinityTerms  []AffinityTerm
	PreferredAffinityTerms     []WeightedAffinityTerm
	PreferredAntiAffinityTerms []WeightedAffinityTerm
	// ParseError is set when a label selector in the pod's affinity does
	// not parse; plugins then reject the pod.
	ParseError error
}

// NewPodInfo pre-computes a pod's scheduling data. priority is the resolved
// priority (spec.priority, or its PriorityClass's value).
func NewPodInfo(pod *v1.Pod, priority int32) *PodInfo {
	pi := &PodInfo{Pod: pod, Priority: priority,
		Requests: PodRequests(pod, false), NonZeroRequests: PodRequests(pod, true)}
	pi.HostPorts = podHostPorts(pod)
	if a := pod.Spec.Affinity; a != nil {
		var err error
		if pa := a.PodAffinity; pa != nil {
			if pi.RequiredAffinityTerms, err = affinityTerms(pod, pa.RequiredDuringSchedulingIgnoredDuringExecution); err != nil {
				pi.ParseError = err
			}
			if pi.PreferredAffinityTerms, err = weightedAffinityTerms(pod, pa.PreferredDuringSchedulingIgnoredDuringExecution); err != nil {
				pi.ParseError = err
			}
		}
		if pa := a.PodAntiAffinity; pa != nil {
			if pi.RequiredAntiAffinityTerms, err = affinityTerms(pod, pa.RequiredDuringSchedulingIgnoredDuringExecution); err != nil {
				pi.ParseError = err
			}
			if pi.PreferredAntiAffinityTerms, err = weightedAffinityTerms(pod, pa.PreferredDuringSchedulingIgnoredDuringExecution); err != nil {
				pi.ParseError = err
			}
		}
	}
	return pi
}

// HasAffinity reports whether the pod has any pod (anti-)affinity term.
func (pi *PodInfo) HasAffinity() bool {
	return len(pi.RequiredAffinityTerms)+len(pi.RequiredAntiAffinityTerms)+
		len(pi.PreferredAffinityTerms)+len(pi.PreferredAntiAffinityTerms) > 0
}

// Key is the pod's namespace/name.
func (pi *PodInfo) Key() string { return pi.Pod.Namespace + "/" + pi.Pod.Name }

func podHostPorts(pod *v1.Pod) []HostPort {
	var out []HostPort
	add := func(cs []v1.Container, sidecarsOnly bool) {
		for i := range cs {
			if sidecarsOnly && !isRestartable(&cs[i]) {
				continue
			}
			for _, p := range cs[i].Ports {
				if p.HostPort <= 0 {
					continue
				}
				proto := p.Protocol
				if proto == "" {
					proto = v1.ProtocolTCP
				}
				ip := p.HostIP
				if ip == "" {
					ip = "0.0.0.0"
				}
				out = append(out, HostPort{IP: ip, Protocol: proto, Port: p.HostPort})
			}
		}
	}
	add(pod.Spec.Containers, false)
	add(pod.Spec.InitContainers, true)
	return out
}

// NewAffinityTerm parses a pod affinity term of pod. Without namespaces and
// namespaceSelector the term applies to the pod's own namespace.
func NewAffinityTerm(pod *v1.Pod, term *v1.PodAffinityTerm) (AffinityTerm, error) {
	sel, err := metav1.LabelSelectorAsSelector(term.LabelSelector)
	if err != nil {
		return AffinityTerm{}, fmt.Errorf("parsing label selector: %w", err)
	}
	if len(term.MatchLabelKeys) > 0 || len(term.MismatchLabelKeys) > 0 {
		sel = withLabelKeys(sel, pod.Labels, term.MatchLabelKeys, term.MismatchLabelKeys)
	}
	nsSel, err := metav1.LabelSelectorAsSelector(term.NamespaceSelector)
	if err != nil {
		return AffinityTerm{}, fmt.Errorf("parsing namespace selector: %w", err)
	}
	ns := make(map[string]struct{}, len(term.Namespaces)+1)
	if len(term.Namespaces) == 0 && term.NamespaceSelector == nil {
		ns[pod.Namespace] = struct{}{}
	}
	for _, n := range term.Namespaces {
		ns[n] = struct{}{}
	}
	return AffinityTerm{Namespaces: ns, NamespaceSelector: nsSel, HasNamespaceSelector: term.NamespaceSelector != nil,
		Selector: sel, TopologyKey: term.TopologyKey}, nil
}

// withLabelKeys adds "key in (pod's value)" for matchLabelKeys and
// "key notin (pod's value)" for mismatchLabelKeys, for keys the pod has.
func withLabelKeys(sel labels.Selector, podLabels map[string]string, match, mismatch []string) labels.Selector {
	for _, k := range match {
		if v, ok := podLabels[k]; ok {
			if r, err := labels.NewRequirement(k, "in", []string{v}); err == nil {
				sel = sel.Add(*r)
			}
		}
	}
	for _, k := range mismatch {
		if v, ok := podLabels[k]; ok {
			if r, err := labels.NewRequirement(k, "notin", []string{v}); err == nil {
				sel = sel.Add(*r)
			}
		}
	}
	return sel
}

func affinityTerms(pod *v1.Pod, terms []v1.PodAffinityTerm) ([]AffinityTerm, error) {
	if len(terms) == 0 {
		return nil, nil
	}
	out := make([]AffinityTerm, 0, len(terms))
	for i := range terms {
		t, err := NewAffinityTerm(pod, &terms[i])
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

func weightedAffinityTerms(pod *v1.Pod, terms []v1.WeightedPodAffinityTerm) ([]WeightedAffinityTerm, error) {
	if len(terms) == 0 {
		return nil, nil
	}
	out := make([]WeightedAffinityTerm, 0, len(terms))
	for i := range terms {
		t, err := NewAffinityTerm(pod, &terms[i].PodAffinityTerm)
		if err != nil {
			return nil, err
		}
		out = append(out, WeightedAffinityTerm{AffinityTerm: t, Weight: terms[i].Weight})
	}
	return out, nil
}

// PodPriority is spec.priority, or 0 when unset.
func PodPriority(pod *v1.Pod) int32 {
	if pod.Spec.Priority != nil {
		return *pod.Spec.Priority
	}
	return 0
}

// MoreImportant reports whether a should be kept over b when choosing
// preemption victims: higher priority first, then the one running longer.
func MoreImportant(a, b *PodInfo) bool {
	if a.Priority != b.Priority {
		return a.Priority > b.Priority
	}
	return startTime(a.Pod).Before(startTime(b.Pod))
}

func startTime(p *v1.Pod) *metav1.Time {
	if p.Status.StartTime != nil {
		return p.Status.StartTime
	}
	t := p.CreationTimestamp
	return &t
}

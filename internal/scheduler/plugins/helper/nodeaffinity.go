package helper

import (
	"fmt"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
)

// NodeSelectorTerm is a parsed node selector term: label expressions and
// field (metadata.name) expressions, all of which must match.
type NodeSelectorTerm struct {
	labels labels.Selector
	fields fields.Selector
	// invalid terms match no node.
	invalid bool
}

// Match reports whether node satisfies the term.
func (t *NodeSelectorTerm) Match(node *v1.Node) bool {
	if t.invalid {
		return false
	}
	if t.labels != nil && !t.labels.Matches(labels.Set(node.Labels)) {
		return false
	}
	if t.fields != nil && !t.fields.Matches(fields.Set{"metadata.name": node.Name}) {
		return false
	}
	return true
}

// ParseNodeSelectorTerm parses a term; a term without expressions matches
// nothing, as in Kubernetes.
func ParseNodeSelectorTerm(term *v1.NodeSelectorTerm) NodeSelectorTerm {
	if len(term.MatchExpressions) == 0 && len(term.MatchFields) == 0 {
		return NodeSelectorTerm{invalid: true}
	}
	var out NodeSelectorTerm
	if len(term.MatchExpressions) > 0 {
		sel, err := requirementsAsSelector(term.MatchExpressions)
		if err != nil {
			return NodeSelectorTerm{invalid: true}
		}
		out.labels = sel
	}
	if len(term.MatchFields) > 0 {
		sel, err := fieldRequirementsAsSelector(term.MatchFields)
		if err != nil {
			return NodeSelectorTerm{invalid: true}
		}
		out.fields = sel
	}
	return out
}

// MetadataNameValues returns the node names a term pins through a
// "metadata.name In (...)" field expression, if it has one.
func MetadataNameValues(term *v1.NodeSelectorTerm) ([]string, bool) {
	for _, r := range term.MatchFields {
		if r.Key == "metadata.name" && r.Operator == v1.NodeSelectorOpIn {
			return r.Values, true
		}
	}
	return nil, false
}

func requirementsAsSelector(reqs []v1.NodeSelectorRequirement) (labels.Selector, error) {
	sel := labels.NewSelector()
	for _, r := range reqs {
		var op selection.Operator
		switch r.Operator {
		case v1.NodeSelectorOpIn:
			op = selection.In
		case v1.NodeSelectorOpNotIn:
			op = selection.NotIn
		case v1.NodeSelectorOpExists:
			op = selection.Exists
		case v1.NodeSelectorOpDoesNotExist:
			op = selection.DoesNotExist
		case v1.NodeSelectorOpGt:
			op = selection.GreaterThan
		case v1.NodeSelectorOpLt:
			op = selection.LessThan
		default:
			return nil, fmt.Errorf("%q is not a valid node selector operator", r.Operator)
		}
		req, err := labels.NewRequirement(r.Key, op, r.Values)
		if err != nil {
			return nil, err
		}
		sel = sel.Add(*req)
	}
	return sel, nil
}

func fieldRequirementsAsSelector(reqs []v1.NodeSelectorRequirement) (fields.Selector, error) {
	var sels []fields.Selector
	for _, r := range reqs {
		if r.Key != "metadata.name" || len(r.Values) != 1 {
			return nil, fmt.Errorf("unsupported field selector %q", r.Key)
		}
		switch r.Operator {
		case v1.NodeSelectorOpIn:
			sels = append(sels, fields.OneTermEqualSelector(r.Key, r.Values[0]))
		case v1.NodeSelectorOpNotIn:
			sels = append(sels, fields.OneTermNotEqualSelector(r.Key, r.Values[0]))
		default:
			return nil, fmt.Errorf("%q is not a valid field selector operator", r.Operator)
		}
	}
	return fields.AndSelectors(sels...), nil
}

// RequiredNodeAffinity is a pod's spec.nodeSelector and required node
// affinity, both of which a node must satisfy.
type RequiredNodeAffinity struct {
	selector labels.Selector
	terms    []NodeSelectorTerm
	hasTerms bool
}

// GetRequiredNodeAffinity parses the pod's node selector and required node
// affinity terms (terms are ORed).
func GetRequiredNodeAffinity(pod *v1.Pod) RequiredNodeAffinity {
	var r RequiredNodeAffinity
	if len(pod.Spec.NodeSelector) > 0 {
		r.selector = labels.SelectorFromSet(pod.Spec.NodeSelector)
	}
	if a := pod.Spec.Affinity; a != nil && a.NodeAffinity != nil && a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution != nil {
		r.hasTerms = true
		terms := a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
		for i := range terms {
			r.terms = append(r.terms, ParseNodeSelectorTerm(&terms[i]))
		}
	}
	return r
}

// IsEmpty reports whether the pod constrains nodes at all.
func (r *RequiredNodeAffinity) IsEmpty() bool { return r.selector == nil && !r.hasTerms }

// Match reports whether node satisfies the selector and one of the terms.
func (r *RequiredNodeAffinity) Match(node *v1.Node) bool {
	if r.selector != nil && !r.selector.Matches(labels.Set(node.Labels)) {
		return false
	}
	if !r.hasTerms {
		return true
	}
	for i := range r.terms {
		if r.terms[i].Match(node) {
			return true
		}
	}
	return false
}

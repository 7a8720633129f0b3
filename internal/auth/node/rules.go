package node

import (
	"slices"

	"github.com/skiff-io/skiff/internal/auth/authorizer"
)

// staticRule allows verbs on resources ("resource" or
// "resource/subresource") of one API group to every node, whatever the
// object: the part of Kubernetes' system:node role that the graph does not
// narrow down.
type staticRule struct {
	group     string
	resources []string
	verbs     []string
}

var readVerbs = []string{"get", "list", "watch"}

// staticRules are the node's fixed permissions. Nodes, pods, leases,
// csinodes and the graph-checked kinds are decided in Authorize, not here.
var staticRules = []staticRule{
	// The agent's service environment variables and the proxy's rules.
	{"", []string{"services", "endpoints"}, readVerbs},
	{"discovery.k8s.io", []string{"endpointslices"}, readVerbs},
	{"", []string{"events"}, []string{"create", "update", "patch"}},
	{"events.k8s.io", []string{"events"}, []string{"create", "update", "patch"}},
	// Certificate rotation.
	{"certificates.k8s.io", []string{"certificatesigningrequests"}, []string{"create", "get", "list", "watch"}},
	// Delegated authentication and authorization of the agent's own API.
	{"authentication.k8s.io", []string{"tokenreviews"}, []string{"create"}},
	{"authorization.k8s.io", []string{"subjectaccessreviews", "localsubjectaccessreviews"}, []string{"create"}},
	{"node.k8s.io", []string{"runtimeclasses"}, readVerbs},
	{"storage.k8s.io", []string{"volumeattachments"}, []string{"get"}},
	{"storage.k8s.io", []string{"csidrivers"}, readVerbs},
}

// staticAllows reports whether a static rule covers the request.
func staticAllows(a authorizer.Attributes) bool {
	resource := a.Resource
	if a.Subresource != "" {
		resource += "/" + a.Subresource
	}
	for _, r := range staticRules {
		if r.group == a.APIGroup && slices.Contains(r.resources, resource) && slices.Contains(r.verbs, a.Verb) {
			return true
		}
	}
	return false
}

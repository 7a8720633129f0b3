package node

import (
	"context"
	"testing"

	"github.com/skiff-io/skiff/internal/auth/authorizer"
)

// TestAgentCallsAllowed lists every request the node agent and the proxy
// (which runs with the agent's identity) make, so that a change to the
// rules that would break a real agent fails here.
func TestAgentCallsAllowed(t *testing.T) {
	calls := []authorizer.Attributes{
		// nodeloop.go: register, status, pod CIDR, lease.
		res("get", "", "nodes", "", "", "a"),
		res("create", "", "nodes", "", "", ""),
		res("update", "", "nodes", "status", "", "a"),
		res("patch", "coordination.k8s.io", "leases", "", "kube-node-lease", "a"),
		res("create", "coordination.k8s.io", "leases", "", "kube-node-lease", ""),
		// agent.go: pod informer (field selector spec.nodeName) and events.
		res("list", "", "pods", "", "", ""),
		res("watch", "", "pods", "", "", ""),
		res("create", "", "events", "", "ns", ""),
		res("patch", "", "events", "", "ns", "e1"),
		// pods: status and final deletion of its pods.
		res("update", "", "pods", "status", "ns", "web"),
		res("get", "", "pods", "", "ns", "web"),
		res("delete", "", "pods", "", "ns", "web"),
		// adapters.go: volume and environment sources of its pods.
		res("get", "", "configmaps", "", "ns", "vol-cm"),
		res("get", "", "secrets", "", "ns", "vol-secret"),
		res("get", "", "persistentvolumeclaims", "", "ns", "data"),
		res("get", "", "persistentvolumes", "", "", "pv-data"),
		// Projected service account tokens of its pods.
		res("create", "", "serviceaccounts", "token", "ns", "web-sa"),
		// Service environment variables and the proxy.
		res("list", "", "services", "", "", ""),
		res("watch", "", "services", "", "", ""),
		res("list", "discovery.k8s.io", "endpointslices", "", "", ""),
		res("watch", "discovery.k8s.io", "endpointslices", "", "", ""),
		res("list", "", "nodes", "", "", ""),
		res("watch", "", "nodes", "", "", ""),
	}
	az := New(fixture())
	for _, a := range calls {
		got, reason, err := az.Authorize(context.Background(), a)
		if got != authorizer.Allow || err != nil {
			t.Errorf("%s %s/%s/%s %s/%s = %v, %q, %v; want Allow", a.Verb, a.APIGroup, a.Resource, a.Subresource, a.Namespace, a.Name, got, reason, err)
		}
	}
}

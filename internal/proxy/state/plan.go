package state

// Plan is what a backend programs for one Service port, decided the same
// way for every backend (following kube-proxy).
type Plan struct {
	Categorized
	// Internal are the endpoints ClusterIP traffic goes to; External
	// those NodePort, external-IP and load-balancer traffic goes to.
	Internal, External []Endpoint
	// UsesCluster and UsesLocal say whether the cluster-policy chain
	// (every usable endpoint) and the local-policy chain (this node's)
	// are needed.
	UsesCluster, UsesLocal bool
	// Reject says traffic with no endpoint to go to is rejected (the
	// Service has no usable endpoint anywhere, so clients should fail
	// fast); otherwise it is dropped (only a Local policy leaves it
	// without one).
	Reject bool
}

// PlanFor decides how sp is programmed on node nodeName.
func PlanFor(sp *ServicePort, nodeName string) Plan {
	c := Categorize(sp, nodeName)
	return Plan{
		Categorized: c,
		Internal:    c.InternalEndpoints(sp),
		External:    c.ExternalEndpoints(sp),
		// With external policy Local, pods and the node itself still
		// reach every endpoint through the external addresses.
		UsesCluster: len(c.Cluster) > 0 && (!sp.InternalPolicyLocal || sp.External()),
		UsesLocal:   len(c.Local) > 0 && (sp.InternalPolicyLocal || sp.ExternalPolicyLocal),
		Reject:      len(c.Cluster) == 0 && len(c.Local) == 0,
	}
}

package state

// usable picks the endpoints that receive new connections among eps:
// the ready ones, or, when none is ready, the ones still serving while
// terminating (Kubernetes' terminating-endpoint fallback).
func usable(eps []Endpoint) []Endpoint {
	var ready, terminating []Endpoint
	for _, e := range eps {
		switch {
		case e.Ready:
			ready = append(ready, e)
		case e.Serving && e.Terminating:
			terminating = append(terminating, e)
		}
	}
	if len(ready) > 0 {
		return ready
	}
	return terminating
}

// Categorized is the result of sorting a Service port's endpoints by the
// traffic policies.
type Categorized struct {
	// Cluster are the endpoints for cluster-wide policy.
	Cluster []Endpoint
	// Local are the endpoints on this node, for Local policies.
	Local []Endpoint
}

// Categorize splits sp's endpoints for node nodeName.
func Categorize(sp *ServicePort, nodeName string) Categorized {
	c := Categorized{Cluster: usable(sp.Endpoints)}
	var local []Endpoint
	for _, e := range sp.Endpoints {
		if e.NodeName != "" && e.NodeName == nodeName {
			local = append(local, e)
		}
	}
	c.Local = usable(local)
	return c
}

// InternalEndpoints are the endpoints ClusterIP traffic goes to.
func (c Categorized) InternalEndpoints(sp *ServicePort) []Endpoint {
	if sp.InternalPolicyLocal {
		return c.Local
	}
	return c.Cluster
}

// ExternalEndpoints are the endpoints NodePort, external-IP and
// load-balancer traffic from outside the node goes to.
func (c Categorized) ExternalEndpoints(sp *ServicePort) []Endpoint {
	if sp.ExternalPolicyLocal {
		return c.Local
	}
	return c.Cluster
}

package state

import "slices"

// Equal reports whether sp and o program the same rules: every field,
// the endpoints included, is equal.
func (sp *ServicePort) Equal(o *ServicePort) bool {
	return sp.Namespace == o.Namespace && sp.Name == o.Name && sp.PortName == o.PortName &&
		sp.Protocol == o.Protocol && sp.ClusterIP == o.ClusterIP && sp.Port == o.Port &&
		sp.NodePort == o.NodePort && sp.ExternalPolicyLocal == o.ExternalPolicyLocal &&
		sp.InternalPolicyLocal == o.InternalPolicyLocal && sp.AffinitySeconds == o.AffinitySeconds &&
		slices.Equal(sp.ExternalIPs, o.ExternalIPs) && slices.Equal(sp.LoadBalancerIPs, o.LoadBalancerIPs) &&
		slices.Equal(sp.Endpoints, o.Endpoints)
}

// Clone is a deep copy of sp, sharing nothing with it, so that a cache
// can keep it while the caller reuses sp's slices.
func (sp *ServicePort) Clone() ServicePort {
	c := *sp
	c.ExternalIPs = slices.Clone(sp.ExternalIPs)
	c.LoadBalancerIPs = slices.Clone(sp.LoadBalancerIPs)
	c.Endpoints = slices.Clone(sp.Endpoints)
	return c
}

// SameGlobals reports whether a and b agree on everything but their
// Services: the inputs every Service port's rules depend on.
func SameGlobals(a, b *State) bool {
	return a.NodeName == b.NodeName && a.ClusterCIDR == b.ClusterCIDR && slices.Equal(a.NodePortIPs, b.NodePortIPs)
}

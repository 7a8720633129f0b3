package dns

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/client-go/tools/cache"
)

// Store is the cluster state the resolver reads. Implementations must be
// safe for concurrent use and must not be mutated by callers.
type Store interface {
	// Service returns the Service ns/name, or nil.
	Service(ns, name string) *corev1.Service
	// EndpointSlices returns the EndpointSlices of the Service ns/name.
	EndpointSlices(ns, name string) []*discoveryv1.EndpointSlice
	// ServicesByIP returns the Services with ip among their ClusterIPs.
	ServicesByIP(ip string) []*corev1.Service
	// EndpointSlicesByIP returns the EndpointSlices with an endpoint at ip.
	EndpointSlicesByIP(ip string) []*discoveryv1.EndpointSlice
	// HasNamespace reports whether the namespace has any Service.
	HasNamespace(ns string) bool
	// PodsByIP returns the pods with ip among their pod IPs (only needed
	// for PodsVerified).
	PodsByIP(ip string) []*corev1.Pod
}

// Index names of the informer store.
const (
	indexClusterIP = "dns.clusterIP"
	indexService   = "dns.service"
	indexAddress   = "dns.address"
	indexPodIP     = "dns.podIP"
	labelSvcName   = discoveryv1.LabelServiceName
	clusterIPNone  = corev1.ClusterIPNone
)

// serviceIndexers index Services by ClusterIP (the namespace index comes
// with the informer).
func serviceIndexers() cache.Indexers {
	return cache.Indexers{
		indexClusterIP: func(obj interface{}) ([]string, error) {
			svc, ok := obj.(*corev1.Service)
			if !ok {
				return nil, nil
			}
			return serviceIPs(svc), nil
		},
	}
}

// sliceIndexers index EndpointSlices by Service and by address.
func sliceIndexers() cache.Indexers {
	return cache.Indexers{
		indexService: func(obj interface{}) ([]string, error) {
			s, ok := obj.(*discoveryv1.EndpointSlice)
			if !ok || s.Labels[labelSvcName] == "" {
				return nil, nil
			}
			return []string{s.Namespace + "/" + s.Labels[labelSvcName]}, nil
		},
		indexAddress: func(obj interface{}) ([]string, error) {
			s, ok := obj.(*discoveryv1.EndpointSlice)
			if !ok {
				return nil, nil
			}
			var ips []string
			for _, ep := range s.Endpoints {
				ips = append(ips, ep.Addresses...)
			}
			return ips, nil
		},
	}
}

// podIndexers index pods by pod IP.
func podIndexers() cache.Indexers {
	return cache.Indexers{indexPodIP: func(obj interface{}) ([]string, error) {
		p, ok := obj.(*corev1.Pod)
		if !ok {
			return nil, nil
		}
		var ips []string
		for _, ip := range p.Status.PodIPs {
			ips = append(ips, ip.IP)
		}
		if len(ips) == 0 && p.Status.PodIP != "" {
			ips = append(ips, p.Status.PodIP)
		}
		return ips, nil
	}}
}

// serviceIPs are the ClusterIPs of a Service, none for headless and
// ExternalName Services.
func serviceIPs(svc *corev1.Service) []string {
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		return nil
	}
	ips := svc.Spec.ClusterIPs
	if len(ips) == 0 && svc.Spec.ClusterIP != "" {
		ips = []string{svc.Spec.ClusterIP}
	}
	var out []string
	for _, ip := range ips {
		if ip != "" && ip != clusterIPNone {
			out = append(out, ip)
		}
	}
	return out
}

// informerStore is a Store over informer indexers.
type informerStore struct {
	services cache.Indexer
	slices   cache.Indexer
	pods     cache.Indexer // nil unless pods are verified
}

func (s *informerStore) Service(ns, name string) *corev1.Service {
	obj, ok, err := s.services.GetByKey(ns + "/" + name)
	if err != nil || !ok {
		return nil
	}
	svc, _ := obj.(*corev1.Service)
	return svc
}

func (s *informerStore) EndpointSlices(ns, name string) []*discoveryv1.EndpointSlice {
	return typed[*discoveryv1.EndpointSlice](s.slices, indexService, ns+"/"+name)
}

func (s *informerStore) ServicesByIP(ip string) []*corev1.Service {
	return typed[*corev1.Service](s.services, indexClusterIP, ip)
}

func (s *informerStore) EndpointSlicesByIP(ip string) []*discoveryv1.EndpointSlice {
	return typed[*discoveryv1.EndpointSlice](s.slices, indexAddress, ip)
}

func (s *informerStore) HasNamespace(ns string) bool {
	keys, err := s.services.IndexKeys(cache.NamespaceIndex, ns)
	return err == nil && len(keys) > 0
}

func (s *informerStore) PodsByIP(ip string) []*corev1.Pod {
	if s.pods == nil {
		return nil
	}
	return typed[*corev1.Pod](s.pods, indexPodIP, ip)
}

func typed[T any](idx cache.Indexer, index, value string) []T {
	objs, err := idx.ByIndex(index, value)
	if err != nil {
		return nil
	}
	out := make([]T, 0, len(objs))
	for _, o := range objs {
		if t, ok := o.(T); ok {
			out = append(out, t)
		}
	}
	return out
}

func addIndexers(inf cache.SharedIndexInformer, idx cache.Indexers) error {
	if err := inf.AddIndexers(idx); err != nil {
		return fmt.Errorf("dns: add indexers: %w", err)
	}
	return nil
}

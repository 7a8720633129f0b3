package core

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/skiff-io/skiff/internal/registry"
)

// svcDefaultAffinityTimeout is the ClientIP session affinity timeout
// Kubernetes defaults to (three hours).
const svcDefaultAffinityTimeout = int32(corev1.DefaultClientIPServiceAffinitySeconds)

// Services returns the core/v1 services resource for a single-stack IPv4
// cluster. See NewServices.
func Services() *registry.Resource {
	return NewServices(corev1.IPv4Protocol)
}

// NewServices returns the core/v1 services resource for a single-stack
// cluster whose service CIDR has the given family. Cluster IPs and node ports
// are allocated by the store, not by the strategy: the store should allocate
// when ServiceNeedsClusterIP / ServiceNodePortsNeeded /
// ServiceNeedsHealthCheckNodePort say so, after PrepareForCreate or
// PrepareForUpdate (which normalise clusterIP/clusterIPs, keep previously
// allocated values on update and default ipFamilies/ipFamilyPolicy).
func NewServices(family corev1.IPFamily) *registry.Resource {
	return &registry.Resource{
		Version:      "v1",
		Resource:     "services",
		Kind:         "Service",
		Singular:     "service",
		ShortNames:   []string{"svc"},
		Categories:   []string{"all"},
		Namespaced:   true,
		ValidateName: apivalidation.NameIsDNS1035Label,
		New:          func() runtime.Object { return &corev1.Service{} },
		NewList:      func() runtime.Object { return &corev1.ServiceList{} },
		Strategy:     svcStrategy{family: family},
		Subresources: []registry.Subresource{registry.StatusSubresource},
	}
}

// ServiceNeedsClusterIP reports whether the store must allocate a cluster IP
// for svc: it is not ExternalName, not headless and has none yet. The store
// sets both spec.clusterIP and spec.clusterIPs[0] to the allocated address.
func ServiceNeedsClusterIP(svc *corev1.Service) bool {
	return svc.Spec.Type != corev1.ServiceTypeExternalName && svc.Spec.ClusterIP == "" && len(svc.Spec.ClusterIPs) == 0
}

// ServiceNodePortsNeeded returns the indexes of svc.Spec.Ports that need a
// node port allocated: ports without one on NodePort services, and on
// LoadBalancer services unless allocateLoadBalancerNodePorts is false.
func ServiceNodePortsNeeded(svc *corev1.Service) []int {
	if !svcNeedsNodePorts(svc) {
		return nil
	}
	var idx []int
	for i := range svc.Spec.Ports {
		if svc.Spec.Ports[i].NodePort == 0 {
			idx = append(idx, i)
		}
	}
	return idx
}

// ServiceNeedsHealthCheckNodePort reports whether the store must allocate
// spec.healthCheckNodePort: LoadBalancer services with
// externalTrafficPolicy Local that have none yet.
func ServiceNeedsHealthCheckNodePort(svc *corev1.Service) bool {
	return svcNeedsHealthCheck(svc) && svc.Spec.HealthCheckNodePort == 0
}

func svcNeedsNodePorts(svc *corev1.Service) bool {
	switch svc.Spec.Type {
	case corev1.ServiceTypeNodePort:
		return true
	case corev1.ServiceTypeLoadBalancer:
		return svc.Spec.AllocateLoadBalancerNodePorts == nil || *svc.Spec.AllocateLoadBalancerNodePorts
	}
	return false
}

// svcUsesNodePorts reports whether the type may carry node ports at all.
func svcUsesNodePorts(svc *corev1.Service) bool {
	return svc.Spec.Type == corev1.ServiceTypeNodePort || svc.Spec.Type == corev1.ServiceTypeLoadBalancer
}

func svcNeedsHealthCheck(svc *corev1.Service) bool {
	return svc.Spec.Type == corev1.ServiceTypeLoadBalancer && svc.Spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal
}

// svcExternallyAccessible mirrors Kubernetes: node ports, load balancers and
// cluster IPs with external IPs receive traffic from outside the cluster.
func svcExternallyAccessible(svc *corev1.Service) bool {
	return svcUsesNodePorts(svc) || (svc.Spec.Type == corev1.ServiceTypeClusterIP && len(svc.Spec.ExternalIPs) > 0)
}

func svcIsHeadless(svc *corev1.Service) bool {
	return len(svc.Spec.ClusterIPs) == 1 && svc.Spec.ClusterIPs[0] == corev1.ClusterIPNone
}

// svcStrategy implements services' behaviour. family is the service CIDR's
// IP family.
type svcStrategy struct {
	registry.DefaultStrategy
	family corev1.IPFamily
}

// Default applies Kubernetes' service defaults.
func (svcStrategy) Default(obj runtime.Object) {
	svc := obj.(*corev1.Service)
	spec := &svc.Spec
	if spec.SessionAffinity == "" {
		spec.SessionAffinity = corev1.ServiceAffinityNone
	}
	switch spec.SessionAffinity {
	case corev1.ServiceAffinityNone:
		spec.SessionAffinityConfig = nil
	case corev1.ServiceAffinityClientIP:
		c := spec.SessionAffinityConfig
		if c == nil || c.ClientIP == nil || c.ClientIP.TimeoutSeconds == nil {
			t := svcDefaultAffinityTimeout
			spec.SessionAffinityConfig = &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: &t}}
		}
	}
	if spec.Type == "" {
		spec.Type = corev1.ServiceTypeClusterIP
	}
	for i := range spec.Ports {
		p := &spec.Ports[i]
		if p.Protocol == "" {
			p.Protocol = corev1.ProtocolTCP
		}
		if p.TargetPort == intstr.FromInt32(0) || p.TargetPort == intstr.FromString("") {
			p.TargetPort = intstr.FromInt32(p.Port)
		}
	}
	if svcExternallyAccessible(svc) && spec.ExternalTrafficPolicy == "" {
		spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyCluster
	}
	if spec.InternalTrafficPolicy == nil && (svcUsesNodePorts(svc) || spec.Type == corev1.ServiceTypeClusterIP) {
		p := corev1.ServiceInternalTrafficPolicyCluster
		spec.InternalTrafficPolicy = &p
	}
	if spec.Type == corev1.ServiceTypeLoadBalancer {
		if spec.AllocateLoadBalancerNodePorts == nil {
			t := true
			spec.AllocateLoadBalancerNodePorts = &t
		}
		for i := range svc.Status.LoadBalancer.Ingress {
			ing := &svc.Status.LoadBalancer.Ingress[i]
			if ing.IP != "" && ing.IPMode == nil {
				m := corev1.LoadBalancerIPModeVIP
				ing.IPMode = &m
			}
		}
	}
}

// PrepareForCreate clears status, syncs clusterIPs with clusterIP and
// defaults the IP family fields.
func (s svcStrategy) PrepareForCreate(obj runtime.Object) {
	svc := obj.(*corev1.Service)
	svc.Status = corev1.ServiceStatus{}
	svcNormalizeClusterIPs(svc, nil)
	s.initIPFamilies(svc, nil)
}

// PrepareForUpdate keeps status and the values allocated for old, syncs
// clusterIPs with clusterIP and clears fields the new type does not use.
func (s svcStrategy) PrepareForUpdate(obj, old runtime.Object) {
	svc, oldSvc := obj.(*corev1.Service), old.(*corev1.Service)
	svcPatchAllocated(svc, oldSvc)
	svcNormalizeClusterIPs(svc, oldSvc)
	svc.Status = *oldSvc.Status.DeepCopy()
	svcDropTypeDependentFields(svc, oldSvc)
	s.initIPFamilies(svc, oldSvc)
}

// PrepareForStatusUpdate keeps everything but status from old.
func (svcStrategy) PrepareForStatusUpdate(obj, old runtime.Object) {
	svc, oldSvc := obj.(*corev1.Service), old.(*corev1.Service)
	svc.Spec = *oldSvc.Spec.DeepCopy()
}

// Validate checks a new service.
func (s svcStrategy) Validate(obj runtime.Object) field.ErrorList {
	svc := obj.(*corev1.Service)
	return append(svcValidate(svc), s.validateFamilies(svc)...)
}

// ValidateUpdate checks a service update, including the immutability of
// allocated cluster IPs and IP families.
func (s svcStrategy) ValidateUpdate(obj, old runtime.Object) field.ErrorList {
	svc, oldSvc := obj.(*corev1.Service), old.(*corev1.Service)
	errs := svcValidateClusterIPsUpdate(oldSvc, svc)
	errs = append(errs, svcValidateIPFamiliesUpdate(oldSvc, svc)...)
	errs = append(errs, svcValidateLoadBalancerClass(oldSvc, svc)...)
	if svcNeedsHealthCheck(oldSvc) && svcNeedsHealthCheck(svc) && svc.Spec.HealthCheckNodePort != oldSvc.Spec.HealthCheckNodePort {
		errs = append(errs, field.Forbidden(field.NewPath("spec", "healthCheckNodePort"), "field is immutable"))
	}
	errs = append(errs, svcValidate(svc)...)
	return append(errs, s.validateFamilies(svc)...)
}

// ValidateStatusUpdate checks the load balancer status.
func (svcStrategy) ValidateStatusUpdate(obj, _ runtime.Object) field.ErrorList {
	svc := obj.(*corev1.Service)
	return svcValidateLBStatus(&svc.Status.LoadBalancer, field.NewPath("status", "loadBalancer"), &svc.Spec)
}

// SelectableFields adds spec.clusterIP and spec.type.
func (svcStrategy) SelectableFields(obj runtime.Object) fields.Set {
	svc := obj.(*corev1.Service)
	return fields.Set{"spec.clusterIP": svc.Spec.ClusterIP, "spec.type": string(svc.Spec.Type)}
}

// TableColumns are kubectl's service columns.
func (svcStrategy) TableColumns() []metav1.TableColumnDefinition {
	d := corev1.ServiceSpec{}.SwaggerDoc()
	return []metav1.TableColumnDefinition{
		commonNameColumn(),
		commonColumn("Type", "string", d["type"]),
		commonColumn("Cluster-IP", "string", d["clusterIP"]),
		commonColumn("External-IP", "string", d["externalIPs"]),
		commonColumn("Port(s)", "string", d["ports"]),
		commonAgeColumn(),
		commonWideColumn("Selector", "string", d["selector"]),
	}
}

// TableRow renders one service.
func (svcStrategy) TableRow(obj runtime.Object) []interface{} {
	svc := obj.(*corev1.Service)
	clusterIP := "<none>"
	if len(svc.Spec.ClusterIPs) > 0 {
		clusterIP = svc.Spec.ClusterIPs[0]
	}
	ports := svcPortsString(svc.Spec.Ports)
	if ports == "" {
		ports = "<none>"
	}
	return []interface{}{svc.Name, string(svc.Spec.Type), clusterIP, svcExternalIP(svc), ports,
		commonAge(svc.CreationTimestamp), labels.FormatLabels(svc.Spec.Selector)}
}

// svcPortsString renders ports as "80/TCP" or "80:30080/TCP".
func svcPortsString(ports []corev1.ServicePort) string {
	pieces := make([]string, len(ports))
	for i, p := range ports {
		if p.NodePort > 0 {
			pieces[i] = fmt.Sprintf("%d:%d/%s", p.Port, p.NodePort, p.Protocol)
		} else {
			pieces[i] = fmt.Sprintf("%d/%s", p.Port, p.Protocol)
		}
	}
	return strings.Join(pieces, ",")
}

// svcExternalIP renders the EXTERNAL-IP column as kubectl's wide output
// does (the server always renders wide cells).
func svcExternalIP(svc *corev1.Service) string {
	switch svc.Spec.Type {
	case corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort:
		if len(svc.Spec.ExternalIPs) > 0 {
			return strings.Join(svc.Spec.ExternalIPs, ",")
		}
		return "<none>"
	case corev1.ServiceTypeLoadBalancer:
		seen := map[string]bool{}
		var lb []string
		for _, ing := range svc.Status.LoadBalancer.Ingress {
			v := ing.IP
			if v == "" {
				v = ing.Hostname
			}
			if v != "" && !seen[v] {
				seen[v] = true
				lb = append(lb, v)
			}
		}
		sort.Strings(lb)
		all := append(lb, svc.Spec.ExternalIPs...)
		if len(all) == 0 {
			return "<pending>"
		}
		return strings.Join(all, ",")
	case corev1.ServiceTypeExternalName:
		return svc.Spec.ExternalName
	}
	return "<unknown>"
}

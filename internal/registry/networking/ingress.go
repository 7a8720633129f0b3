package networking

import (
	"fmt"
	"sort"
	"strings"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/skiff-io/skiff/internal/registry"
)

// ingressClassAnnotation is the pre-IngressClass way of choosing a class; it
// must agree with spec.ingressClassName when both are given.
const ingressClassAnnotation = "kubernetes.io/ingress.class"

// Ingresses returns the networking.k8s.io/v1 Ingress resource. It has a
// status subresource; pathType has no default and must be given.
func Ingresses() *registry.Resource {
	return &registry.Resource{
		Group:        groupName,
		Version:      "v1",
		Resource:     "ingresses",
		Kind:         "Ingress",
		Singular:     "ingress",
		ShortNames:   []string{"ing"},
		Namespaced:   true,
		New:          func() runtime.Object { return &networkingv1.Ingress{} },
		NewList:      func() runtime.Object { return &networkingv1.IngressList{} },
		Strategy:     ingressStrategy{now: time.Now},
		Subresources: []registry.Subresource{registry.StatusSubresource},
	}
}

type ingressStrategy struct {
	registry.DefaultStrategy
	now clock
}

var (
	_ registry.StatusStrategy = ingressStrategy{}
	_ registry.TableConvertor = ingressStrategy{}
)

func (ingressStrategy) PrepareForCreate(obj runtime.Object) {
	if ing, ok := obj.(*networkingv1.Ingress); ok {
		ing.Status = networkingv1.IngressStatus{}
	}
}

func (ingressStrategy) PrepareForUpdate(obj, old runtime.Object) {
	ing, ok1 := obj.(*networkingv1.Ingress)
	prev, ok2 := old.(*networkingv1.Ingress)
	if ok1 && ok2 {
		ing.Status = *prev.Status.DeepCopy()
	}
}

func (ingressStrategy) PrepareForStatusUpdate(obj, old runtime.Object) {
	ing, ok1 := obj.(*networkingv1.Ingress)
	prev, ok2 := old.(*networkingv1.Ingress)
	if ok1 && ok2 {
		ing.Spec = *prev.Spec.DeepCopy()
	}
}

func (ingressStrategy) Validate(obj runtime.Object) field.ErrorList {
	ing, ok := obj.(*networkingv1.Ingress)
	if !ok {
		return wrongType(obj)
	}
	errs := validateIngressSpec(&ing.Spec, field.NewPath("spec"), ingressOptions{})
	if class, set := ing.Annotations[ingressClassAnnotation]; set && ing.Spec.IngressClassName != nil && class != *ing.Spec.IngressClassName {
		errs = append(errs, field.Invalid(field.NewPath("annotations").Child(ingressClassAnnotation), class,
			"must match `ingressClassName` when both are specified"))
	}
	return errs
}

func (ingressStrategy) ValidateUpdate(obj, old runtime.Object) field.ErrorList {
	ing, ok1 := obj.(*networkingv1.Ingress)
	prev, ok2 := old.(*networkingv1.Ingress)
	if !ok1 || !ok2 {
		return wrongType(obj)
	}
	// Objects stored before a check was tightened must stay updatable, so
	// the checks they already fail are relaxed for them.
	opts := ingressOptions{
		allowInvalidSecretName:       hasInvalidSecretName(prev),
		allowInvalidWildcardHostRule: hasInvalidWildcardRule(prev),
	}
	return validateIngressSpec(&ing.Spec, field.NewPath("spec"), opts)
}

func (ingressStrategy) ValidateStatusUpdate(obj, old runtime.Object) field.ErrorList {
	ing, ok1 := obj.(*networkingv1.Ingress)
	prev, ok2 := old.(*networkingv1.Ingress)
	if !ok1 || !ok2 {
		return wrongType(obj)
	}
	return validateIngressLoadBalancer(&ing.Status.LoadBalancer, &prev.Status.LoadBalancer, field.NewPath("status", "loadBalancer"))
}

func (ingressStrategy) TableColumns() []metav1.TableColumnDefinition {
	return []metav1.TableColumnDefinition{
		nameColumn(),
		{Name: "Class", Type: "string", Description: "Name of the IngressClass that handles this ingress"},
		{Name: "Hosts", Type: "string", Description: "Hosts the ingress rules match requests against"},
		{Name: "Address", Type: "string", Description: "Addresses of the load balancer serving the ingress"},
		{Name: "Ports", Type: "string", Description: "Ports the ingress serves, 443 when TLS is configured"},
		ageColumn(),
	}
}

func (s ingressStrategy) TableRow(obj runtime.Object) []interface{} {
	ing, ok := obj.(*networkingv1.Ingress)
	if !ok {
		return nil
	}
	class := "<none>"
	if ing.Spec.IngressClassName != nil {
		class = *ing.Spec.IngressClassName
	}
	ports := "80"
	if len(ing.Spec.TLS) > 0 {
		ports = "80, 443"
	}
	return []interface{}{ing.Name, class, ingressHosts(ing.Spec.Rules), ingressAddresses(ing.Status.LoadBalancer), ports, age(ing.CreationTimestamp, s.now())}
}

// ingressHosts lists up to four rule hosts, "*" when no rule names one.
// Like kubectl, the "more" count is of rules, not of hosts.
func ingressHosts(rules []networkingv1.IngressRule) string {
	const shown = 4
	var hosts []string
	more := false
	for _, r := range rules {
		if len(hosts) == shown {
			more = true
			break
		}
		if r.Host != "" {
			hosts = append(hosts, r.Host)
		}
	}
	if len(hosts) == 0 {
		return "*"
	}
	out := strings.Join(hosts, ",")
	if more {
		out += fmt.Sprintf(" + %d more...", len(rules)-shown)
	}
	return out
}

// ingressAddresses lists the distinct load-balancer IPs (or hostnames when
// an entry has no IP), sorted.
func ingressAddresses(lb networkingv1.IngressLoadBalancerStatus) string {
	seen := map[string]bool{}
	var addrs []string
	for _, in := range lb.Ingress {
		a := in.IP
		if a == "" {
			a = in.Hostname
		}
		if a != "" && !seen[a] {
			seen[a] = true
			addrs = append(addrs, a)
		}
	}
	sort.Strings(addrs)
	return strings.Join(addrs, ",")
}

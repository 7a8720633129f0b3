package networking

import (
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/skiff-io/skiff/internal/registry"
)

// maxControllerLength bounds spec.controller of an IngressClass.
const maxControllerLength = 250

var supportedParameterScopes = []string{
	networkingv1.IngressClassParametersReferenceScopeCluster,
	networkingv1.IngressClassParametersReferenceScopeNamespace,
}

// IngressClasses returns the cluster-scoped networking.k8s.io/v1
// IngressClass resource. spec.controller is required and immutable;
// spec.parameters.scope defaults to Cluster.
func IngressClasses() *registry.Resource {
	return &registry.Resource{
		Group:      groupName,
		Version:    "v1",
		Resource:   "ingressclasses",
		Kind:       "IngressClass",
		Singular:   "ingressclass",
		Namespaced: false,
		New:        func() runtime.Object { return &networkingv1.IngressClass{} },
		NewList:    func() runtime.Object { return &networkingv1.IngressClassList{} },
		Strategy:   ingressClassStrategy{now: time.Now},
	}
}

type ingressClassStrategy struct {
	registry.DefaultStrategy
	now clock
}

var _ registry.TableConvertor = ingressClassStrategy{}

func (ingressClassStrategy) Default(obj runtime.Object) {
	ic, ok := obj.(*networkingv1.IngressClass)
	if !ok {
		return
	}
	if p := ic.Spec.Parameters; p != nil && p.Scope == nil {
		scope := networkingv1.IngressClassParametersReferenceScopeCluster
		p.Scope = &scope
	}
}

func (ingressClassStrategy) Validate(obj runtime.Object) field.ErrorList {
	ic, ok := obj.(*networkingv1.IngressClass)
	if !ok {
		return wrongType(obj)
	}
	return validateIngressClassSpec(&ic.Spec, field.NewPath("spec"))
}

func (s ingressClassStrategy) ValidateUpdate(obj, old runtime.Object) field.ErrorList {
	ic, ok1 := obj.(*networkingv1.IngressClass)
	prev, ok2 := old.(*networkingv1.IngressClass)
	if !ok1 || !ok2 {
		return wrongType(obj)
	}
	errs := apivalidation.ValidateImmutableField(ic.Spec.Controller, prev.Spec.Controller, field.NewPath("spec", "controller"))
	return append(errs, validateIngressClassSpec(&ic.Spec, field.NewPath("spec"))...)
}

func validateIngressClassSpec(spec *networkingv1.IngressClassSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	cp := p.Child("controller")
	if spec.Controller == "" {
		errs = append(errs, field.Required(cp, ""))
	} else {
		if len(spec.Controller) > maxControllerLength {
			errs = append(errs, field.TooLong(cp, "", maxControllerLength))
		}
		errs = append(errs, validation.IsDomainPrefixedPath(cp, spec.Controller)...)
	}
	if params := spec.Parameters; params != nil {
		errs = append(errs, validateIngressClassParameters(params, p.Child("parameters"))...)
	}
	return errs
}

func validateIngressClassParameters(params *networkingv1.IngressClassParametersReference, p *field.Path) field.ErrorList {
	errs := validateReferenceFields(params.APIGroup, params.Kind, params.Name, p)
	if params.Scope == nil {
		return append(errs, field.Required(p.Child("scope"), ""))
	}
	switch *params.Scope {
	case networkingv1.IngressClassParametersReferenceScopeNamespace:
		if params.Namespace == nil {
			errs = append(errs, field.Required(p.Child("namespace"), "`parameters.scope` is set to 'Namespace'"))
		} else {
			for _, msg := range apivalidation.ValidateNamespaceName(*params.Namespace, false) {
				errs = append(errs, field.Invalid(p.Child("namespace"), *params.Namespace, msg))
			}
		}
	case networkingv1.IngressClassParametersReferenceScopeCluster:
		if params.Namespace != nil {
			errs = append(errs, field.Forbidden(p.Child("namespace"), "`parameters.scope` is set to 'Cluster'"))
		}
	default:
		errs = append(errs, field.NotSupported(p.Child("scope"), *params.Scope, supportedParameterScopes))
	}
	return errs
}

func (ingressClassStrategy) TableColumns() []metav1.TableColumnDefinition {
	return []metav1.TableColumnDefinition{
		nameColumn(),
		{Name: "Controller", Type: "string", Description: "Controller that implements ingresses of this class"},
		{Name: "Parameters", Type: "string", Description: "Resource holding further configuration for the controller"},
		ageColumn(),
	}
}

func (s ingressClassStrategy) TableRow(obj runtime.Object) []interface{} {
	ic, ok := obj.(*networkingv1.IngressClass)
	if !ok {
		return nil
	}
	params := "<none>"
	if p := ic.Spec.Parameters; p != nil {
		params = p.Kind
		if p.APIGroup != nil {
			params += "." + *p.APIGroup
		}
		params += "/" + p.Name
	}
	return []interface{}{ic.Name, ic.Spec.Controller, params, age(ic.CreationTimestamp, s.now())}
}

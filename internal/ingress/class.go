package ingress

import (
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const (
	// ClassName is the IngressClass Skiff creates.
	ClassName = "skiff"
	// ControllerName is the spec.controller of IngressClasses this
	// controller serves.
	ControllerName = "skiff.io/ingress"
	// legacyClassAnnotation is the deprecated way to name a class.
	legacyClassAnnotation = "kubernetes.io/ingress.class"
)

// DefaultClass is the IngressClass created when missing: "skiff",
// marked as the cluster's default.
func DefaultClass() *networkingv1.IngressClass {
	return &networkingv1.IngressClass{
		ObjectMeta: metav1.ObjectMeta{Name: ClassName,
			Annotations: map[string]string{networkingv1.AnnotationIsDefaultIngressClass: "true"}},
		Spec: networkingv1.IngressClassSpec{Controller: ControllerName},
	}
}

// Serves reports whether an Ingress belongs to this controller: its
// class (spec.ingressClassName, else the deprecated annotation) is an
// IngressClass whose controller is skiff.io/ingress; an Ingress without
// a class belongs to it when one of those classes is marked default.
func Serves(ing *networkingv1.Ingress, classes []*networkingv1.IngressClass) bool {
	name := ""
	switch {
	case ing.Spec.IngressClassName != nil:
		name = *ing.Spec.IngressClassName
	case ing.Annotations[legacyClassAnnotation] != "":
		name = ing.Annotations[legacyClassAnnotation]
	}
	for _, c := range classes {
		if c.Spec.Controller != ControllerName {
			continue
		}
		if name == "" && c.Annotations[networkingv1.AnnotationIsDefaultIngressClass] == "true" {
			return true
		}
		if name != "" && c.Name == name {
			return true
		}
	}
	return false
}

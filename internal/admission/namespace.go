// Package admission holds the checks and mutations that run on every write
// before it is stored: namespace lifecycle and Service address allocation.
package admission

import (
	"fmt"

	"github.com/skiff-io/skiff/internal/apiserver"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// NamespaceGetter returns a namespace by name, or a NotFound error.
type NamespaceGetter func(name string) (*corev1.Namespace, error)

// NamespaceLifecycle refuses new objects in namespaces that do not exist or
// are being deleted, and the deletion of the namespaces Kubernetes itself
// needs.
type NamespaceLifecycle struct {
	Get NamespaceGetter
}

// immortalNamespaces may not be deleted.
var immortalNamespaces = map[string]bool{"default": true, "kube-system": true, "kube-public": true}

// Admit implements apiserver.Admission.
func (n *NamespaceLifecycle) Admit(a *apiserver.Attributes) error {
	res := a.Resource
	if res.Group == "" && res.Resource == "namespaces" {
		if a.Verb == "delete" && immortalNamespaces[a.Name] {
			return apierrors.NewForbidden(schema.GroupResource{Resource: "namespaces"}, a.Name, fmt.Errorf("this namespace may not be deleted"))
		}
		return nil
	}
	if !res.Namespaced || a.Verb != "create" {
		return nil
	}
	ns, err := n.Get(a.Namespace)
	if err != nil {
		return err
	}
	if ns.DeletionTimestamp != nil || ns.Status.Phase == corev1.NamespaceTerminating {
		gr := schema.GroupResource{Group: res.Group, Resource: res.Resource}
		err := apierrors.NewForbidden(gr, a.Name, fmt.Errorf("unable to create new content in namespace %s because it is being terminated", a.Namespace))
		err.ErrStatus.Details.Causes = append(err.ErrStatus.Details.Causes, metaCause(a.Namespace))
		return err
	}
	return nil
}

// Done implements apiserver.Admission.
func (n *NamespaceLifecycle) Done(*apiserver.Attributes, bool) {}

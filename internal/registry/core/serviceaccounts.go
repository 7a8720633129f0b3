package core

import (
	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/skiff-io/skiff/internal/registry"
)

// ServiceAccounts returns the core/v1 serviceaccounts resource. Its token
// subresource (POST of an authentication.k8s.io/v1 TokenRequest) is served
// by the API server's special handlers.
func ServiceAccounts() *registry.Resource {
	return &registry.Resource{
		Version:      "v1",
		Resource:     "serviceaccounts",
		Kind:         "ServiceAccount",
		Singular:     "serviceaccount",
		ShortNames:   []string{"sa"},
		Namespaced:   true,
		ValidateName: apivalidation.ValidateServiceAccountName,
		New:          func() runtime.Object { return &corev1.ServiceAccount{} },
		NewList:      func() runtime.Object { return &corev1.ServiceAccountList{} },
		Strategy:     saStrategy{},
		Subresources: []registry.Subresource{
			{Name: "token", Kind: "TokenRequest", Group: "authentication.k8s.io", Version: "v1", Verbs: []string{"create"}},
		},
	}
}

// saStrategy implements service accounts' behaviour: only metadata is
// validated, as in Kubernetes.
type saStrategy struct {
	registry.DefaultStrategy
}

// TableColumns are kubectl's service account columns.
func (saStrategy) TableColumns() []metav1.TableColumnDefinition {
	return []metav1.TableColumnDefinition{
		commonNameColumn(),
		commonColumn("Secrets", "string", corev1.ServiceAccount{}.SwaggerDoc()["secrets"]),
		commonAgeColumn(),
	}
}

// TableRow renders one service account; SECRETS counts the legacy secret
// references.
func (saStrategy) TableRow(obj runtime.Object) []interface{} {
	sa := obj.(*corev1.ServiceAccount)
	return []interface{}{sa.Name, int64(len(sa.Secrets)), commonAge(sa.CreationTimestamp)}
}

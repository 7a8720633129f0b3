package admission

import (
	"github.com/skiff-io/skiff/internal/apiserver"
	corev1 "k8s.io/api/core/v1"
)

// ServiceAccount gives pods that name no service account the namespace's
// "default" one, as Kubernetes' ServiceAccount admission plug-in does.
// Mounting its token comes with the security work.
type ServiceAccount struct{}

// Admit implements apiserver.Admission.
func (ServiceAccount) Admit(a *apiserver.Attributes) error {
	if a.Verb != "create" || a.Resource.Group != "" || a.Resource.Resource != "pods" {
		return nil
	}
	pod, ok := a.Object.(*corev1.Pod)
	if !ok {
		return nil
	}
	if pod.Spec.ServiceAccountName == "" {
		pod.Spec.ServiceAccountName = pod.Spec.DeprecatedServiceAccount
	}
	if pod.Spec.ServiceAccountName == "" {
		pod.Spec.ServiceAccountName = "default"
	}
	pod.Spec.DeprecatedServiceAccount = pod.Spec.ServiceAccountName
	return nil
}

// Done implements apiserver.Admission.
func (ServiceAccount) Done(*apiserver.Attributes, bool) {}

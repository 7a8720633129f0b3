package admission

import (
	"fmt"
	"strings"

	"github.com/skiff-io/skiff/internal/apiserver"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilrand "k8s.io/apimachinery/pkg/util/rand"
)

// Names and values of the service-account token volume, as Kubernetes
// injects it.
const (
	// ServiceAccountTokenMountPath is where containers find the token,
	// CA bundle and namespace.
	ServiceAccountTokenMountPath = "/var/run/secrets/kubernetes.io/serviceaccount"
	// serviceAccountVolumePrefix starts the injected volume's name; five
	// random characters follow.
	serviceAccountVolumePrefix = "kube-api-access-"
	// tokenExpirationSeconds is one hour plus seven seconds: the extra
	// seconds let the API server recognise tokens requested for this
	// volume and extend them for clients that do not reload tokens.
	tokenExpirationSeconds int64 = 3607
	// rootCAConfigMap is published in every namespace by the root CA
	// controller.
	rootCAConfigMap = "kube-root-ca.crt"
)

// ServiceAccount is Kubernetes' ServiceAccount admission plug-in: on pod
// creation it defaults spec.serviceAccountName to "default", refuses pods
// naming a service account that does not exist, copies the account's
// imagePullSecrets to pods that name none, and (unless
// automountServiceAccountToken is false on the pod, or unset on the pod
// and false on the account) adds the projected kube-api-access-xxxxx
// volume and mounts it read-only at ServiceAccountTokenMountPath in every
// init and regular container. Mirror pods are not changed and may not
// reference service accounts or secrets.
type ServiceAccount struct {
	// Accounts returns a service account, or a NotFound error.
	Accounts func(namespace, name string) (*corev1.ServiceAccount, error)
}

// Admit implements apiserver.Admission.
func (s *ServiceAccount) Admit(a *apiserver.Attributes) error {
	if a.Verb != "create" || a.Resource.Group != "" || a.Resource.Resource != "pods" || a.Subresource != "" {
		return nil
	}
	pod, ok := a.Object.(*corev1.Pod)
	if !ok {
		return nil
	}
	forbidden := func(err error) error {
		return apierrors.NewForbidden(schema.GroupResource{Resource: "pods"}, a.Name, err)
	}
	if _, mirror := pod.Annotations[corev1.MirrorPodAnnotationKey]; mirror {
		// The node agent deletes a mirror pod whose spec differs from its
		// static manifest, so it is never mutated; and a static pod
		// cannot be given API credentials.
		if err := mirrorPodProblem(pod); err != nil {
			return forbidden(err)
		}
		return nil
	}
	if pod.Spec.ServiceAccountName == "" {
		pod.Spec.ServiceAccountName = pod.Spec.DeprecatedServiceAccount
	}
	if pod.Spec.ServiceAccountName == "" {
		pod.Spec.ServiceAccountName = "default"
	}
	pod.Spec.DeprecatedServiceAccount = pod.Spec.ServiceAccountName
	name := pod.Spec.ServiceAccountName

	sa, err := s.Accounts(a.Namespace, name)
	switch {
	case apierrors.IsNotFound(err) && name == "default":
		// Kubernetes refuses here too, but its service-account controller
		// creates "default" moments after the namespace: refusing would
		// make the first pods of every new namespace race that controller.
		// The pod proceeds without an account's settings.
		sa = nil
	case apierrors.IsNotFound(err):
		return forbidden(fmt.Errorf("error looking up service account %s/%s: %w", a.Namespace, name,
			apierrors.NewNotFound(schema.GroupResource{Resource: "serviceaccount"}, name)))
	case err != nil:
		return forbidden(fmt.Errorf("error looking up service account %s/%s: %w", a.Namespace, name, err))
	}
	if shouldAutomountToken(sa, pod) {
		mountServiceAccountToken(pod, serviceAccountVolumePrefix+utilrand.String(5))
	}
	if sa != nil && len(pod.Spec.ImagePullSecrets) == 0 && len(sa.ImagePullSecrets) > 0 {
		pod.Spec.ImagePullSecrets = make([]corev1.LocalObjectReference, len(sa.ImagePullSecrets))
		for i, ref := range sa.ImagePullSecrets {
			pod.Spec.ImagePullSecrets[i] = corev1.LocalObjectReference{Name: ref.Name}
		}
	}
	return nil
}

// Done implements apiserver.Admission.
func (s *ServiceAccount) Done(*apiserver.Attributes, bool) {}

// shouldAutomountToken applies the pod's automountServiceAccountToken,
// else the account's (sa may be nil), else true.
func shouldAutomountToken(sa *corev1.ServiceAccount, pod *corev1.Pod) bool {
	if pod.Spec.AutomountServiceAccountToken != nil {
		return *pod.Spec.AutomountServiceAccountToken
	}
	if sa != nil && sa.AutomountServiceAccountToken != nil {
		return *sa.AutomountServiceAccountToken
	}
	return true
}

// mountServiceAccountToken mounts the token volume at
// ServiceAccountTokenMountPath in every init and regular container that
// mounts nothing there, adding the volume (named newName) only if some
// container needs it. A pod that already has a kube-api-access-* volume
// (one copied from another pod's manifest, say) keeps it and reuses its
// name, as Kubernetes does. Ephemeral containers are left alone.
func mountServiceAccountToken(pod *corev1.Pod, newName string) {
	volumeName, hasVolume := newName, false
	for _, v := range pod.Spec.Volumes {
		if strings.HasPrefix(v.Name, serviceAccountVolumePrefix) {
			volumeName, hasVolume = v.Name, true
			break
		}
	}
	mount := corev1.VolumeMount{Name: volumeName, ReadOnly: true, MountPath: ServiceAccountTokenMountPath}
	needed := false
	addMount := func(containers []corev1.Container) {
		for i := range containers {
			mounted := false
			for _, m := range containers[i].VolumeMounts {
				if m.MountPath == ServiceAccountTokenMountPath {
					mounted = true
					break
				}
			}
			if !mounted {
				containers[i].VolumeMounts = append(containers[i].VolumeMounts, mount)
				needed = true
			}
		}
	}
	addMount(pod.Spec.InitContainers)
	addMount(pod.Spec.Containers)
	if needed && !hasVolume {
		pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{Name: volumeName, VolumeSource: corev1.VolumeSource{Projected: tokenVolumeSource()}})
	}
}

// tokenVolumeSource is the projected volume Kubernetes injects: a bound
// token, the cluster CA bundle and the pod's namespace.
func tokenVolumeSource() *corev1.ProjectedVolumeSource {
	mode := corev1.ProjectedVolumeSourceDefaultMode
	expiration := tokenExpirationSeconds
	return &corev1.ProjectedVolumeSource{
		DefaultMode: &mode,
		Sources: []corev1.VolumeProjection{
			{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", ExpirationSeconds: &expiration}},
			{ConfigMap: &corev1.ConfigMapProjection{
				LocalObjectReference: corev1.LocalObjectReference{Name: rootCAConfigMap},
				Items:                []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}},
			}},
			{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{{
				Path:     "namespace",
				FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"},
			}}}},
		},
	}
}

// mirrorPodProblem explains why a mirror pod may not be created, or
// returns nil.
func mirrorPodProblem(pod *corev1.Pod) error {
	if pod.Spec.ServiceAccountName != "" {
		return fmt.Errorf("a mirror pod may not reference service accounts")
	}
	if referencesSecrets(&pod.Spec) {
		return fmt.Errorf("a mirror pod may not reference secrets")
	}
	for _, v := range pod.Spec.Volumes {
		if v.Projected == nil {
			continue
		}
		for _, src := range v.Projected.Sources {
			if src.ServiceAccountToken != nil {
				return fmt.Errorf("a mirror pod may not use ServiceAccountToken volume projections")
			}
			if src.ClusterTrustBundle != nil {
				return fmt.Errorf("a mirror pod may not use ClusterTrustBundle projected volume sources")
			}
		}
	}
	return nil
}

// referencesSecrets reports whether a pod spec names any Secret: pull
// secrets, environment, or secret and projected-secret volumes.
func referencesSecrets(spec *corev1.PodSpec) bool {
	if len(spec.ImagePullSecrets) > 0 {
		return true
	}
	envUses := func(c *corev1.Container) bool {
		for _, e := range c.EnvFrom {
			if e.SecretRef != nil {
				return true
			}
		}
		for _, e := range c.Env {
			if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
				return true
			}
		}
		return false
	}
	for i := range spec.InitContainers {
		if envUses(&spec.InitContainers[i]) {
			return true
		}
	}
	for i := range spec.Containers {
		if envUses(&spec.Containers[i]) {
			return true
		}
	}
	for _, v := range spec.Volumes {
		if v.Secret != nil {
			return true
		}
		if v.Projected != nil {
			for _, src := range v.Projected.Sources {
				if src.Secret != nil {
					return true
				}
			}
		}
	}
	return false
}

package node

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// related reports whether a pod bound to nodeName needs the object of kind
// k named namespace/name (namespace is empty for persistent volumes). It
// walks the same relationships as Kubernetes' node graph, computed from
// the cache on each request rather than kept up to date: pod → secret,
// config map, claim, service account; claim → bound volume → the volume's
// secrets. Pods not yet bound to a node give nothing.
func (az *Authorizer) related(nodeName string, k kind, namespace, name string) (bool, error) {
	pods := az.src.PodsOnNode(nodeName)
	switch k {
	case secretKind:
		for _, p := range pods {
			if p.Namespace == namespace && contains(podSecretNames(p), name) {
				return true, nil
			}
		}
		return az.volumeNeedsSecret(pods, namespace, name)
	case configMapKind:
		for _, p := range pods {
			if p.Namespace == namespace && contains(podConfigMapNames(p), name) {
				return true, nil
			}
		}
	case claimKind:
		return podsMountClaim(pods, namespace, name), nil
	case serviceAccountKind:
		for _, p := range pods {
			if p.Namespace == namespace && p.Spec.ServiceAccountName == name {
				return true, nil
			}
		}
	case volumeKind:
		return az.volumeRelated(pods, name)
	}
	return false, nil
}

// podsMountClaim reports whether one of pods mounts the claim.
func podsMountClaim(pods []*corev1.Pod, namespace, name string) bool {
	for _, p := range pods {
		if p.Namespace == namespace && contains(podClaimNames(p), name) {
			return true
		}
	}
	return false
}

// volumeRelated reports whether the persistent volume is bound to a claim
// one of pods mounts: either the volume's claimRef names such a claim (as
// Kubernetes decides) or such a claim names the volume in spec.volumeName
// (the agent reads the volume a claim names before checking its claimRef).
func (az *Authorizer) volumeRelated(pods []*corev1.Pod, name string) (bool, error) {
	pv, err := az.src.GetPV(name)
	switch {
	case apierrors.IsNotFound(err):
	case err != nil:
		return false, fmt.Errorf("reading persistent volume %s: %w", name, err)
	case pv.Spec.ClaimRef != nil && podsMountClaim(pods, pv.Spec.ClaimRef.Namespace, pv.Spec.ClaimRef.Name):
		return true, nil
	}
	found := false
	err = az.eachClaim(pods, func(pvc *corev1.PersistentVolumeClaim) bool {
		found = pvc.Spec.VolumeName == name
		return !found
	})
	return found, err
}

// volumeNeedsSecret reports whether a persistent volume bound to a claim
// one of pods mounts needs the secret to be mounted. The binding must hold
// both ways (the claim names the volume and the volume's claimRef names the
// claim): a claim alone cannot pull in another volume's credentials.
func (az *Authorizer) volumeNeedsSecret(pods []*corev1.Pod, namespace, name string) (bool, error) {
	found := false
	var pvErr error
	err := az.eachClaim(pods, func(pvc *corev1.PersistentVolumeClaim) bool {
		if pvc.Spec.VolumeName == "" {
			return true
		}
		pv, err := az.src.GetPV(pvc.Spec.VolumeName)
		if apierrors.IsNotFound(err) {
			return true
		}
		if err != nil {
			pvErr = fmt.Errorf("reading persistent volume %s: %w", pvc.Spec.VolumeName, err)
			return false
		}
		if !boundTo(pv, pvc) {
			return true
		}
		for _, ref := range pvSecretRefs(pv) {
			if ref.namespace == namespace && ref.name == name {
				found = true
				return false
			}
		}
		return true
	})
	if pvErr != nil {
		return false, pvErr
	}
	return found, err
}

// eachClaim calls fn with every existing claim that pods mount until fn
// returns false.
func (az *Authorizer) eachClaim(pods []*corev1.Pod, fn func(*corev1.PersistentVolumeClaim) bool) error {
	for _, p := range pods {
		for _, claim := range podClaimNames(p) {
			pvc, err := az.src.GetPVC(p.Namespace, claim)
			if apierrors.IsNotFound(err) {
				continue
			}
			if err != nil {
				return fmt.Errorf("reading persistent volume claim %s/%s: %w", p.Namespace, claim, err)
			}
			if !fn(pvc) {
				return nil
			}
		}
	}
	return nil
}

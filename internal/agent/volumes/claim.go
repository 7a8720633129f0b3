package volumes

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
)

// claimRef is a claim a pod volume uses.
type claimRef struct {
	name     string
	readOnly bool
	// ephemeral claims must be owned by the pod.
	ephemeral bool
}

// claimRefOf returns the claim behind a persistentVolumeClaim or generic
// ephemeral volume (named <pod>-<volume>).
func claimRefOf(pod *corev1.Pod, v *corev1.Volume) claimRef {
	if v.PersistentVolumeClaim != nil {
		return claimRef{name: v.PersistentVolumeClaim.ClaimName, readOnly: v.PersistentVolumeClaim.ReadOnly}
	}
	return claimRef{name: pod.Name + "-" + v.Name, ephemeral: true}
}

// resolveClaim reads the claim and its volume and returns the host path to
// mount, checking the claim is usable by this pod and the volume can be
// mounted by this agent. hostPath volumes get their type check (and create
// semantics); local volumes must exist.
func (m *Manager) resolveClaim(ctx context.Context, pod *corev1.Pod, ref claimRef) (claimPath, error) {
	pvc, err := m.getter.PersistentVolumeClaim(ctx, pod.Namespace, ref.name)
	if err != nil {
		return claimPath{}, fmt.Errorf("error processing PVC %s/%s: failed to fetch PVC from API server: %w", pod.Namespace, ref.name, err)
	}
	pvName, err := checkClaim(pod, pvc, ref)
	if err != nil {
		return claimPath{}, fmt.Errorf("error processing PVC %s/%s: %w", pod.Namespace, ref.name, err)
	}
	pv, err := m.getter.PersistentVolume(ctx, pvName)
	if err != nil {
		return claimPath{}, fmt.Errorf("error processing PVC %s/%s: failed to fetch PV %s from API server: %w", pod.Namespace, ref.name, pvName, err)
	}
	path, err := volumePath(pv, pvc)
	if err != nil {
		return claimPath{}, err
	}
	return claimPath{path: path, readOnly: ref.readOnly, ownedByPod: pv.Spec.Local != nil}, nil
}

// checkClaim decides whether pvc may be mounted into pod and returns the
// name of the PersistentVolume it is bound to.
func checkClaim(pod *corev1.Pod, pvc *corev1.PersistentVolumeClaim, ref claimRef) (string, error) {
	if ref.ephemeral && !ownedBy(pvc, pod) {
		return "", fmt.Errorf("PVC %s/%s was not created for the pod %s/%s (pod is not owner)", pvc.Namespace, pvc.Name, pod.Namespace, pod.Name)
	}
	if pvc.DeletionTimestamp != nil {
		return "", errors.New("PVC is being deleted")
	}
	if pvc.Status.Phase != corev1.ClaimBound {
		return "", errors.New("PVC is not bound")
	}
	if pvc.Spec.VolumeName == "" {
		return "", errors.New("PVC has empty pvc.Spec.VolumeName")
	}
	return pvc.Spec.VolumeName, nil
}

// ownedBy reports whether pod is pvc's controlling owner.
func ownedBy(pvc *corev1.PersistentVolumeClaim, pod *corev1.Pod) bool {
	for _, o := range pvc.OwnerReferences {
		if o.Controller != nil && *o.Controller && o.UID == pod.UID {
			return true
		}
	}
	return false
}

// volumePath checks that pv is bound to pvc and has a source this agent can
// mount, and returns its host path.
func volumePath(pv *corev1.PersistentVolume, pvc *corev1.PersistentVolumeClaim) (string, error) {
	if pv.Spec.ClaimRef == nil {
		return "", fmt.Errorf("found PV object %s but it has a nil pv.Spec.ClaimRef indicating it is not yet bound to the claim", pv.Name)
	}
	if pv.Spec.ClaimRef.UID != pvc.UID {
		return "", fmt.Errorf("found PV object %s but its pv.Spec.ClaimRef.UID %s does not point to claim.UID %s", pv.Name, pv.Spec.ClaimRef.UID, pvc.UID)
	}
	if pv.Spec.VolumeMode != nil && *pv.Spec.VolumeMode == corev1.PersistentVolumeBlock {
		return "", fmt.Errorf("PV %s: block volume mode is not supported", pv.Name)
	}
	switch src := &pv.Spec.PersistentVolumeSource; {
	case src.HostPath != nil:
		if err := checkHostPath(src.HostPath.Path, src.HostPath.Type); err != nil {
			return "", fmt.Errorf("PV %s: %w", pv.Name, err)
		}
		return src.HostPath.Path, nil
	case src.Local != nil:
		if err := checkNoBacksteps(src.Local.Path); err != nil {
			return "", fmt.Errorf("PV %s: invalid local path `%s`: %w", pv.Name, src.Local.Path, err)
		}
		if err := expectType(src.Local.Path, corev1.HostPathDirectory, "directory"); err != nil {
			return "", fmt.Errorf("PV %s: local volume: %w", pv.Name, err)
		}
		return src.Local.Path, nil
	}
	return "", fmt.Errorf("PV %s: unsupported persistent volume type (only hostPath and local can be mounted)", pv.Name)
}

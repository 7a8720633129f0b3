package node

import corev1 "k8s.io/api/core/v1"

// The functions below list the API objects a pod (or a persistent volume)
// needs the node to read in order to run it, as Kubernetes' node authorizer
// graph records them. Names may repeat; order does not matter.

// podSecretNames returns the secrets, in the pod's namespace, that the pod
// refers to: image pull secrets, environment references in every kind of
// container, and volume sources that carry credentials.
func podSecretNames(pod *corev1.Pod) []string {
	var names []string
	add := func(name string) {
		if name != "" {
			names = append(names, name)
		}
	}
	addRef := func(ref *corev1.LocalObjectReference) {
		if ref != nil {
			add(ref.Name)
		}
	}
	for _, s := range pod.Spec.ImagePullSecrets {
		add(s.Name)
	}
	visitPodEnv(pod, func(env []corev1.EnvVar, from []corev1.EnvFromSource) {
		for _, f := range from {
			if f.SecretRef != nil {
				add(f.SecretRef.Name)
			}
		}
		for _, e := range env {
			if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
				add(e.ValueFrom.SecretKeyRef.Name)
			}
		}
	})
	for i := range pod.Spec.Volumes {
		v := &pod.Spec.Volumes[i].VolumeSource
		switch {
		case v.Secret != nil:
			add(v.Secret.SecretName)
		case v.Projected != nil:
			for _, src := range v.Projected.Sources {
				if src.Secret != nil {
					add(src.Secret.Name)
				}
			}
		case v.AzureFile != nil:
			add(v.AzureFile.SecretName)
		case v.CephFS != nil:
			addRef(v.CephFS.SecretRef)
		case v.Cinder != nil:
			addRef(v.Cinder.SecretRef)
		case v.FlexVolume != nil:
			addRef(v.FlexVolume.SecretRef)
		case v.ISCSI != nil:
			addRef(v.ISCSI.SecretRef)
		case v.RBD != nil:
			addRef(v.RBD.SecretRef)
		case v.ScaleIO != nil:
			addRef(v.ScaleIO.SecretRef)
		case v.StorageOS != nil:
			addRef(v.StorageOS.SecretRef)
		case v.CSI != nil:
			addRef(v.CSI.NodePublishSecretRef)
		}
	}
	return names
}

// podConfigMapNames returns the config maps, in the pod's namespace, that
// the pod refers to through volumes, projected volumes and environment.
// kube-root-ca.crt gets no special treatment: the projected service
// account volume names it like any other config map.
func podConfigMapNames(pod *corev1.Pod) []string {
	var names []string
	add := func(name string) {
		if name != "" {
			names = append(names, name)
		}
	}
	visitPodEnv(pod, func(env []corev1.EnvVar, from []corev1.EnvFromSource) {
		for _, f := range from {
			if f.ConfigMapRef != nil {
				add(f.ConfigMapRef.Name)
			}
		}
		for _, e := range env {
			if e.ValueFrom != nil && e.ValueFrom.ConfigMapKeyRef != nil {
				add(e.ValueFrom.ConfigMapKeyRef.Name)
			}
		}
	})
	for i := range pod.Spec.Volumes {
		v := &pod.Spec.Volumes[i].VolumeSource
		switch {
		case v.ConfigMap != nil:
			add(v.ConfigMap.Name)
		case v.Projected != nil:
			for _, src := range v.Projected.Sources {
				if src.ConfigMap != nil {
					add(src.ConfigMap.Name)
				}
			}
		}
	}
	return names
}

// podClaimNames returns the persistent volume claims, in the pod's
// namespace, that the pod mounts, including the claims generic ephemeral
// volumes get (named <pod>-<volume>).
func podClaimNames(pod *corev1.Pod) []string {
	var names []string
	for _, v := range pod.Spec.Volumes {
		switch {
		case v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ClaimName != "":
			names = append(names, v.PersistentVolumeClaim.ClaimName)
		case v.Ephemeral != nil:
			names = append(names, pod.Name+"-"+v.Name)
		}
	}
	return names
}

// visitPodEnv calls fn with the environment of every init, regular and
// ephemeral container of pod.
func visitPodEnv(pod *corev1.Pod, fn func(env []corev1.EnvVar, from []corev1.EnvFromSource)) {
	for _, c := range pod.Spec.InitContainers {
		fn(c.Env, c.EnvFrom)
	}
	for _, c := range pod.Spec.Containers {
		fn(c.Env, c.EnvFrom)
	}
	for _, c := range pod.Spec.EphemeralContainers {
		fn(c.Env, c.EnvFrom)
	}
}

// secretRef is a secret by namespace and name.
type secretRef struct{ namespace, name string }

// pvSecretRefs returns the secrets a bound persistent volume needs the node
// to read to mount it. Secrets only a controller uses (CSI controller
// publish and expand) are left out, as Kubernetes leaves them out of the
// node's graph. A reference without a namespace means the claim's.
func pvSecretRefs(pv *corev1.PersistentVolume) []secretRef {
	claimNS := ""
	if pv.Spec.ClaimRef != nil {
		claimNS = pv.Spec.ClaimRef.Namespace
	}
	var refs []secretRef
	add := func(namespace, name string) {
		if name == "" {
			return
		}
		if namespace == "" {
			namespace = claimNS
		}
		refs = append(refs, secretRef{namespace, name})
	}
	addRef := func(ref *corev1.SecretReference) {
		if ref != nil {
			add(ref.Namespace, ref.Name)
		}
	}
	src := &pv.Spec.PersistentVolumeSource
	switch {
	case src.AzureFile != nil:
		ns := ""
		if src.AzureFile.SecretNamespace != nil {
			ns = *src.AzureFile.SecretNamespace
		}
		add(ns, src.AzureFile.SecretName)
	case src.CephFS != nil:
		addRef(src.CephFS.SecretRef)
	case src.Cinder != nil:
		addRef(src.Cinder.SecretRef)
	case src.FlexVolume != nil:
		addRef(src.FlexVolume.SecretRef)
	case src.ISCSI != nil:
		addRef(src.ISCSI.SecretRef)
	case src.RBD != nil:
		addRef(src.RBD.SecretRef)
	case src.ScaleIO != nil:
		addRef(src.ScaleIO.SecretRef)
	case src.StorageOS != nil:
		if r := src.StorageOS.SecretRef; r != nil {
			add(r.Namespace, r.Name)
		}
	case src.CSI != nil:
		addRef(src.CSI.NodeStageSecretRef)
		addRef(src.CSI.NodePublishSecretRef)
		addRef(src.CSI.NodeExpandSecretRef)
	}
	return refs
}

// boundTo reports whether pv's claim reference names pvc (and, when both
// carry a UID, the same incarnation of it).
func boundTo(pv *corev1.PersistentVolume, pvc *corev1.PersistentVolumeClaim) bool {
	ref := pv.Spec.ClaimRef
	if ref == nil || ref.Namespace != pvc.Namespace || ref.Name != pvc.Name {
		return false
	}
	return ref.UID == "" || pvc.UID == "" || ref.UID == pvc.UID
}

func contains(names []string, name string) bool {
	for _, n := range names {
		if n == name {
			return true
		}
	}
	return false
}

package volumes

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/skiff-io/skiff/internal/agent/envvars"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// Setup makes every volume of pod exist, idempotently: emptyDirs are
// created (tmpfs-mounted for medium Memory), hostPath types are checked and
// created, claims are resolved to their PersistentVolume's host path, and
// configMap, secret, downwardAPI and projected contents are (re)written in
// place, publishing a new version only when content changed. fsGroup, when
// the pod sets one, is applied to the volumes the agent owns (best effort).
// Every volume is attempted; the failures are returned joined, each worded
// `MountVolume.SetUp failed for volume "<name>" : <reason>` as the kubelet
// reports them.
func (m *Manager) Setup(ctx context.Context, pod *corev1.Pod) error {
	if err := checkPathElement("pod UID", string(pod.UID)); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(m.podDir(pod.UID), "volumes"), 0o750); err != nil {
		return fmt.Errorf("create pod volume directory: %w", err)
	}
	var errs []error
	for i := range pod.Spec.Volumes {
		v := &pod.Spec.Volumes[i]
		if err := m.setupVolume(ctx, pod, v); err != nil {
			errs = append(errs, fmt.Errorf("MountVolume.SetUp failed for volume %q : %w", v.Name, err))
		}
	}
	return errors.Join(errs...)
}

func (m *Manager) setupVolume(ctx context.Context, pod *corev1.Pod, v *corev1.Volume) error {
	if err := checkPathElement("volume name", v.Name); err != nil {
		return err
	}
	k, err := volumeKind(v)
	if err != nil {
		return err
	}
	switch k {
	case kindEmptyDir:
		return m.setupEmptyDir(pod, v)
	case kindHostPath:
		return checkHostPath(v.HostPath.Path, v.HostPath.Type)
	case kindClaim, kindEphemeral:
		cp, err := m.resolveClaim(ctx, pod, claimRefOf(pod, v))
		if err != nil {
			return err
		}
		if cp.ownedByPod {
			m.ensureOwnership(pod, cp.path, cp.readOnly, false)
		}
		m.setClaim(pod.UID, v.Name, cp)
		return nil
	}
	p, err := m.payloadFor(ctx, pod, v, k)
	if err != nil {
		return err
	}
	dir := m.volumeDir(pod.UID, k.pluginDir(), v.Name)
	if k == kindSecret || k == kindProjected {
		err = ensureTmpfs(dir, m.memorySize(pod, nil))
	} else {
		err = makeVolumeDir(dir, emptyDirMode)
	}
	if err != nil {
		return err
	}
	written, err := atomicWrite(dir, p)
	if err != nil {
		return err
	}
	if written {
		m.log.Debug("volume contents written", "pod", pod.Namespace+"/"+pod.Name, "volume", v.Name, "files", len(p))
	}
	m.ensureOwnership(pod, dir, true, written)
	return nil
}

// payloadFor reads what an API data volume projects and renders its files.
func (m *Manager) payloadFor(ctx context.Context, pod *corev1.Pod, v *corev1.Volume, k kind) (payload, error) {
	switch k {
	case kindConfigMap:
		src := v.ConfigMap
		cm, err := m.configMapOrEmpty(ctx, pod.Namespace, src.Name, isTrue(src.Optional))
		if err != nil {
			return nil, err
		}
		return configMapPayload(src.Items, cm, src.DefaultMode, isTrue(src.Optional))
	case kindSecret:
		src := v.Secret
		s, err := m.secretOrEmpty(ctx, pod.Namespace, src.SecretName, isTrue(src.Optional))
		if err != nil {
			return nil, err
		}
		return secretPayload(src.Items, s, src.DefaultMode, isTrue(src.Optional))
	case kindDownwardAPI:
		return downwardAPIPayload(v.DownwardAPI.Items, pod, v.DownwardAPI.DefaultMode, m.allocatable())
	case kindProjected:
		return m.projectedPayload(ctx, pod, v.Projected)
	}
	return nil, fmt.Errorf("volume kind %d has no payload", k)
}

// projectedPayload merges the files of every source of a projected volume
// (a later source wins a path clash). All failing sources are reported.
func (m *Manager) projectedPayload(ctx context.Context, pod *corev1.Pod, src *corev1.ProjectedVolumeSource) (payload, error) {
	out := payload{}
	var errs []error
	for i := range src.Sources {
		p, err := m.projectionPayload(ctx, pod, &src.Sources[i], src.DefaultMode)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for k, f := range p {
			out[k] = f
		}
	}
	return out, errors.Join(errs...)
}

func (m *Manager) projectionPayload(ctx context.Context, pod *corev1.Pod, s *corev1.VolumeProjection, defaultMode *int32) (payload, error) {
	switch {
	case s.ConfigMap != nil:
		optional := isTrue(s.ConfigMap.Optional)
		cm, err := m.configMapOrEmpty(ctx, pod.Namespace, s.ConfigMap.Name, optional)
		if err != nil {
			return nil, err
		}
		return configMapPayload(s.ConfigMap.Items, cm, defaultMode, optional)
	case s.Secret != nil:
		optional := isTrue(s.Secret.Optional)
		sec, err := m.secretOrEmpty(ctx, pod.Namespace, s.Secret.Name, optional)
		if err != nil {
			return nil, err
		}
		return secretPayload(s.Secret.Items, sec, defaultMode, optional)
	case s.DownwardAPI != nil:
		return downwardAPIPayload(s.DownwardAPI.Items, pod, defaultMode, m.allocatable())
	case s.ServiceAccountToken != nil:
		token, err := m.getter.ServiceAccountToken(ctx, pod, s.ServiceAccountToken)
		if err != nil {
			return nil, fmt.Errorf("service account token for %s: %w", s.ServiceAccountToken.Path, err)
		}
		owner := commonRunAsUser(pod)
		mode := fileMode(nil, defaultMode)
		if owner != nil || podFSGroup(pod) != nil {
			// Private to the owner; fsGroup handling then adds group read.
			mode = 0o600
		}
		return payload{s.ServiceAccountToken.Path: {data: []byte(token), mode: mode, owner: owner}}, nil
	case s.ClusterTrustBundle != nil:
		return nil, errors.New("clusterTrustBundle projections are not supported")
	case s.PodCertificate != nil:
		return nil, errors.New("podCertificate projections are not supported")
	}
	return nil, errors.New("projection has no source")
}

// configMapOrEmpty reads a configMap; a missing optional one reads as empty.
func (m *Manager) configMapOrEmpty(ctx context.Context, namespace, name string, optional bool) (*corev1.ConfigMap, error) {
	return getOrEmpty(ctx, m.getter.ConfigMap, "configmap", namespace, name, optional)
}

// secretOrEmpty reads a secret; a missing optional one reads as empty.
func (m *Manager) secretOrEmpty(ctx context.Context, namespace, name string, optional bool) (*corev1.Secret, error) {
	return getOrEmpty(ctx, m.getter.Secret, "secret", namespace, name, optional)
}

// getOrEmpty reads an object with get; a missing optional one reads as the
// zero object, other failures are worded by envvars.GetError.
func getOrEmpty[T any](ctx context.Context, get func(context.Context, string, string) (*T, error), resource, namespace, name string, optional bool) (*T, error) {
	obj, err := get(ctx, namespace, name)
	if err == nil {
		return obj, nil
	}
	if optional && apierrors.IsNotFound(err) {
		return new(T), nil
	}
	return nil, envvars.GetError(resource, namespace, name, err)
}

func isTrue(b *bool) bool { return b != nil && *b }

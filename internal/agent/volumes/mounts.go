package volumes

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/skiff-io/skiff/internal/agent/envvars"
	corev1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Mounts returns the CRI mounts for container c of pod, one per
// volumeMount in order: the volume's host path (for a subPath or
// subPathExpr, a bind mount of that path inside the volume, created as a
// directory when missing), the container path, read-only when the mount
// asks for it or the volume is an API data volume or a read-only claim,
// no SELinux relabelling, and the mount's propagation. subPathExpr is
// expanded against env ($(VAR) with every referenced variable required to be
// non-empty). Absolute subPaths and subPaths with ".." are rejected. Setup
// must have succeeded for the pod in this process (claim paths are
// remembered from it).
func (m *Manager) Mounts(pod *corev1.Pod, c *corev1.Container, env map[string]string) ([]*runtimeapi.Mount, error) {
	byName := make(map[string]*corev1.Volume, len(pod.Spec.Volumes))
	for i := range pod.Spec.Volumes {
		byName[pod.Spec.Volumes[i].Name] = &pod.Spec.Volumes[i]
	}
	out := make([]*runtimeapi.Mount, 0, len(c.VolumeMounts))
	for i, vm := range c.VolumeMounts {
		v, ok := byName[vm.Name]
		if !ok {
			return nil, fmt.Errorf("cannot find volume %q to mount into container %q", vm.Name, c.Name)
		}
		hostPath, volumeReadOnly, err := m.volumeHostPath(pod, v)
		if err != nil {
			return nil, fmt.Errorf("volume %q of container %q: %w", vm.Name, c.Name, err)
		}
		subPath, err := mountSubPath(vm, env)
		if err != nil {
			return nil, err
		}
		if subPath != "" {
			hostPath, err = m.prepareSubPath(pod.UID, subPathMount{volume: v.Name, container: c.Name, index: i}, hostPath, subPath)
			if err != nil {
				// Like the kubelet, keep host file system details out of the
				// error the user sees; the log has them.
				m.log.Error("subPath preparation failed", "pod", pod.Namespace+"/"+pod.Name, "container", c.Name, "volumeMount", vm.Name, "err", err)
				return nil, fmt.Errorf("failed to prepare subPath for volumeMount %q of container %q", vm.Name, c.Name)
			}
		}
		propagation, err := mountPropagation(vm.MountPropagation, isPrivileged(c))
		if err != nil {
			return nil, fmt.Errorf("volumeMount %q of container %q: %w", vm.Name, c.Name, err)
		}
		if vm.RecursiveReadOnly != nil && *vm.RecursiveReadOnly == corev1.RecursiveReadOnlyEnabled {
			return nil, fmt.Errorf("volumeMount %q of container %q: recursive read-only mounts are not supported by the container runtime", vm.Name, c.Name)
		}
		containerPath := vm.MountPath
		if !strings.HasPrefix(containerPath, "/") {
			containerPath = "/" + containerPath
		}
		out = append(out, &runtimeapi.Mount{
			ContainerPath: containerPath,
			HostPath:      hostPath,
			Readonly:      vm.ReadOnly || volumeReadOnly,
			Propagation:   propagation,
		})
	}
	return out, nil
}

// volumeHostPath returns where v lives on the host and whether it must be
// mounted read-only.
func (m *Manager) volumeHostPath(pod *corev1.Pod, v *corev1.Volume) (string, bool, error) {
	k, err := volumeKind(v)
	if err != nil {
		return "", false, err
	}
	switch k {
	case kindHostPath:
		return v.HostPath.Path, false, nil
	case kindClaim, kindEphemeral:
		cp, ok := m.claim(pod.UID, v.Name)
		if !ok {
			return "", false, errors.New("volume has not been set up")
		}
		return cp.path, cp.readOnly, nil
	}
	dir := m.volumeDir(pod.UID, k.pluginDir(), v.Name)
	if _, err := os.Lstat(dir); errors.Is(err, fs.ErrNotExist) {
		return "", false, errors.New("volume has not been set up")
	} else if err != nil {
		return "", false, fmt.Errorf("stat volume directory: %w", err)
	}
	return dir, k.alwaysReadOnly(), nil
}

// mountSubPath returns the subPath a volumeMount asks for (subPathExpr
// expanded against env), checked to be relative and free of "..".
func mountSubPath(vm corev1.VolumeMount, env map[string]string) (string, error) {
	subPath := vm.SubPath
	if vm.SubPathExpr != "" {
		var err error
		if subPath, err = expandSubPathExpr(vm.SubPathExpr, env); err != nil {
			return "", err
		}
	}
	if subPath == "" {
		return "", nil
	}
	if filepath.IsAbs(subPath) {
		return "", fmt.Errorf("error SubPath `%s` must not be an absolute path", subPath)
	}
	if err := checkNoBacksteps(subPath); err != nil {
		return "", fmt.Errorf("unable to provision SubPath `%s`: %w", subPath, err)
	}
	return subPath, nil
}

// expandSubPathExpr expands $(VAR) references in a subPathExpr; a reference
// to a variable that is unset or empty is an error naming all of them.
func expandSubPathExpr(expr string, env map[string]string) (string, error) {
	missing := map[string]bool{}
	out := envvars.ExpandString(expr, func(name string) string {
		v := env[name]
		if v == "" {
			missing[name] = true
		}
		return v
	})
	if len(missing) > 0 {
		names := make([]string, 0, len(missing))
		for n := range missing {
			names = append(names, n)
		}
		sort.Strings(names)
		return "", fmt.Errorf("missing value for %s", strings.Join(names, ", "))
	}
	return out, nil
}

// mountPropagation translates a volumeMount's propagation to CRI;
// Bidirectional is reserved to privileged containers.
func mountPropagation(mode *corev1.MountPropagationMode, privileged bool) (runtimeapi.MountPropagation, error) {
	switch {
	case mode == nil, *mode == corev1.MountPropagationNone:
		return runtimeapi.MountPropagation_PROPAGATION_PRIVATE, nil
	case *mode == corev1.MountPropagationHostToContainer:
		return runtimeapi.MountPropagation_PROPAGATION_HOST_TO_CONTAINER, nil
	case *mode == corev1.MountPropagationBidirectional:
		if !privileged {
			return 0, errors.New("Bidirectional mount propagation is available only to privileged containers")
		}
		return runtimeapi.MountPropagation_PROPAGATION_BIDIRECTIONAL, nil
	}
	return 0, fmt.Errorf("invalid MountPropagation mode: %q", *mode)
}

func isPrivileged(c *corev1.Container) bool {
	return c.SecurityContext != nil && c.SecurityContext.Privileged != nil && *c.SecurityContext.Privileged
}

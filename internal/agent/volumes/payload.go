package volumes

import (
	"errors"
	"fmt"
	"os"

	"github.com/skiff-io/skiff/internal/agent/fieldpath"
	corev1 "k8s.io/api/core/v1"
)

// defaultFileMode is the mode of projected files when a volume sets no
// defaultMode (the API default, for secrets too).
const defaultFileMode os.FileMode = 0o644

// file is one file of an atomic-writer volume.
type file struct {
	data []byte
	mode os.FileMode
	// owner, if set, is the uid the file is chowned to.
	owner *int64
}

// payload maps a relative path inside the volume to its file.
type payload map[string]file

// fileMode picks a file's mode: the item's own, else the volume's default,
// else 0644; only permission bits are kept.
func fileMode(item, volumeDefault *int32) os.FileMode {
	switch {
	case item != nil:
		return os.FileMode(*item) & os.ModePerm
	case volumeDefault != nil:
		return os.FileMode(*volumeDefault) & os.ModePerm
	}
	return defaultFileMode
}

// configMapPayload projects a configMap's data and binaryData: every key when
// items is empty, else the listed keys at their paths. A listed key the
// configMap lacks is an error unless optional.
func configMapPayload(items []corev1.KeyToPath, cm *corev1.ConfigMap, defaultMode *int32, optional bool) (payload, error) {
	p := payload{}
	mode := fileMode(nil, defaultMode)
	if len(items) == 0 {
		for k, v := range cm.Data {
			p[k] = file{data: []byte(v), mode: mode}
		}
		for k, v := range cm.BinaryData {
			p[k] = file{data: v, mode: mode}
		}
		return p, nil
	}
	for _, it := range items {
		var data []byte
		if s, ok := cm.Data[it.Key]; ok {
			data = []byte(s)
		} else if b, ok := cm.BinaryData[it.Key]; ok {
			data = b
		} else {
			if optional {
				continue
			}
			return nil, fmt.Errorf("configmap references non-existent config key: %s", it.Key)
		}
		p[it.Path] = file{data: data, mode: fileMode(it.Mode, defaultMode)}
	}
	return p, nil
}

// secretPayload projects a secret's data like configMapPayload does.
func secretPayload(items []corev1.KeyToPath, s *corev1.Secret, defaultMode *int32, optional bool) (payload, error) {
	p := payload{}
	if len(items) == 0 {
		for k, v := range s.Data {
			p[k] = file{data: v, mode: fileMode(nil, defaultMode)}
		}
		return p, nil
	}
	for _, it := range items {
		v, ok := s.Data[it.Key]
		if !ok {
			if optional {
				continue
			}
			return nil, fmt.Errorf("references non-existent secret key: %s", it.Key)
		}
		p[it.Path] = file{data: v, mode: fileMode(it.Mode, defaultMode)}
	}
	return p, nil
}

// downwardAPIPayload renders downwardAPI items from pod (status addresses
// from its status) and the node's allocatable resources. All failing items
// are reported together.
func downwardAPIPayload(items []corev1.DownwardAPIVolumeFile, pod *corev1.Pod, defaultMode *int32, allocatable corev1.ResourceList) (payload, error) {
	p := payload{}
	rt := fieldpath.RuntimeFromStatus(pod)
	var errs []error
	for _, it := range items {
		var (
			value string
			err   error
		)
		switch {
		case it.FieldRef != nil:
			value, err = fieldpath.PodField(pod, it.FieldRef, rt)
		case it.ResourceFieldRef != nil:
			value, err = fieldpath.ContainerResource(it.ResourceFieldRef, pod, nil, allocatable)
		default:
			err = errors.New("neither fieldRef nor resourceFieldRef is set")
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", it.Path, err))
			continue
		}
		p[it.Path] = file{data: []byte(value), mode: fileMode(it.Mode, defaultMode)}
	}
	return p, errors.Join(errs...)
}

// commonRunAsUser returns the uid every container of pod runs as, or nil
// when a container sets none or they differ; projected tokens are owned by
// it.
func commonRunAsUser(pod *corev1.Pod) *int64 {
	var podUser *int64
	if pod.Spec.SecurityContext != nil {
		podUser = pod.Spec.SecurityContext.RunAsUser
	}
	var common *int64
	all := append(append([]corev1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...)
	for _, c := range all {
		user := podUser
		if c.SecurityContext != nil && c.SecurityContext.RunAsUser != nil {
			user = c.SecurityContext.RunAsUser
		}
		if user == nil || (common != nil && *common != *user) {
			return nil
		}
		common = user
	}
	return common
}

package volumes

import (
	"fmt"
	"reflect"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// kind is the volume source types this package handles.
type kind int

const (
	kindEmptyDir kind = iota
	kindHostPath
	kindConfigMap
	kindSecret
	kindDownwardAPI
	kindProjected
	kindClaim
	kindEphemeral
)

// volumeKind says which supported source v uses, or why it cannot be used.
func volumeKind(v *corev1.Volume) (kind, error) {
	s := &v.VolumeSource
	switch {
	case s.EmptyDir != nil:
		return kindEmptyDir, nil
	case s.HostPath != nil:
		return kindHostPath, nil
	case s.ConfigMap != nil:
		return kindConfigMap, nil
	case s.Secret != nil:
		return kindSecret, nil
	case s.DownwardAPI != nil:
		return kindDownwardAPI, nil
	case s.Projected != nil:
		return kindProjected, nil
	case s.PersistentVolumeClaim != nil:
		return kindClaim, nil
	case s.Ephemeral != nil:
		return kindEphemeral, nil
	}
	if name := sourceName(s); name != "" {
		return 0, fmt.Errorf("unsupported volume type %q", name)
	}
	return 0, fmt.Errorf("volume %q has no source", v.Name)
}

// sourceName returns the JSON name of the first source set in s.
func sourceName(s *corev1.VolumeSource) string {
	val := reflect.ValueOf(s).Elem()
	for i := range val.NumField() {
		f := val.Field(i)
		if f.Kind() == reflect.Pointer && !f.IsNil() {
			tag, _, _ := strings.Cut(val.Type().Field(i).Tag.Get("json"), ",")
			return tag
		}
	}
	return ""
}

// pluginDir is the plugin directory of a kind that keeps files under the pod
// directory, or "" for kinds that use a path elsewhere on the host.
func (k kind) pluginDir() string {
	switch k {
	case kindEmptyDir:
		return pluginEmptyDir
	case kindConfigMap:
		return pluginConfigMap
	case kindSecret:
		return pluginSecret
	case kindDownwardAPI:
		return pluginDownwardAPI
	case kindProjected:
		return pluginProjected
	}
	return ""
}

// alwaysReadOnly reports whether volumes of kind are always mounted
// read-only (the API data volumes, since Kubernetes 1.10).
func (k kind) alwaysReadOnly() bool {
	switch k {
	case kindConfigMap, kindSecret, kindDownwardAPI, kindProjected:
		return true
	}
	return false
}

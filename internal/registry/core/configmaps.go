package core

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/skiff-io/skiff/internal/registry"
)

// ConfigMaps returns the core/v1 configmaps resource.
func ConfigMaps() *registry.Resource {
	return &registry.Resource{
		Version:    "v1",
		Resource:   "configmaps",
		Kind:       "ConfigMap",
		Singular:   "configmap",
		ShortNames: []string{"cm"},
		Namespaced: true,
		New:        func() runtime.Object { return &corev1.ConfigMap{} },
		NewList:    func() runtime.Object { return &corev1.ConfigMapList{} },
		Strategy:   cmStrategy{},
	}
}

// cmStrategy implements configmaps' behaviour.
type cmStrategy struct {
	registry.DefaultStrategy
}

// Default gives the config map an empty data map, as Kubernetes does.
func (cmStrategy) Default(obj runtime.Object) {
	cm := obj.(*corev1.ConfigMap)
	if cm.Data == nil {
		cm.Data = map[string]string{}
	}
}

// Validate checks keys and the total size.
func (cmStrategy) Validate(obj runtime.Object) field.ErrorList {
	cm := obj.(*corev1.ConfigMap)
	var errs field.ErrorList
	size := 0
	dataPath, binPath := field.NewPath("data"), field.NewPath("binaryData")
	for key, value := range cm.Data {
		errs = append(errs, commonMessages(dataPath.Key(key), key, validation.IsConfigMapKey(key))...)
		if _, dup := cm.BinaryData[key]; dup {
			errs = append(errs, field.Invalid(dataPath.Key(key), key, "duplicate of key present in binaryData"))
		}
		size += len(value)
	}
	for key, value := range cm.BinaryData {
		errs = append(errs, commonMessages(binPath.Key(key), key, validation.IsConfigMapKey(key))...)
		size += len(value)
	}
	if size > commonMaxDataBytes {
		// The empty path means the whole object.
		errs = append(errs, field.TooLong(field.NewPath(""), "", commonMaxDataBytes))
	}
	return errs
}

// ValidateUpdate also enforces `immutable`.
func (s cmStrategy) ValidateUpdate(obj, old runtime.Object) field.ErrorList {
	cm, oldCm := obj.(*corev1.ConfigMap), old.(*corev1.ConfigMap)
	var errs field.ErrorList
	if oldCm.Immutable != nil && *oldCm.Immutable {
		if cm.Immutable == nil || !*cm.Immutable {
			errs = append(errs, field.Forbidden(field.NewPath("immutable"), commonImmutableWhenSetMsg))
		}
		if !commonSameStringMap(cm.Data, oldCm.Data) {
			errs = append(errs, field.Forbidden(field.NewPath("data"), commonImmutableWhenSetMsg))
		}
		if !commonSameBytesMap(cm.BinaryData, oldCm.BinaryData) {
			errs = append(errs, field.Forbidden(field.NewPath("binaryData"), commonImmutableWhenSetMsg))
		}
	}
	return append(errs, s.Validate(obj)...)
}

// TableColumns are kubectl's configmap columns.
func (cmStrategy) TableColumns() []metav1.TableColumnDefinition {
	return []metav1.TableColumnDefinition{
		commonNameColumn(),
		commonColumn("Data", "string", corev1.ConfigMap{}.SwaggerDoc()["data"]),
		commonAgeColumn(),
	}
}

// TableRow renders one config map; DATA counts data and binaryData keys.
func (cmStrategy) TableRow(obj runtime.Object) []interface{} {
	cm := obj.(*corev1.ConfigMap)
	return []interface{}{cm.Name, int64(len(cm.Data) + len(cm.BinaryData)), commonAge(cm.CreationTimestamp)}
}

package core

import (
	"encoding/json"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/skiff-io/skiff/internal/registry"
)

// secretRedacted replaces secret contents in error messages.
const secretRedacted = "<secret contents redacted>"

// Secrets returns the core/v1 secrets resource.
func Secrets() *registry.Resource {
	return &registry.Resource{
		Version:    "v1",
		Resource:   "secrets",
		Kind:       "Secret",
		Singular:   "secret",
		Namespaced: true,
		New:        func() runtime.Object { return &corev1.Secret{} },
		NewList:    func() runtime.Object { return &corev1.SecretList{} },
		Strategy:   secretStrategy{},
	}
}

// secretStrategy implements secrets' behaviour.
type secretStrategy struct {
	registry.DefaultStrategy
}

// Default sets type Opaque and folds the write-only stringData into data,
// which is what Kubernetes' conversion does (stringData wins on conflicts).
func (secretStrategy) Default(obj runtime.Object) {
	s := obj.(*corev1.Secret)
	if s.Type == "" {
		s.Type = corev1.SecretTypeOpaque
	}
	if len(s.StringData) > 0 {
		if s.Data == nil {
			s.Data = make(map[string][]byte, len(s.StringData))
		}
		for k, v := range s.StringData {
			s.Data[k] = []byte(v)
		}
	}
	s.StringData = nil
}

// Validate checks keys, size and the keys each well-known type requires.
func (secretStrategy) Validate(obj runtime.Object) field.ErrorList {
	s := obj.(*corev1.Secret)
	var errs field.ErrorList
	data := field.NewPath("data")
	size := 0
	for key, value := range s.Data {
		errs = append(errs, commonMessages(data.Key(key), key, validation.IsConfigMapKey(key))...)
		size += len(value)
	}
	if size > commonMaxDataBytes {
		errs = append(errs, field.TooLong(data, "", commonMaxDataBytes))
	}
	return append(errs, secretValidateType(s, data)...)
}

// secretValidateType checks the data a secret of a built-in type must hold.
func secretValidateType(s *corev1.Secret, data *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch s.Type {
	case corev1.SecretTypeServiceAccountToken:
		// The token itself is added later by a controller.
		if s.Annotations[corev1.ServiceAccountNameKey] == "" {
			errs = append(errs, field.Required(field.NewPath("metadata", "annotations").Key(corev1.ServiceAccountNameKey), ""))
		}
	case corev1.SecretTypeDockercfg:
		errs = append(errs, secretValidateJSON(s, corev1.DockerConfigKey, data)...)
	case corev1.SecretTypeDockerConfigJson:
		errs = append(errs, secretValidateJSON(s, corev1.DockerConfigJsonKey, data)...)
	case corev1.SecretTypeBasicAuth:
		_, user := s.Data[corev1.BasicAuthUsernameKey]
		_, pass := s.Data[corev1.BasicAuthPasswordKey]
		if !user && !pass {
			errs = append(errs, field.Required(data.Key(corev1.BasicAuthUsernameKey), ""),
				field.Required(data.Key(corev1.BasicAuthPasswordKey), ""))
		}
	case corev1.SecretTypeSSHAuth:
		if len(s.Data[corev1.SSHAuthPrivateKey]) == 0 {
			errs = append(errs, field.Required(data.Key(corev1.SSHAuthPrivateKey), ""))
		}
	case corev1.SecretTypeTLS:
		if _, ok := s.Data[corev1.TLSCertKey]; !ok {
			errs = append(errs, field.Required(data.Key(corev1.TLSCertKey), ""))
		}
		if _, ok := s.Data[corev1.TLSPrivateKeyKey]; !ok {
			errs = append(errs, field.Required(data.Key(corev1.TLSPrivateKeyKey), ""))
		}
	}
	return errs
}

// secretValidateJSON requires key to be present and hold a JSON object.
func secretValidateJSON(s *corev1.Secret, key string, data *field.Path) field.ErrorList {
	raw, ok := s.Data[key]
	if !ok {
		return field.ErrorList{field.Required(data.Key(key), "")}
	}
	if err := json.Unmarshal(raw, &map[string]interface{}{}); err != nil {
		return field.ErrorList{field.Invalid(data.Key(key), secretRedacted, err.Error())}
	}
	return nil
}

// ValidateUpdate keeps the type and, for immutable secrets, the data.
func (st secretStrategy) ValidateUpdate(obj, old runtime.Object) field.ErrorList {
	s, oldS := obj.(*corev1.Secret), old.(*corev1.Secret)
	errs := commonImmutable(s.Type, oldS.Type, field.NewPath("type"))
	if oldS.Immutable != nil && *oldS.Immutable {
		if s.Immutable == nil || !*s.Immutable {
			errs = append(errs, field.Forbidden(field.NewPath("immutable"), commonImmutableWhenSetMsg))
		}
		if !commonSameBytesMap(s.Data, oldS.Data) {
			errs = append(errs, field.Forbidden(field.NewPath("data"), commonImmutableWhenSetMsg))
		}
	}
	return append(errs, st.Validate(obj)...)
}

// SelectableFields adds the secret type.
func (secretStrategy) SelectableFields(obj runtime.Object) fields.Set {
	return fields.Set{"type": string(obj.(*corev1.Secret).Type)}
}

// TableColumns are kubectl's secret columns.
func (secretStrategy) TableColumns() []metav1.TableColumnDefinition {
	d := corev1.Secret{}.SwaggerDoc()
	return []metav1.TableColumnDefinition{
		commonNameColumn(),
		commonColumn("Type", "string", d["type"]),
		commonColumn("Data", "string", d["data"]),
		commonAgeColumn(),
	}
}

// TableRow renders one secret.
func (secretStrategy) TableRow(obj runtime.Object) []interface{} {
	s := obj.(*corev1.Secret)
	return []interface{}{s.Name, string(s.Type), int64(len(s.Data)), commonAge(s.CreationTimestamp)}
}

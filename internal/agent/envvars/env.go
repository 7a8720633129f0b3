// Package envvars builds a container's environment the way the kubelet does:
// envFrom sources, then env entries with $(VAR) expansion and valueFrom
// sources (configMap and secret keys, downward API fields and resources), on
// top of the Service link variables (FOO_SERVICE_HOST and friends, see
// ServiceEnv). It also expands $(VAR) references in command and args.
package envvars

import (
	"context"
	"fmt"
	"net"
	"sort"
	"strings"

	"github.com/skiff-io/skiff/internal/agent/fieldpath"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Getter reads the objects a container's environment refers to. A missing
// object is reported with an error for which apierrors.IsNotFound is true.
type Getter interface {
	// ConfigMap returns the named configMap of namespace.
	ConfigMap(ctx context.Context, namespace, name string) (*corev1.ConfigMap, error)
	// Secret returns the named secret of namespace.
	Secret(ctx context.Context, namespace, name string) (*corev1.Secret, error)
}

// EnvVar is one resolved environment variable.
type EnvVar struct {
	// Name is the variable's name.
	Name string
	// Value is the variable's value, already expanded.
	Value string
}

// NodeInfo is what the environment needs to know about the node.
type NodeInfo struct {
	// Name is used for spec.nodeName when the pod does not carry it.
	Name string
	// Allocatable stands in for unset container limits in resourceFieldRef.
	Allocatable corev1.ResourceList
	// HostIP is the node's primary address (status.hostIP).
	HostIP string
}

// SkippedKeys records envFrom keys that were left out because, with the
// prefix applied, they are not valid environment variable names.
type SkippedKeys struct {
	// Kind is "configMap" or "secret".
	Kind string
	// Namespace and Name identify the source object.
	Namespace string
	Name      string
	// Keys are the offending names (prefix applied), sorted.
	Keys []string
}

// Message words the skip the way the kubelet's InvalidEnvironmentVariableNames
// event does.
func (s SkippedKeys) Message() string {
	return fmt.Sprintf("Keys [%s] from the EnvFrom %s %s/%s were skipped since they are considered invalid environment variable names.",
		strings.Join(s.Keys, ", "), s.Kind, s.Namespace, s.Name)
}

// Result is a resolved environment and what was skipped building it.
type Result struct {
	// Vars are in order of first definition: Service link variables, then
	// envFrom sources in order (keys of one source sorted), then env entries
	// as declared. A later definition of a name replaces the value in place,
	// so the container's own variables win over Service ones.
	Vars []EnvVar
	// Skipped lists, per envFrom source, the keys left out.
	Skipped []SkippedKeys
}

// Env resolves container c's environment (see Resolve) and returns only the
// variables.
func Env(ctx context.Context, g Getter, pod *corev1.Pod, c *corev1.Container, node NodeInfo, podIP string, serviceEnv []EnvVar) ([]EnvVar, error) {
	r, err := Resolve(ctx, g, pod, c, node, podIP, serviceEnv)
	return r.Vars, err
}

// Resolve builds container c's environment in Kubernetes' order: serviceEnv
// (the pod's Service link variables, from ServiceEnv) first, so that env
// values can refer to them and the container's own definitions override
// them; then envFrom sources (prefix applied, names that are not valid
// environment variable names skipped and reported in Result.Skipped, a
// missing optional source ignored), then env entries. An env value has $(VAR) references
// expanded against the variables defined before it; a valueFrom is read from
// a configMap or secret key (skipped when optional and the object or key is
// missing), a pod field (fieldpath.PodField, with podIP and node.HostIP as
// the primary addresses) or a container resource (fieldpath.ContainerResource
// with node.Allocatable). Errors name the missing object or key as the
// kubelet does, e.g. `configmap "x" not found`.
func Resolve(ctx context.Context, g Getter, pod *corev1.Pod, c *corev1.Container, node NodeInfo, podIP string, serviceEnv []EnvVar) (Result, error) {
	r := resolver{ctx: ctx, g: g, pod: pod, env: newOrderedEnv()}
	for _, v := range serviceEnv {
		r.env.set(v.Name, v.Value)
	}
	for _, src := range c.EnvFrom {
		if err := r.addEnvFrom(src); err != nil {
			return Result{}, err
		}
	}
	rt := runtimeFor(pod, node, podIP)
	podForFields := pod
	if pod.Spec.NodeName == "" && node.Name != "" {
		podForFields = pod.DeepCopy()
		podForFields.Spec.NodeName = node.Name
	}
	for _, ev := range c.Env {
		value, keep, err := r.value(ev, podForFields, c, node, rt)
		if err != nil {
			return Result{}, err
		}
		if keep {
			r.env.set(ev.Name, value)
		}
	}
	return Result{Vars: r.env.list(), Skipped: r.skipped}, nil
}

// resolver holds the state of one Resolve call: objects already read and the
// environment built so far.
type resolver struct {
	ctx        context.Context
	g          Getter
	pod        *corev1.Pod
	env        *orderedEnv
	skipped    []SkippedKeys
	configMaps map[string]*corev1.ConfigMap
	secrets    map[string]*corev1.Secret
}

func (r *resolver) addEnvFrom(src corev1.EnvFromSource) error {
	var (
		kind, name string
		optional   bool
		data       map[string]string
	)
	switch {
	case src.ConfigMapRef != nil:
		kind, name, optional = "configMap", src.ConfigMapRef.Name, isTrue(src.ConfigMapRef.Optional)
		cm, err := r.configMap(name)
		if err != nil {
			if optional && apierrors.IsNotFound(err) {
				return nil
			}
			return err
		}
		data = cm.Data
	case src.SecretRef != nil:
		kind, name, optional = "secret", src.SecretRef.Name, isTrue(src.SecretRef.Optional)
		s, err := r.secret(name)
		if err != nil {
			if optional && apierrors.IsNotFound(err) {
				return nil
			}
			return err
		}
		data = make(map[string]string, len(s.Data))
		for k, v := range s.Data {
			data[k] = string(v)
		}
	default:
		return nil
	}
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var invalid []string
	for _, k := range keys {
		nameWithPrefix := src.Prefix + k
		if errs := validation.IsRelaxedEnvVarName(nameWithPrefix); len(errs) != 0 {
			invalid = append(invalid, nameWithPrefix)
			continue
		}
		r.env.set(nameWithPrefix, data[k])
	}
	if len(invalid) > 0 {
		r.skipped = append(r.skipped, SkippedKeys{Kind: kind, Namespace: r.pod.Namespace, Name: name, Keys: invalid})
	}
	return nil
}

// value resolves one env entry. keep is false when an optional source is
// missing and the variable must not be set at all.
func (r *resolver) value(ev corev1.EnvVar, pod *corev1.Pod, c *corev1.Container, node NodeInfo, rt fieldpath.Runtime) (value string, keep bool, err error) {
	if ev.Value != "" || ev.ValueFrom == nil {
		return ExpandString(ev.Value, MappingFor(r.env.values)), true, nil
	}
	from := ev.ValueFrom
	switch {
	case from.FieldRef != nil:
		v, err := fieldpath.PodField(pod, from.FieldRef, rt)
		if err != nil {
			return "", false, fmt.Errorf("env %s: %w", ev.Name, err)
		}
		return v, true, nil
	case from.ResourceFieldRef != nil:
		v, err := fieldpath.ContainerResource(from.ResourceFieldRef, pod, c, node.Allocatable)
		if err != nil {
			return "", false, fmt.Errorf("env %s: %w", ev.Name, err)
		}
		return v, true, nil
	case from.ConfigMapKeyRef != nil:
		ref := from.ConfigMapKeyRef
		optional := isTrue(ref.Optional)
		cm, err := r.configMap(ref.Name)
		if err != nil {
			if optional && apierrors.IsNotFound(err) {
				return "", false, nil
			}
			return "", false, err
		}
		v, ok := cm.Data[ref.Key]
		if !ok {
			if optional {
				return "", false, nil
			}
			return "", false, fmt.Errorf("couldn't find key %v in ConfigMap %v/%v", ref.Key, r.pod.Namespace, ref.Name)
		}
		return v, true, nil
	case from.SecretKeyRef != nil:
		ref := from.SecretKeyRef
		optional := isTrue(ref.Optional)
		s, err := r.secret(ref.Name)
		if err != nil {
			if optional && apierrors.IsNotFound(err) {
				return "", false, nil
			}
			return "", false, err
		}
		v, ok := s.Data[ref.Key]
		if !ok {
			if optional {
				return "", false, nil
			}
			return "", false, fmt.Errorf("couldn't find key %v in Secret %v/%v", ref.Key, r.pod.Namespace, ref.Name)
		}
		return string(v), true, nil
	}
	return "", false, fmt.Errorf("env %s: unsupported valueFrom source", ev.Name)
}

func (r *resolver) configMap(name string) (*corev1.ConfigMap, error) {
	return cachedGet(r, &r.configMaps, r.g.ConfigMap, "configmap", name)
}

func (r *resolver) secret(name string) (*corev1.Secret, error) {
	return cachedGet(r, &r.secrets, r.g.Secret, "secret", name)
}

// cachedGet reads an object of the pod's namespace once per Resolve.
func cachedGet[T any](r *resolver, cache *map[string]*T, get func(context.Context, string, string) (*T, error), resource, name string) (*T, error) {
	if obj, ok := (*cache)[name]; ok {
		return obj, nil
	}
	obj, err := get(r.ctx, r.pod.Namespace, name)
	if err != nil {
		return nil, GetError(resource, r.pod.Namespace, name, err)
	}
	if *cache == nil {
		*cache = map[string]*T{}
	}
	(*cache)[name] = obj
	return obj, nil
}

// GetError turns an error from reading object name of kind resource
// ("configmap", "secret", ...) into the error the kubelet reports: a NotFound
// error worded `configmap "x" not found`, or the original error wrapped with
// the object it concerns.
func GetError(resource, namespace, name string, err error) error {
	if apierrors.IsNotFound(err) {
		return apierrors.NewNotFound(schema.GroupResource{Resource: resource}, name)
	}
	return fmt.Errorf("get %s %s/%s: %w", resource, namespace, name, err)
}

// runtimeFor puts the addresses the caller knows first, followed by any of
// the other IP family recorded in the pod's status.
func runtimeFor(pod *corev1.Pod, node NodeInfo, podIP string) fieldpath.Runtime {
	status := fieldpath.RuntimeFromStatus(pod)
	return fieldpath.Runtime{
		PodIPs:  primaryFirst(podIP, status.PodIPs),
		HostIPs: primaryFirst(node.HostIP, status.HostIPs),
	}
}

// primaryFirst returns primary followed by the addresses in others of a
// different IP family; with no primary it returns others.
func primaryFirst(primary string, others []string) []string {
	if primary == "" {
		return others
	}
	out := []string{primary}
	isV4 := isIPv4(primary)
	for _, ip := range others {
		if ip != primary && isIPv4(ip) != isV4 {
			out = append(out, ip)
			break
		}
	}
	return out
}

func isIPv4(s string) bool {
	ip := net.ParseIP(s)
	return ip != nil && ip.To4() != nil
}

func isTrue(b *bool) bool { return b != nil && *b }

// orderedEnv is a name->value map that remembers first-definition order.
type orderedEnv struct {
	names  []string
	values map[string]string
}

func newOrderedEnv() *orderedEnv { return &orderedEnv{values: map[string]string{}} }

func (e *orderedEnv) set(name, value string) {
	if _, ok := e.values[name]; !ok {
		e.names = append(e.names, name)
	}
	e.values[name] = value
}

func (e *orderedEnv) list() []EnvVar {
	out := make([]EnvVar, 0, len(e.names))
	for _, n := range e.names {
		out = append(out, EnvVar{Name: n, Value: e.values[n]})
	}
	return out
}

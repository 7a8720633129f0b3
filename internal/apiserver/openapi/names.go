package openapi

import (
	"reflect"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/kube-openapi/pkg/util"
	"k8s.io/kube-openapi/pkg/validation/spec"

	"github.com/skiff-io/skiff/internal/registry"
)

// gvkExtension is the vendor extension naming the group-version-kinds a
// definition or an operation belongs to.
const gvkExtension = "x-kubernetes-group-version-kind"

// kindIndex maps OpenAPI model names ("io.k8s.api.core.v1.Pod") to the
// group-version-kinds served with that Go type. Option types such as
// DeleteOptions are registered in every group version and so map to many.
type kindIndex map[string][]schema.GroupVersionKind

// newKindIndex indexes the kinds scheme knows in the served group versions.
// Kinds of group versions the server does not serve are left out so that
// clients are not told about kinds they cannot use.
func newKindIndex(scheme *runtime.Scheme, served map[schema.GroupVersion]bool) kindIndex {
	idx := kindIndex{}
	for gvk, typ := range scheme.AllKnownTypes() {
		if gvk.Version == runtime.APIVersionInternal || !served[gvk.GroupVersion()] {
			continue
		}
		name := modelNameOfType(typ)
		if !containsGVK(idx[name], gvk) {
			idx[name] = append(idx[name], gvk)
		}
	}
	for _, gvks := range idx {
		sort.Slice(gvks, func(i, j int) bool { return lessGVK(gvks[i], gvks[j]) })
	}
	return idx
}

// definitionName implements common.Config.GetDefinitionName: model names
// are already the Kubernetes friendly names, and top-level kinds get the
// group-version-kind extension kubectl uses to find a kind's schema.
func (idx kindIndex) definitionName(name string) (string, spec.Extensions) {
	gvks := idx[name]
	if len(gvks) == 0 {
		return name, nil
	}
	list := make([]interface{}, 0, len(gvks))
	for _, gvk := range gvks {
		list = append(list, gvkObject(gvk))
	}
	return name, spec.Extensions{gvkExtension: list}
}

// gvkObject renders gvk as the object the group-version-kind extension holds.
func gvkObject(gvk schema.GroupVersionKind) map[string]interface{} {
	return map[string]interface{}{"group": gvk.Group, "version": gvk.Version, "kind": gvk.Kind}
}

// modelNameOfType returns the OpenAPI model name of a Go type, preferring
// the name the type declares for itself, as kube-openapi's builders do.
func modelNameOfType(typ reflect.Type) string {
	if namer, ok := reflect.New(typ).Interface().(util.OpenAPIModelNamer); ok {
		return namer.OpenAPIModelName()
	}
	return util.ToRESTFriendlyName(typ.PkgPath() + "." + typ.Name())
}

func containsGVK(list []schema.GroupVersionKind, gvk schema.GroupVersionKind) bool {
	for _, g := range list {
		if g == gvk {
			return true
		}
	}
	return false
}

func lessGVK(a, b schema.GroupVersionKind) bool {
	if a.Group != b.Group {
		return a.Group < b.Group
	}
	if a.Version != b.Version {
		return a.Version < b.Version
	}
	return a.Kind < b.Kind
}

// groupToken turns an API group into the camel-case word Kubernetes puts in
// operation ids: "" is "Core", "rbac.authorization.k8s.io" is
// "RbacAuthorization", "apps" is "Apps".
func groupToken(group string) string {
	if group == "" {
		return "Core"
	}
	group = strings.TrimSuffix(group, ".k8s.io")
	var b strings.Builder
	for _, part := range strings.Split(group, ".") {
		b.WriteString(upperFirst(part))
	}
	return b.String()
}

// tag returns the operation tag Kubernetes uses for a group version,
// "core_v1" or "rbacAuthorization_v1".
func tag(gv schema.GroupVersion) string {
	return lowerFirst(groupToken(gv.Group)) + "_" + gv.Version
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// servedGroupVersions returns the group versions of resources and of the
// kinds their subresources take, which share the served kinds' documents.
func servedGroupVersions(resources []*registry.Resource) map[schema.GroupVersion]bool {
	served := map[schema.GroupVersion]bool{}
	for _, r := range resources {
		served[r.GroupVersion()] = true
		for _, s := range r.Subresources {
			if s.Group != "" || s.Version != "" {
				served[schema.GroupVersion{Group: s.Group, Version: s.Version}] = true
			}
		}
	}
	return served
}

package core

import (
	"fmt"
	"net"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/skiff-io/skiff/internal/registry"
)

const (
	// nodeRolePrefix labels carry a node's roles in their key.
	nodeRolePrefix = "node-role.kubernetes.io/"
	// nodeRoleLabel is the older label carrying a role in its value.
	nodeRoleLabel = "kubernetes.io/role"
	// nodeCIDRChangeMsg is Kubernetes' detail for a changed pod CIDR.
	nodeCIDRChangeMsg = "node updates may not change podCIDR except from \"\" to valid"
)

func nodeTaintEffects() []string {
	return []string{
		string(corev1.TaintEffectNoExecute), string(corev1.TaintEffectNoSchedule), string(corev1.TaintEffectPreferNoSchedule),
	}
}

// Nodes returns the core/v1 nodes resource. The proxy subresource is served
// by the API server's special handlers.
func Nodes() *registry.Resource {
	return &registry.Resource{
		Version:    "v1",
		Resource:   "nodes",
		Kind:       "Node",
		Singular:   "node",
		ShortNames: []string{"no"},
		Namespaced: false,
		New:        func() runtime.Object { return &corev1.Node{} },
		NewList:    func() runtime.Object { return &corev1.NodeList{} },
		Strategy:   nodeStrategy{},
		Subresources: []registry.Subresource{
			registry.StatusSubresource,
			{Name: "proxy", Kind: "NodeProxyOptions", Verbs: []string{"create", "delete", "get", "patch", "update"}},
		},
	}
}

// nodeStrategy implements nodes' behaviour. Nodes, unlike other resources,
// may be created with a status: the node agent registers itself that way.
type nodeStrategy struct {
	registry.DefaultStrategy
}

// Default keeps podCIDR and podCIDRs in sync and defaults allocatable to
// capacity.
func (nodeStrategy) Default(obj runtime.Object) {
	n := obj.(*corev1.Node)
	if n.Spec.PodCIDR != "" && len(n.Spec.PodCIDRs) == 0 {
		n.Spec.PodCIDRs = []string{n.Spec.PodCIDR}
	}
	if n.Spec.PodCIDR == "" && len(n.Spec.PodCIDRs) > 0 {
		n.Spec.PodCIDR = n.Spec.PodCIDRs[0]
	}
	if n.Status.Allocatable == nil && n.Status.Capacity != nil {
		n.Status.Allocatable = n.Status.Capacity.DeepCopy()
	}
}

// PrepareForUpdate keeps the status from old.
func (nodeStrategy) PrepareForUpdate(obj, old runtime.Object) {
	n, o := obj.(*corev1.Node), old.(*corev1.Node)
	n.Status = *o.Status.DeepCopy()
}

// PrepareForStatusUpdate keeps the spec from old.
func (nodeStrategy) PrepareForStatusUpdate(obj, old runtime.Object) {
	n, o := obj.(*corev1.Node), old.(*corev1.Node)
	n.Spec = *o.Spec.DeepCopy()
}

// Validate checks taints, resource quantities and pod CIDRs.
func (nodeStrategy) Validate(obj runtime.Object) field.ErrorList {
	n := obj.(*corev1.Node)
	// Kubernetes reports taints under metadata.
	errs := nodeValidateTaints(n.Spec.Taints, field.NewPath("metadata", "taints"))
	errs = append(errs, nodeValidateResources(n)...)
	cidrs := field.NewPath("spec", "podCIDRs")
	for i, c := range n.Spec.PodCIDRs {
		errs = append(errs, validation.IsValidCIDR(cidrs.Index(i), c)...)
	}
	if len(n.Spec.PodCIDRs) > 1 {
		if len(n.Spec.PodCIDRs) > 2 || nodeCIDRFamily(n.Spec.PodCIDRs[0]) == nodeCIDRFamily(n.Spec.PodCIDRs[1]) {
			errs = append(errs, field.Invalid(cidrs, n.Spec.PodCIDRs, "may specify no more than one CIDR for each IP family"))
		}
		seen := map[string]bool{}
		for i, c := range n.Spec.PodCIDRs {
			if seen[c] {
				errs = append(errs, field.Duplicate(cidrs.Index(i), c))
			}
			seen[c] = true
		}
	}
	return errs
}

// ValidateUpdate also protects the fields set once by controllers.
func (s nodeStrategy) ValidateUpdate(obj, old runtime.Object) field.ErrorList {
	return append(s.Validate(obj), nodeValidateUpdate(obj.(*corev1.Node), old.(*corev1.Node))...)
}

// ValidateStatusUpdate checks a status update.
func (nodeStrategy) ValidateStatusUpdate(obj, old runtime.Object) field.ErrorList {
	n := obj.(*corev1.Node)
	return append(nodeValidateResources(n), nodeValidateUpdate(n, old.(*corev1.Node))...)
}

// nodeValidateUpdate checks what may not change on an existing node.
func nodeValidateUpdate(n, old *corev1.Node) field.ErrorList {
	var errs field.ErrorList
	seen := map[corev1.NodeAddress]bool{}
	for i, a := range n.Status.Addresses {
		if seen[a] {
			errs = append(errs, field.Duplicate(field.NewPath("status", "addresses").Index(i), a))
		}
		seen[a] = true
	}
	// Pod CIDRs may be assigned once, by the controller, and never changed.
	if len(old.Spec.PodCIDRs) > 0 {
		changed := len(old.Spec.PodCIDRs) != len(n.Spec.PodCIDRs)
		for i := 0; !changed && i < len(old.Spec.PodCIDRs); i++ {
			changed = old.Spec.PodCIDRs[i] != n.Spec.PodCIDRs[i]
		}
		if changed {
			errs = append(errs, field.Forbidden(field.NewPath("spec", "podCIDRs"), nodeCIDRChangeMsg))
		}
	}
	if old.Spec.ProviderID != "" && old.Spec.ProviderID != n.Spec.ProviderID {
		errs = append(errs, field.Forbidden(field.NewPath("spec", "providerID"), "node updates may not change providerID except from \"\" to valid"))
	}
	if n.Spec.DoNotUseExternalID != old.Spec.DoNotUseExternalID {
		errs = append(errs, field.Forbidden(field.NewPath("spec", "externalID"), "may not be updated"))
	}
	return errs
}

func nodeCIDRFamily(cidr string) bool {
	ip, _, err := net.ParseCIDR(cidr)
	return err == nil && ip.To4() == nil
}

// nodeValidateTaints checks keys, values, effects and uniqueness by
// (key, effect).
func nodeValidateTaints(taints []corev1.Taint, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	seen := map[string]bool{}
	for i, t := range taints {
		ip := p.Index(i)
		errs = append(errs, metav1validation.ValidateLabelName(t.Key, ip.Child("key"))...)
		if msgs := validation.IsValidLabelValue(t.Value); len(msgs) > 0 {
			errs = append(errs, field.Invalid(ip.Child("value"), t.Value, strings.Join(msgs, ";")))
		}
		if t.Effect == "" {
			errs = append(errs, field.Required(ip.Child("effect"), ""))
		} else if !svcOneOf(string(t.Effect), nodeTaintEffects()) {
			errs = append(errs, field.NotSupported(ip.Child("effect"), t.Effect, nodeTaintEffects()))
		}
		key := t.Key + "\x00" + string(t.Effect)
		if seen[key] {
			e := field.Duplicate(ip, t)
			e.Detail = "taints must be unique by key and effect pair"
			errs = append(errs, e)
			continue
		}
		seen[key] = true
	}
	return errs
}

// nodeValidateResources checks capacity and allocatable quantities.
func nodeValidateResources(n *corev1.Node) field.ErrorList {
	var errs field.ErrorList
	for k, v := range n.Status.Capacity {
		errs = append(errs, commonQuantity(k, v, field.NewPath("status", "capacity", string(k)))...)
	}
	for k, v := range n.Status.Allocatable {
		errs = append(errs, commonQuantity(k, v, field.NewPath("status", "allocatable", string(k)))...)
	}
	return errs
}

// SelectableFields adds spec.unschedulable ("true"/"false").
func (nodeStrategy) SelectableFields(obj runtime.Object) fields.Set {
	return fields.Set{"spec.unschedulable": fmt.Sprint(obj.(*corev1.Node).Spec.Unschedulable)}
}

// TableColumns are kubectl's node columns.
func (nodeStrategy) TableColumns() []metav1.TableColumnDefinition {
	info, st := corev1.NodeSystemInfo{}.SwaggerDoc(), corev1.NodeStatus{}.SwaggerDoc()
	return []metav1.TableColumnDefinition{
		commonNameColumn(),
		commonColumn("Status", "string", "The status of the node"),
		commonColumn("Roles", "string", "The roles of the node"),
		commonAgeColumn(),
		commonColumn("Version", "string", info["kubeletVersion"]),
		commonWideColumn("Internal-IP", "string", st["addresses"]),
		commonWideColumn("External-IP", "string", st["addresses"]),
		commonWideColumn("OS-Image", "string", info["osImage"]),
		commonWideColumn("Kernel-Version", "string", info["kernelVersion"]),
		commonWideColumn("Container-Runtime", "string", info["containerRuntimeVersion"]),
	}
}

// TableRow renders one node.
func (nodeStrategy) TableRow(obj runtime.Object) []interface{} {
	n := obj.(*corev1.Node)
	var status []string
	for _, c := range n.Status.Conditions {
		if c.Type != corev1.NodeReady {
			continue
		}
		if c.Status == corev1.ConditionTrue {
			status = []string{string(c.Type)}
		} else {
			status = []string{"Not" + string(c.Type)}
		}
	}
	if len(status) == 0 {
		status = []string{"Unknown"}
	}
	if n.Spec.Unschedulable {
		status = append(status, "SchedulingDisabled")
	}
	roles := strings.Join(nodeRoles(n), ",")
	if roles == "" {
		roles = "<none>"
	}
	info := n.Status.NodeInfo
	return []interface{}{
		n.Name, strings.Join(status, ","), roles, commonAge(n.CreationTimestamp), info.KubeletVersion,
		nodeAddress(n, corev1.NodeInternalIP), nodeAddress(n, corev1.NodeExternalIP),
		nodeOrUnknown(info.OSImage), nodeOrUnknown(info.KernelVersion), nodeOrUnknown(info.ContainerRuntimeVersion),
	}
}

// nodeRoles collects roles from node-role.kubernetes.io/<role> label keys
// and the kubernetes.io/role label value, sorted and deduplicated.
func nodeRoles(n *corev1.Node) []string {
	set := map[string]bool{}
	for k, v := range n.Labels {
		switch {
		case strings.HasPrefix(k, nodeRolePrefix):
			if r := strings.TrimPrefix(k, nodeRolePrefix); r != "" {
				set[r] = true
			}
		case k == nodeRoleLabel && v != "":
			set[v] = true
		}
	}
	roles := make([]string, 0, len(set))
	for r := range set {
		roles = append(roles, r)
	}
	sort.Strings(roles)
	return roles
}

// nodeAddress returns the node's first address of type t, or "<none>".
func nodeAddress(n *corev1.Node, t corev1.NodeAddressType) string {
	for _, a := range n.Status.Addresses {
		if a.Type == t {
			return a.Address
		}
	}
	return "<none>"
}

func nodeOrUnknown(s string) string {
	if s == "" {
		return "<unknown>"
	}
	return s
}

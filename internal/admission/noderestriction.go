package admission

import (
	"fmt"
	"slices"
	"strings"

	"github.com/skiff-io/skiff/internal/apiserver"
	nodeauth "github.com/skiff-io/skiff/internal/auth/node"
	authenticationv1 "k8s.io/api/authentication/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// NodeRestriction limits what a node agent (user system:node:<name> in
// group system:nodes) may write, as Kubernetes' NodeRestriction admission
// plug-in does: only its own Node (without steering labels or taint
// changes), Lease and CSINode, and only the pods bound to it. Other users'
// requests pass untouched.
type NodeRestriction struct {
	// GetPod returns a pod from the cache, or an error for which
	// apierrors.IsNotFound is true.
	GetPod func(namespace, name string) (*corev1.Pod, error)
	// GetNode returns a node from the cache, or an error for which
	// apierrors.IsNotFound is true.
	GetNode func(name string) (*corev1.Node, error)
}

// Admit implements apiserver.Admission.
func (p *NodeRestriction) Admit(a *apiserver.Attributes) error {
	nodeName, isNode := nodeauth.Identity(a.User)
	if !isNode {
		return nil
	}
	if nodeName == "" {
		return nodeRestrictionForbidden(a, fmt.Errorf("could not determine node from user %q", a.User.Name))
	}
	// A graceful deletion stores a deletion mark as an update after the
	// delete itself was admitted.
	if a.Verb == "update" && a.Subresource == "delete" {
		return nil
	}
	switch a.Resource.Group + "/" + a.Resource.Resource {
	case "/pods":
		switch a.Subresource {
		case "":
			return p.admitPod(nodeName, a)
		case "status":
			return admitNodePodStatus(nodeName, a)
		case "eviction":
			return p.admitNodeEviction(nodeName, a)
		default:
			return nodeRestrictionForbidden(a, fmt.Errorf("unexpected pod subresource %q, only 'status' and 'eviction' are allowed", a.Subresource))
		}
	case "/nodes":
		return admitNodeObject(nodeName, a)
	case "/persistentvolumeclaims":
		if a.Subresource != "status" {
			return nodeRestrictionForbidden(a, fmt.Errorf("may only update PVC status"))
		}
		return admitNodeClaimStatus(nodeName, a)
	case "/serviceaccounts":
		return p.admitNodeToken(nodeName, a)
	case "coordination.k8s.io/leases":
		return p.admitNodeLease(nodeName, a)
	case "storage.k8s.io/csinodes":
		return admitNodeCSINode(nodeName, a)
	}
	return nil
}

// Done implements apiserver.Admission.
func (p *NodeRestriction) Done(*apiserver.Attributes, bool) {}

// nodeRestrictionForbidden is Kubernetes' admission refusal: 403 naming the
// resource and object (taken from the new object on create).
func nodeRestrictionForbidden(a *apiserver.Attributes, err error) error {
	if apierrors.IsForbidden(err) {
		return err
	}
	name := a.Name
	if name == "" && a.Object != nil {
		if m, merr := meta.Accessor(a.Object); merr == nil {
			name = m.GetName()
		}
	}
	gr := schema.GroupResource{Group: a.Resource.Group, Resource: a.Resource.Resource}
	return apierrors.NewForbidden(gr, name, err)
}

// nodeRestrictionOperation spells a verb as Kubernetes' admission
// operations are spelled in its messages.
func nodeRestrictionOperation(verb string) string {
	return strings.ToUpper(verb)
}

// admitPod refuses pod creation (Kubernetes lets nodes create mirror pods
// of their static pods; Skiff has neither) and the deletion of pods bound
// elsewhere.
func (p *NodeRestriction) admitPod(nodeName string, a *apiserver.Attributes) error {
	switch a.Verb {
	case "create":
		return nodeRestrictionForbidden(a, fmt.Errorf("node %q can not create pods: Skiff has no static or mirror pods", nodeName))
	case "delete":
		pod, ok := a.Old.(*corev1.Pod)
		if !ok {
			var err error
			if pod, err = p.GetPod(a.Namespace, a.Name); err != nil {
				return nodeRestrictionLookupError(a, err)
			}
		}
		if pod.Spec.NodeName != nodeName {
			return nodeRestrictionForbidden(a, fmt.Errorf("node %q can only delete pods with spec.nodeName set to itself", nodeName))
		}
		return nil
	default:
		return nodeRestrictionForbidden(a, fmt.Errorf("unexpected operation %q, node %q can only delete pods bound to itself", nodeRestrictionOperation(a.Verb), nodeName))
	}
}

// nodeRestrictionLookupError passes NotFound through (the request then
// answers 404, as it would without the plug-in) and refuses on any other
// failure.
func nodeRestrictionLookupError(a *apiserver.Attributes, err error) error {
	if apierrors.IsNotFound(err) {
		return err
	}
	return nodeRestrictionForbidden(a, fmt.Errorf("looking up pod %s/%s: %w", a.Namespace, a.Name, err))
}

// admitNodePodStatus lets a node report the status of its own pods only,
// without touching their labels.
func admitNodePodStatus(nodeName string, a *apiserver.Attributes) error {
	if a.Verb != "update" {
		return nodeRestrictionForbidden(a, fmt.Errorf("unexpected operation %q", nodeRestrictionOperation(a.Verb)))
	}
	oldPod, ok := a.Old.(*corev1.Pod)
	if !ok {
		return nodeRestrictionForbidden(a, fmt.Errorf("unexpected type %T", a.Old))
	}
	if oldPod.Spec.NodeName != nodeName {
		return nodeRestrictionForbidden(a, fmt.Errorf("node %q can only update pod status for pods with spec.nodeName set to itself", nodeName))
	}
	newPod, ok := a.Object.(*corev1.Pod)
	if !ok {
		return nodeRestrictionForbidden(a, fmt.Errorf("unexpected type %T", a.Object))
	}
	if !labels.Equals(oldPod.Labels, newPod.Labels) {
		return nodeRestrictionForbidden(a, fmt.Errorf("node %q cannot update labels through pod status", nodeName))
	}
	if !equality.Semantic.DeepEqual(oldPod.Status.ResourceClaimStatuses, newPod.Status.ResourceClaimStatuses) {
		return nodeRestrictionForbidden(a, fmt.Errorf("node %q cannot update resource claim statues", nodeName))
	}
	return nil
}

// admitNodeEviction lets a node evict only the pods bound to it.
func (p *NodeRestriction) admitNodeEviction(nodeName string, a *apiserver.Attributes) error {
	if a.Verb != "create" {
		return nodeRestrictionForbidden(a, fmt.Errorf("unexpected operation %s", nodeRestrictionOperation(a.Verb)))
	}
	// The URL names the pod; the Eviction's own name only stands in when
	// the URL did not.
	podName := a.Name
	if podName == "" && a.Object != nil {
		if m, err := meta.Accessor(a.Object); err == nil {
			podName = m.GetName()
		}
	}
	if podName == "" {
		return nodeRestrictionForbidden(a, fmt.Errorf("could not determine pod from request data"))
	}
	pod, err := p.GetPod(a.Namespace, podName)
	if err != nil {
		return nodeRestrictionLookupError(a, err)
	}
	if pod.Spec.NodeName != nodeName {
		return nodeRestrictionForbidden(a, fmt.Errorf("node %s can only evict pods with spec.nodeName set to itself", nodeName))
	}
	return nil
}

// admitNodeClaimStatus lets a node change only the capacity and conditions
// in a claim's status (volume expansion on the node).
func admitNodeClaimStatus(nodeName string, a *apiserver.Attributes) error {
	if a.Verb != "update" {
		return nodeRestrictionForbidden(a, fmt.Errorf("unexpected operation %q", nodeRestrictionOperation(a.Verb)))
	}
	oldPVC, ok := a.Old.(*corev1.PersistentVolumeClaim)
	if !ok {
		return nodeRestrictionForbidden(a, fmt.Errorf("unexpected type %T", a.Old))
	}
	newPVC, ok := a.Object.(*corev1.PersistentVolumeClaim)
	if !ok {
		return nodeRestrictionForbidden(a, fmt.Errorf("unexpected type %T", a.Object))
	}
	oldPVC, newPVC = oldPVC.DeepCopy(), newPVC.DeepCopy()
	for _, c := range []*corev1.PersistentVolumeClaim{oldPVC, newPVC} {
		// The server owns these; the node may change the rest of status.
		c.ResourceVersion = ""
		c.ManagedFields = nil
		c.Status.Capacity = nil
		c.Status.Conditions = nil
		c.Status.AllocatedResources = nil
		c.Status.AllocatedResourceStatuses = nil
	}
	if !equality.Semantic.DeepEqual(oldPVC, newPVC) {
		return nodeRestrictionForbidden(a, fmt.Errorf("node %q is not allowed to update fields other than status.capacity and status.conditions", nodeName))
	}
	return nil
}

// admitNodeObject lets a node create and change only its own Node, never
// with a config source, never changing its taints, and never setting the
// labels that steer workloads (see nodeForbiddenLabels).
func admitNodeObject(nodeName string, a *apiserver.Attributes) error {
	requested := a.Name
	newNode, _ := a.Object.(*corev1.Node)
	if requested == "" && a.Verb == "create" && newNode != nil {
		requested = newNode.Name
	}
	if requested != nodeName {
		return nodeRestrictionForbidden(a, fmt.Errorf("node %q is not allowed to modify node %q", nodeName, requested))
	}
	switch a.Verb {
	case "create":
		if newNode == nil {
			return nodeRestrictionForbidden(a, fmt.Errorf("unexpected type %T", a.Object))
		}
		if newNode.Spec.ConfigSource != nil {
			// Kubernetes' message, odd wording included.
			return nodeRestrictionForbidden(a, fmt.Errorf("node %q is not allowed to create pods with a non-nil configSource", nodeName))
		}
		if bad := nodeForbiddenLabels(newNode.Labels, nil); len(bad) > 0 {
			return nodeRestrictionForbidden(a, fmt.Errorf("node %q is not allowed to set the following labels: %s", nodeName, strings.Join(bad, ", ")))
		}
	case "update":
		oldNode, ok := a.Old.(*corev1.Node)
		if newNode == nil || !ok {
			return nodeRestrictionForbidden(a, fmt.Errorf("unexpected type %T", a.Object))
		}
		if newNode.Spec.ConfigSource != nil && !equality.Semantic.DeepEqual(newNode.Spec.ConfigSource, oldNode.Spec.ConfigSource) {
			return nodeRestrictionForbidden(a, fmt.Errorf("node %q is not allowed to update configSource to a new non-nil configSource", nodeName))
		}
		// Removing a taint would let the node attract pods kept off it.
		if !equality.Semantic.DeepEqual(newNode.Spec.Taints, oldNode.Spec.Taints) {
			return nodeRestrictionForbidden(a, fmt.Errorf("node %q is not allowed to modify taints", nodeName))
		}
		if bad := nodeForbiddenLabels(newNode.Labels, oldNode.Labels); len(bad) > 0 {
			return nodeRestrictionForbidden(a, fmt.Errorf("is not allowed to modify labels: %s", strings.Join(bad, ", ")))
		}
	}
	return nil
}

// nodeSelfLabels are the kubernetes.io labels a node may set on itself;
// nodeSelfLabelDomains are label domains (with their subdomains) it may
// use freely. Both come from the NodeRestriction documentation.
var (
	nodeSelfLabels = []string{
		corev1.LabelHostname,
		corev1.LabelTopologyZone,
		corev1.LabelTopologyRegion,
		corev1.LabelFailureDomainBetaZone,
		corev1.LabelFailureDomainBetaRegion,
		corev1.LabelInstanceType,
		corev1.LabelInstanceTypeStable,
		corev1.LabelOSStable,
		corev1.LabelArchStable,
		"beta.kubernetes.io/os",
		"beta.kubernetes.io/arch",
	}
	nodeSelfLabelDomains = []string{"kubelet.kubernetes.io", "node.kubernetes.io"}
)

// nodeForbiddenLabels returns, sorted, the label keys that differ between
// the two sets (added, removed or changed) and that a node may not set:
// the node-restriction.kubernetes.io domain, which admins use to place
// workloads on trusted nodes, and any other kubernetes.io or k8s.io label
// outside the documented self-labels.
func nodeForbiddenLabels(newLabels, oldLabels map[string]string) []string {
	var bad []string
	check := func(key string) {
		if slices.Contains(bad, key) {
			return
		}
		domain, _, hasDomain := strings.Cut(key, "/")
		if !hasDomain {
			return
		}
		switch {
		case nodeLabelInDomain(domain, corev1.LabelNamespaceNodeRestriction):
			bad = append(bad, key)
		case nodeLabelInDomain(domain, "kubernetes.io") || nodeLabelInDomain(domain, "k8s.io"):
			if !slices.Contains(nodeSelfLabels, key) && !slices.ContainsFunc(nodeSelfLabelDomains, func(d string) bool { return nodeLabelInDomain(domain, d) }) {
				bad = append(bad, key)
			}
		}
	}
	for k, v := range newLabels {
		if old, ok := oldLabels[k]; !ok || old != v {
			check(k)
		}
	}
	for k := range oldLabels {
		if _, ok := newLabels[k]; !ok {
			check(k)
		}
	}
	slices.Sort(bad)
	return bad
}

// nodeLabelInDomain reports whether domain is parent or one of its
// subdomains.
func nodeLabelInDomain(domain, parent string) bool {
	return domain == parent || strings.HasSuffix(domain, "."+parent)
}

// admitNodeToken lets a node request service account tokens only when they
// are bound to a pod that runs on it, so a stolen token dies with the pod.
func (p *NodeRestriction) admitNodeToken(nodeName string, a *apiserver.Attributes) error {
	if a.Verb != "create" || a.Subresource != "token" {
		return nil
	}
	tr, ok := a.Object.(*authenticationv1.TokenRequest)
	if !ok {
		return nodeRestrictionForbidden(a, fmt.Errorf("unexpected type %T", a.Object))
	}
	ref := tr.Spec.BoundObjectRef
	if ref == nil || ref.APIVersion != "v1" || ref.Kind != "Pod" || ref.Name == "" {
		return nodeRestrictionForbidden(a, fmt.Errorf("node requested token not bound to a pod"))
	}
	if ref.UID == "" {
		return nodeRestrictionForbidden(a, fmt.Errorf("node requested token with a pod binding without a uid"))
	}
	pod, err := p.GetPod(a.Namespace, ref.Name)
	if apierrors.IsNotFound(err) {
		return err
	}
	if err != nil {
		return nodeRestrictionForbidden(a, fmt.Errorf("looking up pod %s/%s: %w", a.Namespace, ref.Name, err))
	}
	if ref.UID != pod.UID {
		return nodeRestrictionForbidden(a, fmt.Errorf("the UID in the bound object reference (%s) does not match the UID in record. The object might have been deleted and then recreated", ref.UID))
	}
	if pod.Spec.NodeName != nodeName {
		return nodeRestrictionForbidden(a, fmt.Errorf("node requested token bound to a pod scheduled on a different node"))
	}
	return nil
}

// admitNodeLease lets a node write only its own Lease in kube-node-lease.
// Its owner references, when the write sets or changes them, may only name
// the node's own Node (by UID too), so that the node cannot tie its lease's
// lifetime to, or block the deletion of, another object.
func (p *NodeRestriction) admitNodeLease(nodeName string, a *apiserver.Attributes) error {
	if a.Namespace != corev1.NamespaceNodeLease {
		return nodeRestrictionForbidden(a, fmt.Errorf("can only access leases in the %q system namespace", corev1.NamespaceNodeLease))
	}
	lease, _ := a.Object.(*coordinationv1.Lease)
	name := a.Name
	if a.Verb == "create" {
		if lease == nil {
			return nodeRestrictionForbidden(a, fmt.Errorf("unexpected type %T", a.Object))
		}
		name = lease.Name
	}
	if name != nodeName {
		return nodeRestrictionForbidden(a, fmt.Errorf("can only access node lease with the same name as the requesting node"))
	}
	if lease == nil {
		return nil
	}
	if old, ok := a.Old.(*coordinationv1.Lease); ok && equality.Semantic.DeepEqual(old.OwnerReferences, lease.OwnerReferences) {
		return nil
	}
	return p.checkNodeLeaseOwners(nodeName, a, lease)
}

func (p *NodeRestriction) checkNodeLeaseOwners(nodeName string, a *apiserver.Attributes, lease *coordinationv1.Lease) error {
	for _, o := range lease.OwnerReferences {
		if o.APIVersion != "v1" || o.Kind != "Node" || o.Name != nodeName {
			return nodeRestrictionForbidden(a, fmt.Errorf("node %q can only create leases with an owner reference set to itself", nodeName))
		}
		node, err := p.GetNode(nodeName)
		if apierrors.IsNotFound(err) {
			return err
		}
		if err != nil {
			return nodeRestrictionForbidden(a, fmt.Errorf("error looking up node %s to verify uid: %w", nodeName, err))
		}
		if o.UID != node.UID {
			return nodeRestrictionForbidden(a, fmt.Errorf("node %s UID mismatch: expected %s got %s", nodeName, o.UID, node.UID))
		}
	}
	return nil
}

// admitNodeCSINode lets a node write only its own CSINode.
func admitNodeCSINode(nodeName string, a *apiserver.Attributes) error {
	name := a.Name
	if a.Verb == "create" {
		m, err := meta.Accessor(a.Object)
		if err != nil {
			return nodeRestrictionForbidden(a, fmt.Errorf("unable to access the object name"))
		}
		name = m.GetName()
	}
	if name != nodeName {
		return nodeRestrictionForbidden(a, fmt.Errorf("can only access CSINode with the same name as the requesting node"))
	}
	return nil
}

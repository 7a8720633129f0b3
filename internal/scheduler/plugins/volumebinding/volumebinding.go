// Package volumebinding is a light VolumeBinding plugin: a pod's
// PersistentVolumeClaims must exist; a bound claim's PersistentVolume node
// affinity must match the node; an unbound claim is acceptable only if its
// StorageClass binds on first consumer (WaitForFirstConsumer), in which
// case a static class (no provisioner) needs an available matching volume
// on the node, and a dynamic class gets the chosen node in the claim's
// volume.kubernetes.io/selected-node annotation before the pod is bound.
// It does not bind volumes to claims itself.
package volumebinding

import (
	"context"
	"fmt"

	"github.com/skiff-io/skiff/internal/scheduler/framework"
	"github.com/skiff-io/skiff/internal/scheduler/plugins/helper"
	v1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	storagelisters "k8s.io/client-go/listers/storage/v1"
)

// Name is the plugin name.
const Name = "VolumeBinding"

// Kubernetes' reasons.
const (
	ErrReasonBindConflict     = "node(s) didn't find available persistent volumes to bind"
	ErrReasonNodeConflict     = "node(s) had volume node affinity conflict"
	ErrReasonUnboundImmediate = "pod has unbound immediate PersistentVolumeClaims"
	AnnSelectedNode           = "volume.kubernetes.io/selected-node"
	noProvisioner             = "kubernetes.io/no-provisioner"
	preFilterKey              = "PreFilter" + Name
)

// Listers are the objects the plugin reads; any may be nil (then the
// plugin only checks that the pod has no claims).
type Listers struct {
	Claims  corelisters.PersistentVolumeClaimLister
	Volumes corelisters.PersistentVolumeLister
	Classes storagelisters.StorageClassLister
}

// VolumeBinding is the plugin.
type VolumeBinding struct {
	listers Listers
	client  kubernetes.Interface
}

// New returns the plugin; client (may be nil) annotates claims in PreBind.
func New(l Listers, client kubernetes.Interface) *VolumeBinding {
	return &VolumeBinding{listers: l, client: client}
}

// Name implements framework.Plugin.
func (*VolumeBinding) Name() string { return Name }

// EventsToRegister implements framework.EnqueueExtensions.
func (*VolumeBinding) EventsToRegister() []framework.ClusterEvent {
	return []framework.ClusterEvent{framework.NodeAdd, framework.NodeUpdate, framework.VolumeChange}
}

type delayedClaim struct {
	claim   *v1.PersistentVolumeClaim
	class   *storagev1.StorageClass
	dynamic bool
}

type preFilterState struct {
	bound   []*v1.PersistentVolume
	delayed []delayedClaim
}

func (s *preFilterState) Clone() framework.StateData { return s }

// claimNames returns the claims a pod uses, ephemeral volumes included.
func claimNames(pod *v1.Pod) []string {
	var out []string
	for _, v := range pod.Spec.Volumes {
		switch {
		case v.PersistentVolumeClaim != nil:
			out = append(out, v.PersistentVolumeClaim.ClaimName)
		case v.Ephemeral != nil:
			out = append(out, pod.Name+"-"+v.Name)
		}
	}
	return out
}

// PreFilter implements framework.PreFilterPlugin.
func (pl *VolumeBinding) PreFilter(_ context.Context, state *framework.CycleState, pod *framework.PodInfo) (*framework.PreFilterResult, *framework.Status) {
	names := claimNames(pod.Pod)
	if len(names) == 0 {
		return nil, framework.NewStatus(framework.Skip)
	}
	if pl.listers.Claims == nil {
		return nil, framework.NewStatus(framework.Skip)
	}
	s := &preFilterState{}
	unboundImmediate := false
	for _, name := range names {
		pvc, err := pl.listers.Claims.PersistentVolumeClaims(pod.Pod.Namespace).Get(name)
		if apierrors.IsNotFound(err) {
			return nil, framework.NewStatus(framework.UnschedulableAndUnresolvable, fmt.Sprintf("persistentvolumeclaim %q not found", name))
		}
		if err != nil {
			return nil, framework.AsStatus(err)
		}
		if pvc.DeletionTimestamp != nil {
			return nil, framework.NewStatus(framework.UnschedulableAndUnresolvable, fmt.Sprintf("persistentvolumeclaim %q is being deleted", name))
		}
		if pvc.Spec.VolumeName != "" {
			if pl.listers.Volumes == nil {
				continue
			}
			pv, err := pl.listers.Volumes.Get(pvc.Spec.VolumeName)
			if err != nil {
				return nil, framework.NewStatus(framework.UnschedulableAndUnresolvable, fmt.Sprintf("persistentvolume %q not found", pvc.Spec.VolumeName))
			}
			s.bound = append(s.bound, pv)
			continue
		}
		class := pl.classOf(pvc)
		if class == nil || class.VolumeBindingMode == nil || *class.VolumeBindingMode != storagev1.VolumeBindingWaitForFirstConsumer {
			unboundImmediate = true
			continue
		}
		s.delayed = append(s.delayed, delayedClaim{claim: pvc, class: class, dynamic: class.Provisioner != noProvisioner})
	}
	if unboundImmediate {
		return nil, framework.NewStatus(framework.UnschedulableAndUnresolvable, ErrReasonUnboundImmediate)
	}
	state.Write(preFilterKey, s)
	return nil, nil
}

func (pl *VolumeBinding) classOf(pvc *v1.PersistentVolumeClaim) *storagev1.StorageClass {
	if pl.listers.Classes == nil {
		return nil
	}
	name := ""
	if pvc.Spec.StorageClassName != nil {
		name = *pvc.Spec.StorageClassName
	}
	if name == "" {
		return nil
	}
	c, err := pl.listers.Classes.Get(name)
	if err != nil {
		return nil
	}
	return c
}

// Filter implements framework.FilterPlugin.
func (pl *VolumeBinding) Filter(_ context.Context, state *framework.CycleState, _ *framework.PodInfo, ni *framework.NodeInfo) *framework.Status {
	s, ok := state.Read(preFilterKey).(*preFilterState)
	if !ok {
		return framework.AsStatus(fmt.Errorf("%s: missing PreFilter state", Name))
	}
	node := ni.Node()
	for _, pv := range s.bound {
		if !volumeFitsNode(pv, node) {
			return framework.NewStatus(framework.UnschedulableAndUnresolvable, ErrReasonNodeConflict)
		}
	}
	for _, d := range s.delayed {
		if d.dynamic {
			if !classAllowsNode(d.class, node) {
				return framework.NewStatus(framework.UnschedulableAndUnresolvable, ErrReasonBindConflict)
			}
			continue
		}
		if !pl.availableVolume(d.claim, node) {
			return framework.NewStatus(framework.UnschedulableAndUnresolvable, ErrReasonBindConflict)
		}
	}
	return nil
}

func volumeFitsNode(pv *v1.PersistentVolume, node *v1.Node) bool {
	if pv.Spec.NodeAffinity == nil || pv.Spec.NodeAffinity.Required == nil {
		return true
	}
	for i := range pv.Spec.NodeAffinity.Required.NodeSelectorTerms {
		t := helper.ParseNodeSelectorTerm(&pv.Spec.NodeAffinity.Required.NodeSelectorTerms[i])
		if t.Match(node) {
			return true
		}
	}
	return false
}

func classAllowsNode(c *storagev1.StorageClass, node *v1.Node) bool {
	if len(c.AllowedTopologies) == 0 {
		return true
	}
	for _, term := range c.AllowedTopologies {
		ok := true
		for _, e := range term.MatchLabelExpressions {
			v, has := node.Labels[e.Key]
			found := false
			for _, want := range e.Values {
				if has && v == want {
					found = true
				}
			}
			ok = ok && found
		}
		if ok {
			return true
		}
	}
	return false
}

// availableVolume reports whether an unbound volume of the claim's class,
// large enough and with the claim's access modes, can be used on node.
func (pl *VolumeBinding) availableVolume(pvc *v1.PersistentVolumeClaim, node *v1.Node) bool {
	if pl.listers.Volumes == nil {
		return false
	}
	pvs, err := pl.listers.Volumes.List(labels.Everything())
	if err != nil {
		return false
	}
	want := pvc.Spec.Resources.Requests[v1.ResourceStorage]
	class := ""
	if pvc.Spec.StorageClassName != nil {
		class = *pvc.Spec.StorageClassName
	}
	for _, pv := range pvs {
		if pv.Spec.ClaimRef != nil && (pv.Spec.ClaimRef.Namespace != pvc.Namespace || pv.Spec.ClaimRef.Name != pvc.Name) {
			continue
		}
		if pv.Status.Phase != "" && pv.Status.Phase != v1.VolumeAvailable && pv.Spec.ClaimRef == nil {
			continue
		}
		if pv.Spec.StorageClassName != class {
			continue
		}
		have := pv.Spec.Capacity[v1.ResourceStorage]
		if have.Cmp(want) < 0 || !hasModes(pv.Spec.AccessModes, pvc.Spec.AccessModes) {
			continue
		}
		if volumeFitsNode(pv, node) {
			return true
		}
	}
	return false
}

func hasModes(have, want []v1.PersistentVolumeAccessMode) bool {
	for _, w := range want {
		found := false
		for _, h := range have {
			found = found || h == w
		}
		if !found {
			return false
		}
	}
	return true
}

// PreBind implements framework.PreBindPlugin: dynamically provisioned
// claims waiting for a consumer get the chosen node in their
// volume.kubernetes.io/selected-node annotation.
func (pl *VolumeBinding) PreBind(ctx context.Context, state *framework.CycleState, _ *v1.Pod, nodeName string) *framework.Status {
	s, ok := state.Read(preFilterKey).(*preFilterState)
	if !ok || pl.client == nil {
		return nil
	}
	for _, d := range s.delayed {
		if !d.dynamic || d.claim.Annotations[AnnSelectedNode] == nodeName {
			continue
		}
		patch := fmt.Appendf(nil, `{"metadata":{"annotations":{%q:%q}}}`, AnnSelectedNode, nodeName)
		_, err := pl.client.CoreV1().PersistentVolumeClaims(d.claim.Namespace).Patch(ctx, d.claim.Name, types.MergePatchType, patch, metav1.PatchOptions{})
		if err != nil {
			return framework.AsStatus(fmt.Errorf("annotating claim %s/%s with the selected node: %w", d.claim.Namespace, d.claim.Name, err))
		}
	}
	return nil
}

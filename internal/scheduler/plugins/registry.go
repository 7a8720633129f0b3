// Package plugins assembles the default plugin set; each plugin lives in
// its own subpackage.
package plugins

import (
	"github.com/skiff-io/skiff/internal/scheduler/framework"
	"github.com/skiff-io/skiff/internal/scheduler/plugins/helper"
	"github.com/skiff-io/skiff/internal/scheduler/plugins/interpodaffinity"
	"github.com/skiff-io/skiff/internal/scheduler/plugins/nodeaffinity"
	"github.com/skiff-io/skiff/internal/scheduler/plugins/nodename"
	"github.com/skiff-io/skiff/internal/scheduler/plugins/nodeports"
	"github.com/skiff-io/skiff/internal/scheduler/plugins/noderesources"
	"github.com/skiff-io/skiff/internal/scheduler/plugins/nodeunschedulable"
	"github.com/skiff-io/skiff/internal/scheduler/plugins/podtopologyspread"
	"github.com/skiff-io/skiff/internal/scheduler/plugins/tainttoleration"
	"github.com/skiff-io/skiff/internal/scheduler/plugins/volumebinding"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
)

// Handle is what the default plugins read besides the snapshot; any field
// may be nil (the plugins then behave as if the objects did not exist).
type Handle struct {
	Client     kubernetes.Interface
	Namespaces corelisters.NamespaceLister
	Workloads  helper.WorkloadListers
	Volumes    volumebinding.Listers
}

// Default returns Kubernetes' default plugins with their default score
// weights, in Kubernetes' order (which decides the reason a node reports
// when several filters reject it): NodeUnschedulable, NodeName,
// TaintToleration (3), NodeAffinity (2), NodePorts, NodeResourcesFit (1),
// VolumeBinding, PodTopologySpread (2), InterPodAffinity (2),
// NodeResourcesBalancedAllocation (1).
func Default(h Handle) []framework.PluginSpec {
	return []framework.PluginSpec{
		{Plugin: nodeunschedulable.NodeUnschedulable{}},
		{Plugin: nodename.NodeName{}},
		{Plugin: tainttoleration.TaintToleration{}, Weight: 3},
		{Plugin: nodeaffinity.NodeAffinity{}, Weight: 2},
		{Plugin: nodeports.NodePorts{}},
		{Plugin: noderesources.Fit{}, Weight: 1},
		{Plugin: volumebinding.New(h.Volumes, h.Client)},
		{Plugin: podtopologyspread.New(h.Workloads), Weight: 2},
		{Plugin: interpodaffinity.New(h.Namespaces), Weight: 2},
		{Plugin: noderesources.BalancedAllocation{}, Weight: 1},
	}
}

// NewDefaultFramework is NewFramework over Default(h).
func NewDefaultFramework(h Handle, parallelism int) (*framework.Framework, error) {
	return framework.NewFramework(Default(h), parallelism)
}

package storage

import (
	"fmt"
	"strings"
	"time"

	storagev1 "k8s.io/api/storage/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/skiff-io/skiff/internal/registry"
)

const (
	maxNodeIDLength     = 192
	maxLongNodeIDLength = 256
	maxCSIDriverName    = 63
)

// CSINodes returns the cluster-scoped storage.k8s.io/v1 CSINode resource,
// named after its node. A driver entry's fields other than allocatable
// cannot change once registered.
func CSINodes() *registry.Resource {
	return &registry.Resource{
		Group:      groupName,
		Version:    "v1",
		Resource:   "csinodes",
		Kind:       "CSINode",
		Singular:   "csinode",
		Namespaced: false,
		New:        func() runtime.Object { return &storagev1.CSINode{} },
		NewList:    func() runtime.Object { return &storagev1.CSINodeList{} },
		Strategy:   csiNodeStrategy{now: time.Now},
	}
}

type csiNodeStrategy struct {
	registry.DefaultStrategy
	now clock
}

var _ registry.TableConvertor = csiNodeStrategy{}

func (csiNodeStrategy) Validate(obj runtime.Object) field.ErrorList {
	n, ok := obj.(*storagev1.CSINode)
	if !ok {
		return wrongType(obj)
	}
	return validateCSINodeDrivers(n.Spec.Drivers, maxNodeIDLength, field.NewPath("spec", "drivers"))
}

func (csiNodeStrategy) ValidateUpdate(obj, old runtime.Object) field.ErrorList {
	n, ok1 := obj.(*storagev1.CSINode)
	prev, ok2 := old.(*storagev1.CSINode)
	if !ok1 || !ok2 {
		return wrongType(obj)
	}
	// Node IDs longer than today's limit were once accepted; keep objects
	// holding one updatable.
	limit := maxNodeIDLength
	for _, d := range prev.Spec.Drivers {
		if len(d.NodeID) > maxNodeIDLength {
			limit = maxLongNodeIDLength
		}
	}
	dp := field.NewPath("spec", "drivers")
	errs := validateCSINodeDrivers(n.Spec.Drivers, limit, dp)
	for _, od := range prev.Spec.Drivers {
		for _, nd := range n.Spec.Drivers {
			if od.Name != nd.Name {
				continue
			}
			// Allocatable counts may be refreshed by the kubelet.
			a, b := od.DeepCopy(), nd.DeepCopy()
			a.Allocatable, b.Allocatable = nil, nil
			errs = append(errs, apivalidation.ValidateImmutableField(*b, *a, dp)...)
		}
	}
	return errs
}

func validateCSINodeDrivers(drivers []storagev1.CSINodeDriver, idLimit int, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	names := map[string]bool{}
	for i, d := range drivers {
		dp := p.Index(i)
		errs = append(errs, validateCSIDriverName(d.Name, dp.Child("name"))...)
		ip := dp.Child("nodeID")
		if d.NodeID == "" {
			errs = append(errs, field.Required(ip, ""))
		}
		if len(d.NodeID) > idLimit {
			errs = append(errs, field.Invalid(ip, d.NodeID, fmt.Sprintf("must be %d characters or less", idLimit)))
		}
		if d.Allocatable != nil && d.Allocatable.Count != nil {
			errs = append(errs, apivalidation.ValidateNonnegativeField(int64(*d.Allocatable.Count), dp.Child("allocatable", "count"))...)
		}
		if names[d.Name] {
			errs = append(errs, field.Duplicate(dp.Child("name"), d.Name))
		}
		names[d.Name] = true
		keys := map[string]bool{}
		for _, k := range d.TopologyKeys {
			if k == "" {
				errs = append(errs, field.Required(dp, k))
			}
			if keys[k] {
				errs = append(errs, field.Duplicate(dp, k))
			}
			keys[k] = true
			for _, msg := range validation.IsQualifiedName(k) {
				errs = append(errs, field.Invalid(dp, k, msg))
			}
		}
	}
	return errs
}

// validateCSIDriverName checks a CSI driver name as used by CSINode and
// VolumeAttachment: a DNS subdomain (case-insensitively) of at most 63
// characters.
func validateCSIDriverName(name string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if name == "" {
		errs = append(errs, field.Required(p, ""))
	}
	if len(name) > maxCSIDriverName {
		errs = append(errs, field.TooLong(p, "", maxCSIDriverName))
	}
	for _, msg := range validation.IsDNS1123Subdomain(strings.ToLower(name)) {
		errs = append(errs, field.Invalid(p, name, msg))
	}
	return errs
}

func (csiNodeStrategy) TableColumns() []metav1.TableColumnDefinition {
	return []metav1.TableColumnDefinition{
		nameColumn(),
		{Name: "Drivers", Type: "integer", Description: "Number of CSI drivers registered on the node"},
		ageColumn(),
	}
}

func (s csiNodeStrategy) TableRow(obj runtime.Object) []interface{} {
	n, ok := obj.(*storagev1.CSINode)
	if !ok {
		return nil
	}
	return []interface{}{n.Name, int64(len(n.Spec.Drivers)), age(n.CreationTimestamp, s.now())}
}

package apps

import (
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	extensionsv1beta1 "k8s.io/api/extensions/v1beta1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/skiff-io/skiff/internal/registry"
	"github.com/skiff-io/skiff/internal/registry/podspec"
)

// DaemonSets describes apps/v1 daemon sets, with a status subresource.
func DaemonSets() *registry.Resource {
	return &registry.Resource{
		Group:        "apps",
		Version:      "v1",
		Resource:     "daemonsets",
		Kind:         "DaemonSet",
		Singular:     "daemonset",
		ShortNames:   []string{"ds"},
		Categories:   []string{"all"},
		Namespaced:   true,
		New:          func() runtime.Object { return &appsv1.DaemonSet{} },
		NewList:      func() runtime.Object { return &appsv1.DaemonSetList{} },
		Strategy:     daemonSetStrategy{},
		Subresources: []registry.Subresource{registry.StatusSubresource},
	}
}

// daemonSetStrategy implements the DaemonSet behaviour of Kubernetes'
// daemonset registry, including the template generation that apps/v1
// carries in the deprecated.daemonset.template.generation annotation.
type daemonSetStrategy struct {
	now Clock
}

var (
	_ registry.Strategy       = daemonSetStrategy{}
	_ registry.StatusStrategy = daemonSetStrategy{}
	_ registry.TableConvertor = daemonSetStrategy{}
)

// Default sets a RollingUpdate strategy (maxUnavailable 1, maxSurge 0) and 10
// revisions of history, and defaults the pod template.
func (daemonSetStrategy) Default(obj runtime.Object) {
	ds, ok := obj.(*appsv1.DaemonSet)
	if !ok {
		return
	}
	us := &ds.Spec.UpdateStrategy
	if us.Type == "" {
		us.Type = appsv1.RollingUpdateDaemonSetStrategyType
	}
	if us.Type == appsv1.RollingUpdateDaemonSetStrategyType {
		if us.RollingUpdate == nil {
			us.RollingUpdate = &appsv1.RollingUpdateDaemonSet{}
		}
		if us.RollingUpdate.MaxUnavailable == nil {
			us.RollingUpdate.MaxUnavailable = ptrTo(intstr.FromInt32(1))
		}
		if us.RollingUpdate.MaxSurge == nil {
			us.RollingUpdate.MaxSurge = ptrTo(intstr.FromInt32(0))
		}
	}
	if ds.Spec.RevisionHistoryLimit == nil {
		ds.Spec.RevisionHistoryLimit = ptrTo[int32](10)
	}
	podspec.DefaultPodTemplateSpec(&ds.Spec.Template)
}

// PrepareForCreate clears status and starts both the generation and the
// template generation at 1.
func (daemonSetStrategy) PrepareForCreate(obj runtime.Object) {
	ds, ok := obj.(*appsv1.DaemonSet)
	if !ok {
		return
	}
	ds.Status = appsv1.DaemonSetStatus{}
	ds.Generation = 1
	setTemplateGeneration(ds, 1)
}

// PrepareForUpdate keeps the old status. A template change moves the
// template generation and the generation; other spec changes move only the
// generation. Clients cannot set the template generation themselves.
func (daemonSetStrategy) PrepareForUpdate(obj, old runtime.Object) {
	ds, ok1 := obj.(*appsv1.DaemonSet)
	o, ok2 := old.(*appsv1.DaemonSet)
	if !ok1 || !ok2 {
		return
	}
	ds.Status = o.Status
	gen := templateGeneration(o)
	switch {
	case specChanged(ds.Spec.Template, o.Spec.Template):
		gen++
		ds.Generation = o.Generation + 1
	case specChanged(ds.Spec, o.Spec):
		ds.Generation = o.Generation + 1
	}
	setTemplateGeneration(ds, gen)
}

// Validate checks a new daemon set.
func (daemonSetStrategy) Validate(obj runtime.Object) field.ErrorList {
	ds, ok := obj.(*appsv1.DaemonSet)
	if !ok {
		return wrongType("*v1.DaemonSet", obj)
	}
	return validateDaemonSetSpec(&ds.Spec, field.NewPath("spec"))
}

// ValidateUpdate checks an updated daemon set; apps/v1 selectors are
// immutable.
func (daemonSetStrategy) ValidateUpdate(obj, old runtime.Object) field.ErrorList {
	ds, ok1 := obj.(*appsv1.DaemonSet)
	o, ok2 := old.(*appsv1.DaemonSet)
	if !ok1 || !ok2 {
		return wrongType("*v1.DaemonSet", obj)
	}
	errs := validateDaemonSetSpec(&ds.Spec, field.NewPath("spec"))
	return append(errs, ValidateImmutable(ds.Spec.Selector, o.Spec.Selector, field.NewPath("spec", "selector"))...)
}

// PrepareForStatusUpdate keeps the old spec and its template generation.
func (daemonSetStrategy) PrepareForStatusUpdate(obj, old runtime.Object) {
	ds, ok1 := obj.(*appsv1.DaemonSet)
	o, ok2 := old.(*appsv1.DaemonSet)
	if !ok1 || !ok2 {
		return
	}
	ds.Spec = o.Spec
	setTemplateGeneration(ds, templateGeneration(o))
}

// ValidateStatusUpdate checks the counters of a daemon set status.
func (daemonSetStrategy) ValidateStatusUpdate(obj, old runtime.Object) field.ErrorList {
	ds, ok1 := obj.(*appsv1.DaemonSet)
	o, ok2 := old.(*appsv1.DaemonSet)
	if !ok1 || !ok2 {
		return wrongType("*v1.DaemonSet", obj)
	}
	p := field.NewPath("status")
	st := &ds.Status
	var errs field.ErrorList
	for _, c := range []struct {
		name string
		v    int32
	}{
		{"currentNumberScheduled", st.CurrentNumberScheduled},
		{"numberMisscheduled", st.NumberMisscheduled},
		{"desiredNumberScheduled", st.DesiredNumberScheduled},
		{"numberReady", st.NumberReady},
	} {
		errs = append(errs, ValidateNonnegative(int64(c.v), p.Child(c.name))...)
	}
	errs = append(errs, ValidateNonnegative(st.ObservedGeneration, p.Child("observedGeneration"))...)
	errs = append(errs, ValidateNonnegative(int64(st.UpdatedNumberScheduled), p.Child("updatedNumberScheduled"))...)
	errs = append(errs, ValidateNonnegative(int64(st.NumberAvailable), p.Child("numberAvailable"))...)
	errs = append(errs, ValidateNonnegative(int64(st.NumberUnavailable), p.Child("numberUnavailable"))...)
	return append(errs, validateCollisionCount(st.CollisionCount, o.Status.CollisionCount, p.Child("collisionCount"))...)
}

// TableColumns are kubectl's daemon set columns.
func (daemonSetStrategy) TableColumns() []metav1.TableColumnDefinition {
	st := extensionsv1beta1.DaemonSetStatus{}.SwaggerDoc()
	cols := []metav1.TableColumnDefinition{
		NameColumn(),
		{Name: "Desired", Type: "integer", Description: st["desiredNumberScheduled"]},
		{Name: "Current", Type: "integer", Description: st["currentNumberScheduled"]},
		{Name: "Ready", Type: "integer", Description: st["numberReady"]},
		{Name: "Up-to-date", Type: "integer", Description: st["updatedNumberScheduled"]},
		{Name: "Available", Type: "integer", Description: st["numberAvailable"]},
		{Name: "Node Selector", Type: "string", Description: corev1.PodSpec{}.SwaggerDoc()["nodeSelector"]},
		AgeColumn(),
	}
	cols = append(cols, ContainerColumns()...)
	return append(cols, metav1.TableColumnDefinition{Name: "Selector", Type: "string", Priority: 1, Description: extensionsv1beta1.DaemonSetSpec{}.SwaggerDoc()["selector"]})
}

// TableRow prints the scheduling counters and the template's node selector.
func (s daemonSetStrategy) TableRow(obj runtime.Object) []interface{} {
	ds, ok := obj.(*appsv1.DaemonSet)
	if !ok {
		return nil
	}
	st := ds.Status
	names, images := ContainerCells(ds.Spec.Template.Spec.Containers)
	return []interface{}{
		ds.Name,
		int64(st.DesiredNumberScheduled), int64(st.CurrentNumberScheduled), int64(st.NumberReady),
		int64(st.UpdatedNumberScheduled), int64(st.NumberAvailable),
		labels.FormatLabels(ds.Spec.Template.Spec.NodeSelector),
		FormatAge(ds.CreationTimestamp, s.now.Now()),
		names, images, metav1.FormatLabelSelector(ds.Spec.Selector),
	}
}

// templateGeneration reads the template generation an apps/v1 daemon set
// carries in its annotations; missing or malformed counts as 0.
func templateGeneration(ds *appsv1.DaemonSet) int64 {
	n, err := strconv.ParseInt(ds.Annotations[appsv1.DeprecatedTemplateGeneration], 10, 64)
	if err != nil {
		return 0
	}
	return n
}

// setTemplateGeneration records gen in the daemon set's annotations, on a
// fresh map so that a map shared with another object is never written.
func setTemplateGeneration(ds *appsv1.DaemonSet, gen int64) {
	a := make(map[string]string, len(ds.Annotations)+1)
	for k, v := range ds.Annotations {
		a[k] = v
	}
	a[appsv1.DeprecatedTemplateGeneration] = strconv.FormatInt(gen, 10)
	ds.Annotations = a
}

// validateDaemonSetSpec checks selector, template, timing and the update
// strategy of a daemon set.
func validateDaemonSetSpec(spec *appsv1.DaemonSetSpec, fldPath *field.Path) field.ErrorList {
	selPath := fldPath.Child("selector")
	errs := metav1validation.ValidateLabelSelector(spec.Selector, metav1validation.LabelSelectorValidationOptions{}, selPath)
	errs = append(errs, selectorMatchesTemplate(spec.Selector, spec.Template.Labels, fldPath.Child("template", "metadata", "labels"))...)
	if spec.Selector != nil && len(spec.Selector.MatchLabels)+len(spec.Selector.MatchExpressions) == 0 {
		errs = append(errs, field.Invalid(selPath, spec.Selector, "empty selector is invalid for daemonset"))
	}
	errs = append(errs, podspec.ValidatePodTemplateSpec(&spec.Template, fldPath.Child("template"))...)
	errs = append(errs, validateAlwaysRestart(&spec.Template, "DaemonSet", fldPath.Child("template", "spec"))...)
	errs = append(errs, ValidateNonnegative(int64(spec.MinReadySeconds), fldPath.Child("minReadySeconds"))...)
	errs = append(errs, validateDaemonSetUpdateStrategy(&spec.UpdateStrategy, fldPath.Child("updateStrategy"))...)
	if spec.RevisionHistoryLimit != nil {
		errs = append(errs, ValidateNonnegative(int64(*spec.RevisionHistoryLimit), fldPath.Child("revisionHistoryLimit"))...)
	}
	return errs
}

// validateDaemonSetUpdateStrategy checks the strategy type and the rolling
// update bounds: exactly one of maxUnavailable and maxSurge non-zero.
func validateDaemonSetUpdateStrategy(s *appsv1.DaemonSetUpdateStrategy, fldPath *field.Path) field.ErrorList {
	switch s.Type {
	case appsv1.OnDeleteDaemonSetStrategyType:
		return nil
	case appsv1.RollingUpdateDaemonSetStrategyType:
		if s.RollingUpdate == nil {
			return field.ErrorList{field.Required(fldPath.Child("rollingUpdate"), "")}
		}
	default:
		return field.ErrorList{field.NotSupported(fldPath, s, []string{
			string(appsv1.RollingUpdateDaemonSetStrategyType), string(appsv1.OnDeleteDaemonSetStrategyType),
		})}
	}
	p := fldPath.Child("rollingUpdate")
	mu, ms := derefIntOrString(s.RollingUpdate.MaxUnavailable), derefIntOrString(s.RollingUpdate.MaxSurge)
	errs := ValidatePositiveIntOrPercent(mu, p.Child("maxUnavailable"))
	errs = append(errs, ValidatePositiveIntOrPercent(ms, p.Child("maxSurge"))...)
	errs = append(errs, IsNotMoreThan100Percent(mu, p.Child("maxUnavailable"))...)
	errs = append(errs, IsNotMoreThan100Percent(ms, p.Child("maxSurge"))...)
	hasUnavailable, hasSurge := intOrPercentValue(mu) != 0, intOrPercentValue(ms) != 0
	switch {
	case hasUnavailable && hasSurge:
		errs = append(errs, field.Invalid(p.Child("maxSurge"), ms, "may not be set when maxUnavailable is non-zero"))
	case !hasUnavailable && !hasSurge:
		errs = append(errs, field.Required(p.Child("maxUnavailable"), "cannot be 0 when maxSurge is 0"))
	}
	return errs
}

package scheduling

import (
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/skiff-io/skiff/internal/registry"
)

const (
	// HighestUserDefinablePriority is the largest value a PriorityClass not
	// reserved for the system may have.
	HighestUserDefinablePriority = int32(1000000000)
	// SystemCriticalPriority is the base value of the system classes.
	SystemCriticalPriority = 2 * HighestUserDefinablePriority
	// SystemPriorityClassPrefix starts the names reserved to system classes.
	SystemPriorityClassPrefix = "system-"
)

// SystemPriorityClasses returns the classes every cluster has and that are
// the only ones allowed to use the "system-" prefix: system-node-critical
// and system-cluster-critical. The API server is expected to create them at
// startup.
func SystemPriorityClasses() []*schedulingv1.PriorityClass {
	policy := corev1.PreemptLowerPriority
	mk := func(name string, value int32, desc string) *schedulingv1.PriorityClass {
		p := policy
		return &schedulingv1.PriorityClass{
			ObjectMeta:       metav1.ObjectMeta{Name: name},
			Value:            value,
			Description:      desc,
			PreemptionPolicy: &p,
		}
	}
	return []*schedulingv1.PriorityClass{
		mk("system-node-critical", SystemCriticalPriority+1000, "For system-critical pods that must stay on the node they run on."),
		mk("system-cluster-critical", SystemCriticalPriority, "For system-critical pods that must run in the cluster but may move between nodes."),
	}
}

// PriorityClasses returns the cluster-scoped scheduling.k8s.io/v1
// PriorityClass resource. preemptionPolicy defaults to PreemptLowerPriority;
// value and preemptionPolicy are immutable. Enforcing a single globalDefault
// class needs a lookup of the other classes and is left to admission.
func PriorityClasses() *registry.Resource {
	return &registry.Resource{
		Group:      groupName,
		Version:    "v1",
		Resource:   "priorityclasses",
		Kind:       "PriorityClass",
		Singular:   "priorityclass",
		ShortNames: []string{"pc"},
		Namespaced: false,
		New:        func() runtime.Object { return &schedulingv1.PriorityClass{} },
		NewList:    func() runtime.Object { return &schedulingv1.PriorityClassList{} },
		Strategy:   priorityClassStrategy{now: time.Now},
	}
}

type priorityClassStrategy struct {
	registry.DefaultStrategy
	now clock
}

var _ registry.TableConvertor = priorityClassStrategy{}

func (priorityClassStrategy) Default(obj runtime.Object) {
	pc, ok := obj.(*schedulingv1.PriorityClass)
	if ok && pc.PreemptionPolicy == nil {
		p := corev1.PreemptLowerPriority
		pc.PreemptionPolicy = &p
	}
}

func (priorityClassStrategy) Validate(obj runtime.Object) field.ErrorList {
	pc, ok := obj.(*schedulingv1.PriorityClass)
	if !ok {
		return wrongType(obj)
	}
	var errs field.ErrorList
	if strings.HasPrefix(pc.Name, SystemPriorityClassPrefix) {
		if err := checkSystemClass(pc); err != nil {
			errs = append(errs, field.Forbidden(field.NewPath("metadata", "name"),
				"priority class names with '"+SystemPriorityClassPrefix+"' prefix are reserved for system use only. error: "+err.Error()))
		}
	} else if pc.Value > HighestUserDefinablePriority {
		errs = append(errs, field.Forbidden(field.NewPath("value"),
			fmt.Sprintf("maximum allowed value of a user defined priority is %v", HighestUserDefinablePriority)))
	}
	if pc.PreemptionPolicy != nil {
		errs = append(errs, validatePreemptionPolicy(*pc.PreemptionPolicy, field.NewPath("preemptionPolicy"))...)
	}
	return errs
}

// checkSystemClass accepts a "system-" class only if it is one of the
// built-in classes with exactly its built-in value and globalDefault.
func checkSystemClass(pc *schedulingv1.PriorityClass) error {
	for _, sys := range SystemPriorityClasses() {
		if sys.Name != pc.Name {
			continue
		}
		if sys.Value != pc.Value {
			return fmt.Errorf("value of %v PriorityClass must be %v", sys.Name, sys.Value)
		}
		if sys.GlobalDefault != pc.GlobalDefault {
			return fmt.Errorf("globalDefault of %v PriorityClass must be %v", sys.Name, sys.GlobalDefault)
		}
		return nil
	}
	return fmt.Errorf("%v is not a known system priority class", pc.Name)
}

func validatePreemptionPolicy(p corev1.PreemptionPolicy, fp *field.Path) field.ErrorList {
	switch p {
	case corev1.PreemptLowerPriority, corev1.PreemptNever:
		return nil
	case "":
		return field.ErrorList{field.Required(fp, "")}
	default:
		return field.ErrorList{field.NotSupported(fp, p, []corev1.PreemptionPolicy{corev1.PreemptLowerPriority, corev1.PreemptNever})}
	}
}

func (priorityClassStrategy) ValidateUpdate(obj, old runtime.Object) field.ErrorList {
	pc, ok1 := obj.(*schedulingv1.PriorityClass)
	prev, ok2 := old.(*schedulingv1.PriorityClass)
	if !ok1 || !ok2 {
		return wrongType(obj)
	}
	var errs field.ErrorList
	if pc.Value != prev.Value {
		errs = append(errs, field.Forbidden(field.NewPath("value"), "may not be changed in an update."))
	}
	return append(errs, apivalidation.ValidateImmutableField(pc.PreemptionPolicy, prev.PreemptionPolicy, field.NewPath("preemptionPolicy"))...)
}

func (priorityClassStrategy) TableColumns() []metav1.TableColumnDefinition {
	doc := schedulingv1.PriorityClass{}.SwaggerDoc()
	return []metav1.TableColumnDefinition{
		nameColumn(),
		{Name: "Value", Type: "integer", Description: doc["value"]},
		{Name: "Global-Default", Type: "boolean", Description: doc["globalDefault"]},
		ageColumn(),
		{Name: "PreemptionPolicy", Type: "string", Description: doc["preemptionPolicy"]},
	}
}

func (s priorityClassStrategy) TableRow(obj runtime.Object) []interface{} {
	pc, ok := obj.(*schedulingv1.PriorityClass)
	if !ok {
		return nil
	}
	policy := ""
	if pc.PreemptionPolicy != nil {
		policy = string(*pc.PreemptionPolicy)
	}
	return []interface{}{pc.Name, int64(pc.Value), pc.GlobalDefault, age(pc.CreationTimestamp, s.now()), policy}
}

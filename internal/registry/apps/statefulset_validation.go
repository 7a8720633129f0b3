package apps

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// validateStatefulSetSpec checks a stateful set spec in Kubernetes' order.
func validateStatefulSetSpec(spec *appsv1.StatefulSetSpec, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch spec.PodManagementPolicy {
	case "":
		errs = append(errs, field.Required(fldPath.Child("podManagementPolicy"), ""))
	case appsv1.OrderedReadyPodManagement, appsv1.ParallelPodManagement:
	default:
		errs = append(errs, field.Invalid(fldPath.Child("podManagementPolicy"), spec.PodManagementPolicy,
			fmt.Sprintf("must be '%s' or '%s'", appsv1.OrderedReadyPodManagement, appsv1.ParallelPodManagement)))
	}
	errs = append(errs, validateStatefulSetUpdateStrategy(&spec.UpdateStrategy, fldPath.Child("updateStrategy"))...)
	if spec.RevisionHistoryLimit != nil {
		errs = append(errs, ValidateNonnegative(int64(*spec.RevisionHistoryLimit), fldPath.Child("revisionHistoryLimit"))...)
	}
	if p := spec.PersistentVolumeClaimRetentionPolicy; p != nil {
		pp := fldPath.Child("persistentVolumeClaimRetentionPolicy")
		errs = append(errs, validateRetentionPolicyType(p.WhenDeleted, pp.Child("whenDeleted"))...)
		errs = append(errs, validateRetentionPolicyType(p.WhenScaled, pp.Child("whenScaled"))...)
	}
	errs = append(errs, ValidateNonnegative(int64(replicasOrDefault(spec.Replicas)), fldPath.Child("replicas"))...)
	errs = append(errs, ValidateNonnegative(int64(spec.MinReadySeconds), fldPath.Child("minReadySeconds"))...)
	if spec.Ordinals != nil {
		errs = append(errs, ValidateNonnegative(int64(spec.Ordinals.Start), fldPath.Child("ordinals", "start"))...)
	}

	selPath := fldPath.Child("selector")
	errs = append(errs, validateRequiredSelector(spec.Selector, "statefulset", selPath)...)
	tmplPath := fldPath.Child("template")
	if _, err := metav1.LabelSelectorAsSelector(spec.Selector); err != nil {
		errs = append(errs, field.Invalid(selPath, spec.Selector, ""))
	} else {
		errs = append(errs, selectorMatchesTemplate(spec.Selector, spec.Template.Labels, tmplPath.Child("metadata", "labels"))...)
		// Only the template's metadata is checked: its volume mounts may name
		// volumeClaimTemplates, which a plain pod spec check would reject.
		errs = append(errs, metav1validation.ValidateLabels(spec.Template.Labels, tmplPath.Child("labels"))...)
		errs = append(errs, apimachineryvalidation.ValidateAnnotations(spec.Template.Annotations, tmplPath.Child("annotations"))...)
	}
	return append(errs, validateAlwaysRestart(&spec.Template, "StatefulSet", tmplPath.Child("spec"))...)
}

// validateStatefulSetUpdateStrategy checks the strategy type and the rolling
// update partition and maxUnavailable.
func validateStatefulSetUpdateStrategy(s *appsv1.StatefulSetUpdateStrategy, fldPath *field.Path) field.ErrorList {
	switch s.Type {
	case "":
		return field.ErrorList{field.Required(fldPath, "")}
	case appsv1.OnDeleteStatefulSetStrategyType:
		if s.RollingUpdate != nil {
			return field.ErrorList{field.Invalid(fldPath.Child("rollingUpdate"), s.RollingUpdate,
				fmt.Sprintf("only allowed for updateStrategy '%s'", appsv1.RollingUpdateStatefulSetStrategyType))}
		}
		return nil
	case appsv1.RollingUpdateStatefulSetStrategyType:
	default:
		return field.ErrorList{field.Invalid(fldPath, s,
			fmt.Sprintf("must be '%s' or '%s'", appsv1.RollingUpdateStatefulSetStrategyType, appsv1.OnDeleteStatefulSetStrategyType))}
	}
	ru := s.RollingUpdate
	if ru == nil {
		return nil
	}
	p := fldPath.Child("rollingUpdate")
	var errs field.ErrorList
	if ru.Partition != nil {
		errs = append(errs, ValidateNonnegative(int64(*ru.Partition), p.Child("partition"))...)
	}
	if ru.MaxUnavailable != nil {
		mu := p.Child("maxUnavailable")
		errs = append(errs, ValidatePositiveIntOrPercent(*ru.MaxUnavailable, mu)...)
		if intOrPercentValue(*ru.MaxUnavailable) == 0 {
			errs = append(errs, field.Invalid(mu, *ru.MaxUnavailable, "cannot be 0"))
		}
		errs = append(errs, IsNotMoreThan100Percent(*ru.MaxUnavailable, mu)...)
	}
	return errs
}

// validateRetentionPolicyType accepts Retain and Delete.
func validateRetentionPolicyType(t appsv1.PersistentVolumeClaimRetentionPolicyType, fldPath *field.Path) field.ErrorList {
	switch t {
	case appsv1.RetainPersistentVolumeClaimRetentionPolicyType, appsv1.DeletePersistentVolumeClaimRetentionPolicyType:
		return nil
	}
	return field.ErrorList{field.NotSupported(fldPath, t, []string{
		string(appsv1.RetainPersistentVolumeClaimRetentionPolicyType), string(appsv1.DeletePersistentVolumeClaimRetentionPolicyType),
	})}
}

package apps

import (
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// validateDeploymentSpec checks a deployment spec in Kubernetes' order:
// replicas, selector, template, strategy, then the timing fields.
func validateDeploymentSpec(spec *appsv1.DeploymentSpec, fldPath *field.Path) field.ErrorList {
	errs := ValidateNonnegative(int64(replicasOrDefault(spec.Replicas)), fldPath.Child("replicas"))
	selPath := fldPath.Child("selector")
	errs = append(errs, validateRequiredSelector(spec.Selector, "deployment", selPath)...)
	errs = append(errs, validateReplicaTemplate(spec.Selector, selPath, &spec.Template, "ReplicaSet", fldPath.Child("template"))...)
	errs = append(errs, validateDeploymentStrategy(&spec.Strategy, fldPath.Child("strategy"))...)
	errs = append(errs, ValidateNonnegative(int64(spec.MinReadySeconds), fldPath.Child("minReadySeconds"))...)
	if spec.RevisionHistoryLimit != nil {
		errs = append(errs, ValidateNonnegative(int64(*spec.RevisionHistoryLimit), fldPath.Child("revisionHistoryLimit"))...)
	}
	if spec.ProgressDeadlineSeconds != nil {
		p := fldPath.Child("progressDeadlineSeconds")
		errs = append(errs, ValidateNonnegative(int64(*spec.ProgressDeadlineSeconds), p)...)
		if *spec.ProgressDeadlineSeconds <= spec.MinReadySeconds {
			errs = append(errs, field.Invalid(p, *spec.ProgressDeadlineSeconds, "must be greater than minReadySeconds"))
		}
	}
	return errs
}

// validateDeploymentStrategy checks the strategy type and, for rolling
// updates, the surge and unavailability bounds.
func validateDeploymentStrategy(s *appsv1.DeploymentStrategy, fldPath *field.Path) field.ErrorList {
	switch s.Type {
	case appsv1.RecreateDeploymentStrategyType:
		if s.RollingUpdate != nil {
			return field.ErrorList{field.Forbidden(fldPath.Child("rollingUpdate"), "may not be specified when strategy `type` is 'Recreate'")}
		}
		return nil
	case appsv1.RollingUpdateDeploymentStrategyType:
		if s.RollingUpdate == nil {
			return field.ErrorList{field.Required(fldPath.Child("rollingUpdate"), "this should be defaulted and never be nil")}
		}
		return validateRollingUpdateDeployment(s.RollingUpdate, fldPath.Child("rollingUpdate"))
	default:
		return field.ErrorList{field.NotSupported(fldPath, s, []string{
			string(appsv1.RecreateDeploymentStrategyType), string(appsv1.RollingUpdateDeploymentStrategyType),
		})}
	}
}

// validateRollingUpdateDeployment requires valid counts or percentages, not
// both zero, and maxUnavailable at most 100%.
func validateRollingUpdateDeployment(ru *appsv1.RollingUpdateDeployment, fldPath *field.Path) field.ErrorList {
	maxUnavailable, maxSurge := derefIntOrString(ru.MaxUnavailable), derefIntOrString(ru.MaxSurge)
	muPath := fldPath.Child("maxUnavailable")
	errs := ValidatePositiveIntOrPercent(maxUnavailable, muPath)
	errs = append(errs, ValidatePositiveIntOrPercent(maxSurge, fldPath.Child("maxSurge"))...)
	if intOrPercentValue(maxUnavailable) == 0 && intOrPercentValue(maxSurge) == 0 {
		errs = append(errs, field.Invalid(muPath, maxUnavailable, "may not be 0 when `maxSurge` is 0"))
	}
	return append(errs, IsNotMoreThan100Percent(maxUnavailable, muPath)...)
}

// validateDeploymentStatus checks that counters are non-negative and
// consistent with each other.
func validateDeploymentStatus(st *appsv1.DeploymentStatus, fldPath *field.Path) field.ErrorList {
	errs := ValidateNonnegative(st.ObservedGeneration, fldPath.Child("observedGeneration"))
	for _, c := range []struct {
		name string
		v    int32
	}{
		{"replicas", st.Replicas},
		{"updatedReplicas", st.UpdatedReplicas},
		{"readyReplicas", st.ReadyReplicas},
		{"availableReplicas", st.AvailableReplicas},
		{"unavailableReplicas", st.UnavailableReplicas},
	} {
		errs = append(errs, ValidateNonnegative(int64(c.v), fldPath.Child(c.name))...)
	}
	if st.TerminatingReplicas != nil {
		errs = append(errs, ValidateNonnegative(int64(*st.TerminatingReplicas), fldPath.Child("terminatingReplicas"))...)
	}
	if st.UpdatedReplicas > st.Replicas {
		errs = append(errs, field.Invalid(fldPath.Child("updatedReplicas"), st.UpdatedReplicas, greaterThanReplicas))
	}
	if st.ReadyReplicas > st.Replicas {
		errs = append(errs, field.Invalid(fldPath.Child("readyReplicas"), st.ReadyReplicas, greaterThanReplicas))
	}
	if st.AvailableReplicas > st.Replicas {
		errs = append(errs, field.Invalid(fldPath.Child("availableReplicas"), st.AvailableReplicas, greaterThanReplicas))
	}
	if st.AvailableReplicas > st.ReadyReplicas {
		errs = append(errs, field.Invalid(fldPath.Child("availableReplicas"), st.AvailableReplicas, "cannot be greater than readyReplicas"))
	}
	return errs
}

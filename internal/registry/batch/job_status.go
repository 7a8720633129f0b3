package batch

import (
	"fmt"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/skiff-io/skiff/internal/registry/apps"
)

// conditionTrue reports whether the conditions hold t with status True.
func conditionTrue(conds []batchv1.JobCondition, t batchv1.JobConditionType) bool {
	for _, c := range conds {
		if c.Type == t && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}

func jobComplete(j *batchv1.Job) bool { return conditionTrue(j.Status.Conditions, batchv1.JobComplete) }
func jobFailed(j *batchv1.Job) bool   { return conditionTrue(j.Status.Conditions, batchv1.JobFailed) }
func jobFinished(j *batchv1.Job) bool { return jobComplete(j) || jobFailed(j) }

func successCriteriaMet(j *batchv1.Job) bool {
	return conditionTrue(j.Status.Conditions, batchv1.JobSuccessCriteriaMet)
}

func failureTarget(j *batchv1.Job) bool {
	return conditionTrue(j.Status.Conditions, batchv1.JobFailureTarget)
}

// validateJobStatusUpdate checks a job status the way Kubernetes does once
// jobs may be managed by outside controllers: counters and conditions must
// stay consistent, and most rules only fire when the fields they concern
// change, so that a status written before a spec change can still be fixed.
func validateJobStatusUpdate(j, old *batchv1.Job) field.ErrorList {
	p := field.NewPath("status")
	st, ost := &j.Status, &old.Status
	errs := validateJobStatusCounters(st, p)

	finishedChanged := jobFinished(old) != jobFinished(j)
	completeChanged := jobComplete(old) != jobComplete(j)
	failedChanged := jobFailed(old) != jobFailed(j)
	failureTargetChanged := failureTarget(old) != failureTarget(j)
	completedIdxChanged := ost.CompletedIndexes != st.CompletedIndexes
	failedIdxChanged := specChanged(ost.FailedIndexes, st.FailedIndexes)
	startChanged := specChanged(ost.StartTime, st.StartTime)
	completionChanged := specChanged(ost.CompletionTime, st.CompletionTime)
	uncountedChanged := !apiequality.Semantic.DeepEqual(ost.UncountedTerminatedPods, st.UncountedTerminatedPods)
	indexed := deref(j.Spec.CompletionMode, batchv1.NonIndexedCompletion) == batchv1.IndexedCompletion
	completions := deref(j.Spec.Completions, 0)
	conds := p.Child("conditions")

	if (completeChanged || failedChanged) && jobComplete(j) && jobFailed(j) {
		errs = append(errs, field.Invalid(conds, field.OmitValueType{}, "cannot set Complete=True and Failed=true conditions"))
	}
	if (completeChanged || failureTargetChanged) && jobComplete(j) && failureTarget(j) {
		errs = append(errs, field.Invalid(conds, field.OmitValueType{}, "cannot set Complete=True and FailureTarget=true conditions"))
	}
	if completeChanged || completionChanged {
		if st.CompletionTime != nil && !jobComplete(j) {
			errs = append(errs, field.Invalid(p.Child("completionTime"), st.CompletionTime, "cannot set completionTime when there is no Complete=True condition"))
		}
		if st.CompletionTime == nil && jobComplete(j) {
			errs = append(errs, field.Required(p.Child("completionTime"), "completionTime is required for Complete jobs"))
		}
	}
	if (startChanged || completionChanged) && st.StartTime != nil && st.CompletionTime != nil && st.CompletionTime.Before(st.StartTime) {
		errs = append(errs, field.Invalid(p.Child("completionTime"), st.CompletionTime, "completionTime cannot be set before startTime"))
	}
	if (finishedChanged || st.Active != ost.Active) && st.Active > 0 && jobFinished(j) {
		errs = append(errs, field.Invalid(p.Child("active"), st.Active, "active>0 is invalid for finished job"))
	}
	if (finishedChanged || startChanged) && st.StartTime == nil && jobFinished(j) {
		errs = append(errs, field.Required(p.Child("startTime"), "startTime is required for finished job"))
	}
	if (finishedChanged || uncountedChanged) && jobFinished(j) && st.UncountedTerminatedPods != nil &&
		len(st.UncountedTerminatedPods.Failed)+len(st.UncountedTerminatedPods.Succeeded) > 0 {
		errs = append(errs, field.Invalid(p.Child("uncountedTerminatedPods"), st.UncountedTerminatedPods, "uncountedTerminatedPods needs to be empty for finished job"))
	}
	errs = append(errs, validateStatusIndexes(j, completedIdxChanged, failedIdxChanged, indexed, completions, p)...)

	for _, t := range []batchv1.JobConditionType{batchv1.JobFailed, batchv1.JobComplete, batchv1.JobFailureTarget} {
		if conditionTrue(ost.Conditions, t) && !conditionTrue(st.Conditions, t) {
			errs = append(errs, field.Invalid(conds, field.OmitValueType{}, fmt.Sprintf("cannot disable the terminal %s=True condition", t)))
		}
	}
	if st.Failed < ost.Failed {
		errs = append(errs, field.Invalid(p.Child("failed"), st.Failed, "cannot decrease the failed counter"))
	}
	// An indexed job whose completions follow its parallelism may be scaled
	// down, which lowers its succeeded count.
	if (!indexed || completions != deref(j.Spec.Parallelism, 0)) && st.Succeeded < ost.Succeeded {
		errs = append(errs, field.Invalid(p.Child("succeeded"), st.Succeeded, "cannot decrease the succeeded counter"))
	}
	if st.CompletionTime != nil && ost.CompletionTime != nil && !st.CompletionTime.Equal(ost.CompletionTime) {
		errs = append(errs, field.Invalid(p.Child("completionTime"), st.CompletionTime, "completionTime cannot be mutated"))
	}
	if startChanged && ost.StartTime != nil && !deref(j.Spec.Suspend, false) {
		errs = append(errs, field.Required(p.Child("startTime"), "startTime cannot be removed for unsuspended job"))
	}
	errs = append(errs, validateSuccessCriteria(j, old, conds)...)
	return errs
}

// validateJobStatusCounters checks non-negative counters and unique,
// non-empty uncounted pod UIDs.
func validateJobStatusCounters(st *batchv1.JobStatus, p *field.Path) field.ErrorList {
	errs := apps.ValidateNonnegative(int64(st.Active), p.Child("active"))
	errs = append(errs, apps.ValidateNonnegative(int64(st.Succeeded), p.Child("succeeded"))...)
	errs = append(errs, apps.ValidateNonnegative(int64(st.Failed), p.Child("failed"))...)
	if st.Ready != nil {
		errs = append(errs, apps.ValidateNonnegative(int64(*st.Ready), p.Child("ready"))...)
	}
	if st.Terminating != nil {
		errs = append(errs, apps.ValidateNonnegative(int64(*st.Terminating), p.Child("terminating"))...)
	}
	if u := st.UncountedTerminatedPods; u != nil {
		up := p.Child("uncountedTerminatedPods")
		seen := sets.New[types.UID]()
		for _, list := range []struct {
			name string
			uids []types.UID
		}{{"succeeded", u.Succeeded}, {"failed", u.Failed}} {
			for i, uid := range list.uids {
				ip := up.Child(list.name).Index(i)
				switch {
				case uid == "":
					errs = append(errs, field.Invalid(ip, uid, "must not be empty"))
				case seen.Has(uid):
					errs = append(errs, field.Duplicate(ip, uid))
				default:
					seen.Insert(uid)
				}
			}
		}
	}
	return errs
}

// validateStatusIndexes checks completed and failed indexes when they change.
func validateStatusIndexes(j *batchv1.Job, completedChanged, failedChanged, indexed bool, completions int32, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	st := &j.Status
	if completedChanged && j.Spec.Completions != nil {
		if _, err := parseIndexes(st.CompletedIndexes, completions); err != nil {
			errs = append(errs, field.Invalid(p.Child("completedIndexes"), st.CompletedIndexes, fmt.Sprintf("error parsing completedIndexes: %s", err)))
		}
	}
	if failedChanged && j.Spec.Completions != nil && j.Spec.BackoffLimitPerIndex != nil && st.FailedIndexes != nil {
		if _, err := parseIndexes(*st.FailedIndexes, completions); err != nil {
			errs = append(errs, field.Invalid(p.Child("failedIndexes"), st.FailedIndexes, fmt.Sprintf("error parsing failedIndexes: %s", err)))
		}
	}
	if completedChanged && st.CompletedIndexes != "" && !indexed {
		errs = append(errs, field.Invalid(p.Child("completedIndexes"), st.CompletedIndexes, "cannot set non-empty completedIndexes when non-indexed completion mode"))
	}
	if failedChanged && j.Spec.BackoffLimitPerIndex == nil && st.FailedIndexes != nil {
		errs = append(errs, field.Invalid(p.Child("failedIndexes"), *st.FailedIndexes, "cannot set non-null failedIndexes when backoffLimitPerIndex is null"))
	}
	if (completedChanged || failedChanged) && j.Spec.Completions != nil && st.FailedIndexes != nil {
		done, err1 := parseIndexes(st.CompletedIndexes, completions)
		failed, err2 := parseIndexes(*st.FailedIndexes, completions)
		if err1 == nil && err2 == nil {
			if i, ok := firstOverlap(done, failed); ok {
				errs = append(errs, field.Invalid(p.Child("failedIndexes"), *st.FailedIndexes, fmt.Sprintf("failedIndexes and completedIndexes overlap at index: %d", i)))
			}
		}
	}
	return errs
}

// validateSuccessCriteria checks the SuccessCriteriaMet condition against
// the other conditions and its own history.
func validateSuccessCriteria(j, old *batchv1.Job, conds *field.Path) field.ErrorList {
	var errs field.ErrorList
	met := successCriteriaMet(j)
	if met && jobFailed(j) {
		errs = append(errs, field.Invalid(conds, field.OmitValueType{}, "cannot set SuccessCriteriaMet=True and Failed=true conditions"))
	}
	if met && failureTarget(j) {
		errs = append(errs, field.Invalid(conds, field.OmitValueType{}, "cannot set SuccessCriteriaMet=True and FailureTarget=true conditions"))
	}
	if j.Spec.SuccessPolicy != nil && !met && jobComplete(j) {
		errs = append(errs, field.Invalid(conds, field.OmitValueType{}, "cannot set Complete=True for Job with SuccessPolicy unless SuccessCriteriaMet=True"))
	}
	if successCriteriaMet(old) && !met {
		errs = append(errs, field.Invalid(conds, field.OmitValueType{}, "cannot disable the SuccessCriteriaMet=True condition"))
	}
	if jobComplete(old) && !successCriteriaMet(old) && met {
		errs = append(errs, field.Invalid(conds, field.OmitValueType{}, "cannot set SuccessCriteriaMet=True for Job already has Complete=true conditions"))
	}
	return errs
}
